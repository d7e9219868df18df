"""Values a real registration export does not carry, derived from what it does (issue 11, items 5 and 6).

A provincial register (企业名称, 统一社会信用代码, 企业类型, 地区 = the city, 注册地址, 经营范围 …) has no
所在区 and no 行业. ``entities`` fills them in, per row, and says how each value was found:

- 所在区: the file's own value; else the USCC's administrative-division characters (3–8) against
  data/xiamen_districts.csv (adcode and legacy_adcodes); else the one Xiamen district whose full name
  (思明区 …) the 注册地址 holds; else 未知. A row of another city — a 35xxxx division outside 3502xx, or a
  地区 naming another city — is never put in a Xiamen district.
- 行业: the file's own value checked against data/sectors.csv (names and aliases; an unknown value becomes
  未分类 and is reported with its count); else the first keyword of data/sector_keywords.csv, in table
  order, found in 经营范围 (a 不含… clause excluded); else 未分类.

Pure functions over pyarrow arrays; ingest calls ``entities`` once per checked chunk.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from functools import cache

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from analytics import normalize as nz
from analytics.settings import PROJECT_ROOT

DATA = PROJECT_ROOT / "data"
DISTRICTS_CSV = DATA / "xiamen_districts.csv"
SECTORS_CSV = DATA / "sectors.csv"
SECTOR_KEYWORDS_CSV = DATA / "sector_keywords.csv"

UNKNOWN_DISTRICT = "未知"
UNCLASSIFIED = "未分类"
XIAMEN_DIVISION = "3502"  # the city's prefix in GB/T 2260
FUJIAN_PREFIX = "35"
XIAMEN_CITY = "厦门"
# How a value was found, as the upload report names it.
BY_FILE_DISTRICT, BY_CODE, BY_ADDRESS = "所在区", "信用代码", "注册地址"
BY_FILE_SECTOR, BY_SCOPE = "行业", "经营范围"
# "道路货物运输（不含危险货物运输）" is not a 危险货物运输 firm: exclusions are dropped before matching.
_EXCLUDED = re.compile(r"[（(]?(?:不含|不包括|除)[^，,；;。）)]*[）)]?")


@cache
def district_codes() -> dict[str, str]:
    """Division code (current and legacy, e.g. 350202 鼓浪屿区 merged into 思明区 in 2003) → district."""
    codes: dict[str, str] = {}
    with open(DISTRICTS_CSV, encoding="utf-8") as f:
        for row in csv.DictReader(f):
            codes[row["adcode"]] = row["district"]
            for legacy in (row.get("legacy_adcodes") or "").split(";"):
                if legacy.strip():
                    codes[legacy.strip()] = row["district"]
    return codes


@cache
def sector_vocabulary() -> dict[str, str]:
    """Normalised sector name or alias → the sector's name."""
    vocabulary: dict[str, str] = {}
    with open(SECTORS_CSV, encoding="utf-8") as f:
        for row in csv.DictReader(f):
            sector = row["sector"].strip()
            for name in (sector, *(row.get("aliases") or "").split(";")):
                if name.strip():
                    vocabulary.setdefault(nz.header_key(name), sector)
    return vocabulary


@cache
def sector_keywords() -> tuple[tuple[str, str], ...]:
    """(keyword, sector) in table order: the first one found in 经营范围 wins."""
    with open(SECTOR_KEYWORDS_CSV, encoding="utf-8") as f:
        return tuple((r["keyword"].strip(), r["sector"].strip()) for r in csv.DictReader(f) if r["keyword"].strip())


def blank_placeholders(values: pa.Array) -> pa.Array:
    """Text cells holding only a placeholder (N/A, 无, /, —, -, 空, null, none …) become empty."""
    placeholder = pc.is_in(pc.utf8_lower(values), value_set=pa.array(sorted(nz.PLACEHOLDERS)))
    return pc.if_else(pc.fill_null(placeholder, False), pa.scalar(None, pa.string()), values)


def _text(parsed: dict, name: str, n: int) -> pd.Series:
    values = parsed.get(name)
    if values is None:
        return pd.Series([None] * n, dtype=object)
    return pd.Series(values.to_pylist(), dtype=object)


