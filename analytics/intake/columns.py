"""Cleaning many cells at once with pyarrow, exactly as ``normalize`` cleans one.

Ingestion parses each distinct cell of a column once. In a large export most
distinct cells are free text, names and document numbers: calling
``normalize.clean_text`` on each is what made loading slow. The cells made only
of characters whose NFKC form, case and whitespace pyarrow and Python agree on
(ASCII, Latin-1 signs, general and CJK punctuation, CJK ideographs, full- and
half-width forms) are cleaned here, all at once; every other cell is left to
the per-value function, so the result never depends on which way a cell went.
Credit codes are checked here too (length, alphabet, check character); a code
that fails goes back to ``normalize.parse_credit_code`` for its reason. ID
numbers are masked here too.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from analytics import normalize as nz
from analytics.intake import datasets as ds

# Unicode blocks assigned long before Python's and pyarrow's Unicode versions part: the same NFKC, the
# same upper case (no letter here upper-cases to two), the same whitespace.
_SIMPLE = (
    r"^[\x{0}-\x{7f}\x{a0}-\x{bf}\x{d7}\x{f7}\x{2000}-\x{206f}\x{3000}-\x{303f}\x{4e00}-\x{9fff}\x{ff00}-\x{ffef}]*$"
)
_SPACE = "[" + "".join(f"\\x{{{ord(c):x}}}" for c in nz.WHITESPACE) + "]"
_SPACE_RUN = _SPACE + "+"
BLANK = f"^{_SPACE}*$"  # a cell Python's str.strip() leaves empty
_CODE_SHAPE = "^[" + nz.CODE_ALPHABET + "]{18}$"
_CODE_VALUES = np.full(256, -1, dtype=np.int64)
_CODE_VALUES[np.frombuffer(nz.CODE_ALPHABET.encode(), dtype=np.uint8)] = np.arange(len(nz.CODE_ALPHABET))
_CODE_CHARS = np.frombuffer(nz.CODE_ALPHABET.encode(), dtype=np.uint8)


# Invisible format characters (Unicode category Cf): bidi overrides and isolates (U+202A–U+202E,
# U+2066–U+2069), marks (U+200E/U+200F), zero-width spaces and joiners, the BOM, soft hyphens. A name with
# U+202E shows reversed and can pass for another company; none belongs in an export's text.
FORMAT_CHARACTERS = r"\p{Cf}"


def without_format_characters(table: pa.Table) -> tuple[pa.Table, int]:
    """``table`` with every invisible format character removed from its cells, and how many cells held one."""
    cleaned = 0
    for position in range(table.num_columns):
        column = table.column(position)
        found = pc.match_substring_regex(column, FORMAT_CHARACTERS)
        count = pc.sum(found).as_py() or 0
        if count:
            cleaned += count
            table = table.set_column(
                position, table.field(position), pc.replace_substring_regex(column, FORMAT_CHARACTERS, "")
            )
    return table, cleaned


def fast_values(cells: pa.Array, kind: str) -> tuple[pa.Array | None, np.ndarray | None]:
    """(values, done): the parsed value of each cell that was parsed here, and which those are.

    (None, None) for kinds parsed one value at a time (dates, amounts, …: few distinct cells)."""
    if kind in (ds.TEXT, ds.NAME):
        return clean_text(cells)
    if kind == ds.DOC:
        return clean_code(cells)
    if kind in (ds.CODE, ds.SUBJECT_CODE):  # a masked code is not done here: parse_masked_code reads it
        return credit_codes(cells)
    if kind == ds.ID_NO:
        return masked_id_numbers(cells)
    return None, None


def clean_text(cells: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """``normalize.clean_text`` of each simple cell: NFKC, whitespace runs folded to one space, trimmed."""
    done = _mask(pc.match_substring_regex(cells, _SIMPLE))
    text = pc.replace_substring_regex(cells, FORMAT_CHARACTERS, "")  # as normalize.clean_text drops them
    text = pc.utf8_normalize(text, "NFKC")
    text = pc.replace_substring_regex(text, _SPACE_RUN, " ")
    text = pc.utf8_trim(text, " ")
    return pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text), done


def clean_code(cells: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """``normalize.clean_code`` of each simple cell: cleaned like text, no spaces, upper case."""
    text, done = clean_text(cells)
    return pc.utf8_upper(pc.replace_substring(text, " ", "")), done


def credit_codes(cells: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """``normalize.parse_credit_code`` of each simple cell that is empty or a valid code (GB 32100-2015)."""
    codes, done = clean_code(cells)
    shaped = _mask(pc.match_substring_regex(codes, _CODE_SHAPE))
    done &= shaped | _mask(codes.is_null())
    candidates = np.flatnonzero(done & shaped)
    if len(candidates):
        text = "".join(codes.take(candidates).to_pylist()).encode("ascii")
        digits = _CODE_VALUES[np.frombuffer(text, dtype=np.uint8).reshape(-1, 18)]
        total = digits[:, :17] @ np.asarray(nz.CODE_WEIGHTS, dtype=np.int64)
        check = _CODE_VALUES[_CODE_CHARS[(31 - total % 31) % 31]]
        done[candidates[check != digits[:, 17]]] = False
    return codes, done


def masked_id_numbers(cells: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """``normalize.mask_id_number`` of each simple cell: cleaned like a code, then all but the first 3 and
    last 2 characters starred (every character when there are 5 or fewer)."""
    codes, done = clean_code(cells)
    length = pc.utf8_length(codes)
    middle = pc.binary_repeat("*", pc.max_element_wise(pc.subtract(length, 5), 0))
    masked = pc.binary_join_element_wise(
        pc.utf8_slice_codeunits(codes, 0, 3), middle, pc.utf8_slice_codeunits(codes, -2), ""
    )
    short = pc.less_equal(length, 5)
    return pc.if_else(short, pc.binary_repeat("*", length), masked), done


_ID_SHAPE = r"^\s*[0-9]{17}[0-9Xx]\s*$"
_ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
_ID_CHECK = np.frombuffer(b"10X98765432", dtype=np.uint8)


def mask_id_like(cells: pa.ChunkedArray | pa.Array) -> pa.Array:
    """Cells of a column we do not know that hold an 18-character resident ID number masked as
    ``normalize.mask_id_number`` masks them; every other cell as it was. An ID number under a header no
    dataset names must not be stored in the clear either. ID-shaped means 17 digits and a digit or X,
    with a right check character (GB 11643) or a birth date in its place (a mistyped one is still an ID);
    an all-digit credit code is rarely either, and masking one in extra loses little."""
    cells = cells.combine_chunks() if isinstance(cells, pa.ChunkedArray) else cells
    candidates = np.flatnonzero(_mask(pc.match_substring_regex(cells, _ID_SHAPE)))
    if not len(candidates):
        return cells
    ids = pc.utf8_upper(pc.utf8_trim_whitespace(cells.take(candidates)))
    digits = np.frombuffer("".join(ids.to_pylist()).encode("ascii"), dtype=np.uint8).reshape(-1, 18)
    numbers = (digits[:, :17] - ord("0")).astype(np.int64)
    checked = _ID_CHECK[numbers @ _ID_WEIGHTS % 11] == digits[:, 17]
    year = numbers[:, 6:10] @ np.array([1000, 100, 10, 1])
    month, day = numbers[:, 10:12] @ np.array([10, 1]), numbers[:, 12:14] @ np.array([10, 1])
    born = (year >= 1900) & (year <= 2099) & (month >= 1) & (month <= 12) & (day >= 1) & (day <= 31)
    valid = checked | born
    if not valid.any():
        return cells
    masked = pc.binary_join_element_wise(
        pc.utf8_slice_codeunits(ids, 0, 3), "*" * 13, pc.utf8_slice_codeunits(ids, 16), ""
    )
    values = cells.to_pylist()
    for i, text in zip(candidates[valid], masked.filter(pa.array(valid)).to_pylist(), strict=True):
        values[i] = text
    return pa.array(values, pa.string())


def _mask(values: pa.Array) -> np.ndarray:
    """A boolean array as numpy, null as False."""
    return pc.fill_null(values, False).to_numpy(zero_copy_only=False).copy()
