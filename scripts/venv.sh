# Sourced by start.sh and test.sh: the project's own virtual environment in .venv/ (git-ignored).
#
# Debian 12 and Ubuntu 23.04+ refuse `pip install` into the system Python (PEP 668,
# "externally-managed-environment"), so nothing is installed there: the first python3 >= 3.11 on PATH
# (the system one, pyenv's or conda's) makes .venv/, and the pinned requirements go into it. A second run
# reuses it and installs again only when a requirements file changed (their hash is kept in .venv/).

VENV=.venv

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null 2>&1; then sudo "$@"; else return 1; fi
}

_is_311() { "$1" -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1; }

find_python() {
  local candidate
  for candidate in ${PYTHON:-} python3 python3.13 python3.12 python3.11; do
    if command -v "$candidate" >/dev/null 2>&1 && _is_311 "$candidate"; then
      command -v "$candidate"
      return 0
    fi
  done
  return 1
}

# ensure_venv REQUIREMENTS_FILE: .venv/ exists with everything that file (and the files it includes) pins.
ensure_venv() {
  local requirements=$1 python version stamp want
  if [ ! -x "$VENV/bin/python" ] || ! _is_311 "$VENV/bin/python"; then
    if ! python=$(find_python); then
      echo "错误：需要 Python 3.11 或更高版本（python3）。Debian/Ubuntu 上运行：sudo apt-get install python3 python3-venv" >&2
      exit 1
    fi
    if ! "$python" -c 'import venv, ensurepip' >/dev/null 2>&1; then
      version=$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
      echo "正在安装 python$version-venv（创建虚拟环境所需）……" >&2
      if ! { as_root apt-get update -qq &&
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "python$version-venv" >/dev/null; }; then
        echo "错误：缺少 venv 模块。请运行：sudo apt-get install python3-venv" >&2
        exit 1
      fi
    fi
    rm -rf "$VENV"
    "$python" -m venv "$VENV"
  fi
  stamp="$VENV/.installed-$(basename "$requirements")"
  want=$(cat requirements*.txt | sha256sum | cut -d' ' -f1)
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$requirements"
    echo "$want" >"$stamp"
  fi
}