def districts(codes: pd.Series, cities: pd.Series, addresses: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(district, how) per row, for rows without a 所在区 of their own."""
    table = district_codes()
    names = sorted(set(table.values()))
    division = codes.fillna("").str[2:8]
    city = cities.fillna("").str.strip()
    other_city = ((city != "") & ~city.str.startswith(XIAMEN_CITY)) | (
        division.str.startswith(FUJIAN_PREFIX) & ~division.str.startswith(XIAMEN_DIVISION)
    )
    by_code = division.map(table).where(~other_city)
    address = addresses.fillna("")
    found = pd.DataFrame({name: address.str.contains(name, regex=False) for name in names})
    unique = found.sum(axis=1) == 1
    by_address = found.idxmax(axis=1).where(unique & ~other_city & by_code.isna()) if names else by_code
    district = by_code.fillna(by_address).fillna(UNKNOWN_DISTRICT)
    how = pd.Series(UNKNOWN_DISTRICT, index=codes.index, dtype=object)
    how[by_address.notna()] = BY_ADDRESS
    how[by_code.notna()] = BY_CODE
    return district, how


def sectors_from_scope(scopes: pd.Series) -> pd.Series:
    """The first keyword's sector found in each 经营范围, or None."""
    text = scopes.fillna("").str.replace(_EXCLUDED, "", regex=True)
    sector = pd.Series([None] * len(scopes), index=scopes.index, dtype=object)
    for keyword, name in sector_keywords():
        sector = sector.where(sector.notna() | ~text.str.contains(keyword, regex=False), name)
    return sector


def entities(parsed: dict, n: int) -> tuple[dict[str, Counter], Counter]:
    """Fill parsed["district"] and parsed["sector"] in place for one chunk of the register.

    Returns ({"district": Counter(how → rows), "sector": Counter(how → rows)}, Counter(unknown 行业 → rows))."""
    own_district = _text(parsed, "district", n)
    derived, how = districts(_text(parsed, "credit_code", n), _text(parsed, "city", n), _text(parsed, "address", n))
    has_own = own_district.notna()
    district = own_district.where(has_own, derived)
    district_how = how.where(~has_own, BY_FILE_DISTRICT)

    own_sector = _text(parsed, "sector", n)
    vocabulary = sector_vocabulary()
    known = own_sector.map(lambda v: None if v is None else vocabulary.get(nz.header_key(v)))
    unknown = own_sector.notna() & known.isna()
    from_scope = sectors_from_scope(_text(parsed, "business_scope", n))
    scope_used = own_sector.isna() & from_scope.notna()
    sector = known.where(known.notna(), from_scope.where(own_sector.isna())).fillna(UNCLASSIFIED)
    sector_how = pd.Series(UNCLASSIFIED, index=own_sector.index, dtype=object)
    sector_how[scope_used] = BY_SCOPE
    sector_how[known.notna()] = BY_FILE_SECTOR

    parsed["district"] = pa.array(district.tolist(), pa.string())
    parsed["sector"] = pa.array(sector.tolist(), pa.string())
    counts = {"district": Counter(district_how.tolist()), "sector": Counter(sector_how.tolist())}
    return counts, Counter(own_sector[unknown].tolist())


def vocabulary_warnings(unknown: Counter) -> list[str]:
    """One Chinese line per unknown 行业 value, most frequent first."""
    return [
        f"行业“{value}”不在行业词表（data/sectors.csv）中，{count:,} 行按“{UNCLASSIFIED}”载入"
        for value, count in sorted(unknown.items(), key=lambda item: (-item[1], item[0]))
    ]


def add_counts(part, counts: dict[str, Counter], unknown: Counter) -> None:
    """Add one chunk's counts to its sheet's (ingest._Part.derived / unknown_sectors)."""
    for column, how in counts.items():
        part.derived.setdefault(column, Counter()).update(how)
    part.unknown_sectors.update(unknown)


def summary(parts) -> tuple[dict[str, dict[str, int]], list[str]]:
    """The upload report's derived counts and vocabulary warnings, over every sheet of the file."""
    derived: dict[str, Counter] = {}
    unknown: Counter = Counter()
    for part in parts:
        for column, how in part.derived.items():
            derived.setdefault(column, Counter()).update(how)
        unknown.update(part.unknown_sectors)
    return {column: dict(how.most_common()) for column, how in derived.items()}, vocabulary_warnings(unknown)
