"""What python-calamine cannot show: which cells hold a formula or an error value.

python-calamine returns values only. An error cell (``#REF!``) comes back as ``""``, the same
as a blank, and a formula typed into an input cell comes back as its stored result, so a
reader cannot tell a clerk's number from ``=[1]Sheet1!A1`` or ``=RAND()``. :func:`special_cells`
looks at the sheets' XML itself: for .xlsx/.xlsm the cells of each worksheet, for .ods
content.xml. It reads through :mod:`zipfile` within the same size limits as
:func:`~xls_gongkai.reading.safety.inspect_file`, and matches the XML with regular expressions
over bytes, so nothing a document declares is ever expanded and every pass is linear.

.xls and .xlsb store formulas as compiled tokens, which this does not decode: for them the
answer is always empty, and formulas and error values there cannot be seen.
"""

from __future__ import annotations

import os
import re
import zipfile
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from xls_gongkai.reading.parts import attributes, read_until, worksheets, xml_text
from xls_gongkai.reading.safety import (
    ODS_MIME,
    PART_ERRORS,
    Container,
    Limits,
    check_declared,
    check_sizes,
    corrupt,
    default_limits,
    open_zip,
    read_file,
)

__all__ = ["CellNote", "special_cells"]

Position = tuple[int, int]

#: Excel's own limits on a formula's text and a cell's; longer text (a hostile file) is cut.
MAX_FORMULA = 8192
MAX_VALUE = 32767
MAX_ERROR = 32
#: Notes kept per workbook, and cells noted for one array formula's range: far above any report.
MAX_NOTES = 200_000
MAX_ARRAY_CELLS = 10_000


class CellNote(NamedTuple):
    """A cell that holds a formula, an error value, or both.

    ``formula`` is the formula's text without the leading "=" (None: no formula). In an .ods it
    is in OpenFormula syntax (``SUM([.B2:.B5])``). A cell of a shared formula gets the
    formula translated to its own position and ``shared``; ``""`` when the shared formula it
    belongs to is missing or cannot be translated (a damaged file). ``array`` marks every cell
    of an array formula's range (and of a data table). ``error`` is the error value as stored
    (``#REF!``; None: no error; ``""`` when the file marks an error without its text).
    ``value`` is the stored result of a formula as text (None when there is none, it is empty
    or it is an error; for a shared string, its index). A tuple, not a dataclass: one is made for every
    formula cell of every workbook of a batch.
    """

    formula: str | None
    error: str | None
    value: str | None
    shared: bool = False
    array: bool = False


Notes = dict[str, dict[Position, CellNote]]


def special_cells(source: str | os.PathLike[str] | Container, sheets: Collection[str] | None = None) -> Notes:
    """Every cell holding a formula or an error value, by worksheet name and 0-based (row, column).

    ``sheets`` limits the work to those worksheet names (None: every worksheet). Each
    worksheet looked at is in the answer, with an empty mapping when it has no such cell;
    for .xls and .xlsb the answer is ``{}``. Raises
    :class:`~xls_gongkai.errors.UnreadableWorkbookError` for a file that cannot be looked at
    within the size limits. ``source`` is a path, or the
    :class:`~xls_gongkai.reading.safety.Container` :func:`~xls_gongkai.reading.safety.inspect_file`
    gave for it (then the bytes it inspected are looked at, and not read again).

    >>> special_cells("城关镇.xlsx", ["表三"])["表三"][(6, 3)]  # doctest: +SKIP
    CellNote(formula='[1]表三!D7', error=None, value='12', shared=False, array=False)
    """
    limits = default_limits()
    if isinstance(source, Container) and source.data:
        p, data = source.path, source.data
    else:
        p = source.path if isinstance(source, Container) else Path(source)
        data = read_file(p, limits)
    if not data.startswith(b"PK"):
        return {}
    with open_zip(p, data) as zf:
        check_sizes(p, zf.infolist(), limits)
        try:
            if "content.xml" in zf.NameToInfo and ODS_MIME in _mimetype(zf):
                return _ods_notes(zf, sheets, limits)
            return _xlsx_notes(p, zf, sheets, limits)
        except PART_ERRORS as exc:
            raise corrupt(p) from exc


def _mimetype(zf: zipfile.ZipFile) -> bytes:
    info = zf.NameToInfo.get("mimetype")
    if info is None:
        return b""
    with zf.open(info) as fh:
        return fh.read(200)


# --------------------------------------------------------------------------- .xlsx


class _Raw(NamedTuple):
    """A cell of interest as written: where, its start tag's attributes, <f>'s attributes and text, <v>."""

    at: Position
    cell: bytes
    f_attrs: bytes | None
    f_text: bytes | None
    stored: bytes | None


def _xlsx_notes(p: Path, zf: zipfile.ZipFile, wanted: Collection[str] | None, limits: Limits) -> Notes:
    out: Notes = {}
    budget = MAX_NOTES
    for sheet in worksheets(zf):
        if (wanted is not None and sheet.name not in wanted) or sheet.name in out:
            continue
        info = zf.getinfo(sheet.part)
        data, end = read_until(zf, info, b"</sheetData>", min(info.file_size, limits.max_entry_bytes))
        begin, cells = _cells_of(data, end)
        if cells:
            # Its declared used area stands before the cells: a sheet a parser must not be
            # handed is refused here too, where a confined worker first looks at its cells.
            check_declared(p, data, begin, limits)
        fast = _fast_cells(cells)
        notes, others = fast if fast is not None else ({}, _any_cells(cells))
        out[sheet.name] = _notes(others, notes, budget)
        budget -= len(out[sheet.name])
    return out


_SHEET_DATA = re.compile(rb"<(?:\w+:)?sheetData[\s>/]")
_SHEET_DATA_END = re.compile(rb"</(?:\w+:)?sheetData>")


def _cells_of(data: bytes, end: int) -> tuple[int, bytes]:
    """Where a worksheet part's <sheetData> element starts, and the element (empty: none)."""
    start = _SHEET_DATA.search(data)
    if start is None:
        return -1, b""
    if end < 0:  # written with a namespace prefix, or cut short
        m = _SHEET_DATA_END.search(data, start.start())
        end = m.start() if m else len(data)
    return start.start(), data[start.start() : end]


# The spelling of every writer we know (Excel, WPS, LibreOffice, xlsxwriter, openpyxl): no
# namespace prefix, double quotes, the reference first, <f> right after the cell's start tag.
# One regular expression takes every formula cell with its parts (at C speed), so the Python
# work is a few steps per formula cell, none per other cell.
_FAST_FORMULA_CELL = re.compile(
    rb'<c r="([A-Z]{1,3}[0-9]{1,7})"([^>]*)><f(?=[ >/])([^>]*?)(?:/>|>([^<]*)</f>)(?:<v>([^<]*)</v>)?'
)
_FAST_V = re.compile(rb"<v>([^<]*)</v>")
_CELL_START = b'<c r="'


def _fast_cells(cells: bytes) -> tuple[dict[Position, CellNote], list[_Raw]] | None:
    """The notes of plain formula cells and the other cells of interest, in the common spelling.

    None when the sheet is spelt otherwise (the generic pass then counts every cell): a
    prefixed <sheetData> (its cells then are too), a formula cell in another spelling (there
    are more "<f" than formula cells found), an error type in single quotes.
    """
    if not cells.startswith(b"<sheetData") or b"t='e'" in cells:
        return None
    found = _FAST_FORMULA_CELL.findall(cells)
    if len(found) != cells.count(b"<f"):
        return None
    notes: dict[Position, CellNote] = {}
    others: list[_Raw] = []
    positions, formulas = _POSITIONS, _FORMULAS
    for ref, rest, f_attrs, text, stored in found:
        at = positions.get(ref) or _position(ref)
        if at is None:
            return None
        if f_attrs or b'"e"' in rest:
            others.append(_Raw(at, rest, f_attrs, text, stored or None))
            continue
        # By far the most common: a formula and its result. A batch's workbooks share their
        # formulas' text, so it is decoded once.
        formula = formulas.get(text) or _formula_text(text)
        notes[at] = CellNote(formula, None, _text(stored, MAX_VALUE) if stored else None)
    return (notes, others) if _fast_errors(cells, others) else None


def _fast_errors(cells: bytes, others: list[_Raw]) -> bool:
    """Add the error cells without a formula to ``others``; False when one is spelt otherwise."""
    find, rfind = cells.find, cells.rfind
    error_at = find(b't="e"')
    while error_at >= 0:
        start = rfind(_CELL_START, 0, error_at)
        quote = find(b'"', start + 6, error_at)
        end = find(b">", error_at)
        at = _position(cells[start + 6 : quote]) if start >= 0 and quote >= 0 else None
        if at is None or end < 0 or find(b"<", start + 1, end) >= 0:
            return False
        if not cells.startswith(b"<f", end + 1):  # those with <f> are in already
            v = None if cells[end - 1] == 0x2F else _FAST_V.match(cells, end + 1)  # "/": no content
            others.append(_Raw(at, cells[quote:end], None, None, v[1] if v else None))
        error_at = find(b't="e"', end)
    return True


_POSITIONS: dict[bytes, Position | None] = {}
_FORMULAS: dict[bytes, str] = {}


def _formula_text(raw: bytes) -> str:
    """A formula's text (remembered: the workbooks of one batch share their formulas)."""
    if len(_FORMULAS) > 20_000:
        _FORMULAS.clear()
    text = _FORMULAS[raw] = _text(raw, MAX_FORMULA)
    return text


def _position(ref: bytes) -> Position | None:
    """The 0-based (row, column) of an A1 reference; remembered, since a batch's files share them."""
    at = _POSITIONS.get(ref)
    if at is None and ref not in _POSITIONS:
        if len(_POSITIONS) > 100_000:
            _POSITIONS.clear()
        at = _POSITIONS[ref] = _a1(ref.decode("ascii", "replace"))
    return at


_ANY_TAG = re.compile(rb"<(?:\w+:)?(row|c)(?=[\s>/])([^>]*?)(/?)>")
_ANY_F = re.compile(rb"<(?:\w+:)?f(?=[\s>/])([^>]*?)(?:/>|>([^<]*)</(?:\w+:)?f>)")
_ANY_V = re.compile(rb"<(?:\w+:)?v>([^<]*)</(?:\w+:)?v>")
_ERROR_TYPE = re.compile(rb"""\bt\s*=\s*["']e["']""")


def _any_cells(cells: bytes) -> list[_Raw]:
    """The cells of interest in any spelling: every row and cell counted in order.

    A row without a reference follows the previous row and a cell without one the previous
    cell of its row, as the spreadsheet programs place them. A cell's content is looked for
    only up to the next row or cell, so a damaged sheet costs one pass.
    """
    out: list[_Raw] = []
    row, col = -1, -1
    tags = _ANY_TAG.finditer(cells)
    for m, after in _with_next(tags, len(cells)):
        ref = attributes(m[2]).get("r")
        if m[1] == b"row":
            row = int(ref) - 1 if ref and ref.isdigit() and int(ref) > 0 else row + 1
            col = -1
            continue
        at = _a1(ref) if ref else None
        row, col = at if at is not None else (max(row, 0), col + 1)
        body = b"" if m[3] else cells[m.end() : after]
        f = _ANY_F.search(body)
        if f is None and _ERROR_TYPE.search(m[2]) is None:
            continue
        v = _ANY_V.search(body)
        out.append(_Raw((row, col), m[2], f[1] if f else None, f[2] if f else None, v[1] if v else None))
    return out


def _with_next(matches: Iterator[re.Match[bytes]], end: int) -> Iterator[tuple[re.Match[bytes], int]]:
    """Each match with where the next one starts (``end`` after the last)."""
    previous = None
    for m in matches:
        if previous is not None:
            yield previous, m.start()
        previous = m
    if previous is not None:
        yield previous, end


def _notes(raw: list[_Raw], notes: dict[Position, CellNote], budget: int) -> dict[Position, CellNote]:
    """``notes`` with those of ``raw`` added (shared formulas translated, array ranges filled)."""
    masters: dict[bytes, tuple[str, Position]] = {}
    children: list[tuple[Position, bytes, CellNote]] = []
    covered: dict[Position, str] = {}
    for cell in raw[: max(0, budget - len(notes))]:
        stored = cell.stored
        if _ERROR_TYPE.search(cell.cell):
            error, value = _text(stored or b"", MAX_ERROR), None
        else:
            error, value = None, None if stored is None else _text(stored, MAX_VALUE)
        if cell.f_attrs is None:
            notes[cell.at] = CellNote(None, error, None)
            continue
        formula = (_FORMULAS.get(cell.f_text) or _formula_text(cell.f_text)) if cell.f_text else ""
        if not cell.f_attrs:  # the usual <f>: nothing more to know
            notes[cell.at] = CellNote(formula, error, value)
            continue
        fa = attributes(cell.f_attrs)
        kind, shared_id = fa.get("t", "normal"), fa.get("si", "").encode()
        if kind == "shared" and not formula:
            children.append((cell.at, shared_id, CellNote("", error, value, shared=True)))
            continue
        if kind == "shared":
            masters.setdefault(shared_id, (formula, cell.at))
        elif kind in ("array", "dataTable"):
            if kind == "dataTable":
                formula = "TABLE({})".format(",".join(fa[a] for a in ("r1", "r2") if a in fa))
            if ":" in fa.get("ref", ""):  # more cells than the one holding the formula
                covered.update(_array_range(fa["ref"], cell.at, formula))
        notes[cell.at] = CellNote(formula, error, value, shared=kind == "shared", array=kind in ("array", "dataTable"))
    for at, shared_id, note in children:
        notes[at] = _translated(note, masters.get(shared_id), at)
    for at, formula in covered.items():
        if len(notes) >= budget:
            break
        old = notes.get(at)
        notes[at] = (
            CellNote(formula, None, None, array=True) if old is None else old._replace(formula=formula, array=True)
        )
    return notes


def _array_range(ref: str, anchor: Position, formula: str) -> Iterator[tuple[Position, str]]:
    """The other cells an array formula covers (their stored results are plain values)."""
    first, _, last = ref.partition(":")
    a, b = _a1(first), _a1(last or first)
    if a is None or b is None or a != anchor:
        return
    rows, cols = range(a[0], b[0] + 1), range(a[1], b[1] + 1)
    if len(rows) * len(cols) > MAX_ARRAY_CELLS:
        return
    for r in rows:
        for c in cols:
            if (r, c) != anchor:
                yield (r, c), formula


def _translated(note: CellNote, master: tuple[str, Position] | None, at: Position) -> CellNote:
    """A shared formula's text as it reads in the cell ``at`` (its relative references moved)."""
    if master is None:
        return note
    from openpyxl.formula.translate import Translator  # only a file with shared formulas pays for it

    text, origin = master
    try:
        moved = Translator("=" + text, origin=_name(origin)).translate_formula(_name(at))
    except Exception:  # a formula openpyxl's tokenizer cannot follow: its text stays unknown
        return note
    return note._replace(formula=moved[1:])


_A1 = re.compile(r"\$?([A-Za-z]{1,3})\$?([0-9]{1,7})")
_COLUMNS: dict[bytes, int] = {}


def _column(letters: bytes) -> int:
    """0-based column of "A"…"XFD" (at most 18,278 different spellings, so remembered)."""
    n = _COLUMNS.get(letters)
    if n is None:
        n = -1 + sum(((ch & 0xDF) - 64) * 26**i for i, ch in enumerate(reversed(letters)))
        _COLUMNS[letters] = n
    return n


def _a1(ref: str) -> Position | None:
    m = _A1.fullmatch(ref.strip())
    if m is None or int(m.group(2)) == 0:
        return None
    return int(m.group(2)) - 1, _column(m.group(1).encode("ascii"))


def _name(at: Position) -> str:
    col, letters = at[1] + 1, ""
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return f"{letters}{at[0] + 1}"


def _text(raw: bytes, most: int) -> str:
    """Character data as text, cut at ``most`` characters."""
    if len(raw) > most:  # four bytes at most a character in UTF-8: cut before decoding
        return xml_text(raw[: most * 4])[:most]
    return xml_text(raw) if b"&" in raw else raw.decode("utf-8", "replace")


# --------------------------------------------------------------------------- .ods

_ODS_TOKEN = re.compile(rb"<(/?)(?:\w+:)?(table|table-row|table-cell|covered-table-cell)(\s[^>]*|/)?>")
_ODS_CELL_END = re.compile(rb"</(?:\w+:)?table-cell>")
_ODS_TEXT = re.compile(rb"<[^>]*>")


@dataclass
class _OdsSheet:
    notes: dict[Position, CellNote]
    row: int = 0
    col: int = 0
    rows_repeated: int = 1
    #: Cells covered by an array formula (LibreOffice writes the formula on the first only).
    matrix: dict[Position, str] = field(default_factory=dict)

    def close(self) -> None:
        for at, formula in self.matrix.items():
            note = self.notes.get(at)
            if note is None:
                self.notes[at] = CellNote(formula, None, None, array=True)
            elif note.formula is None:
                self.notes[at] = note._replace(formula=formula, array=True)


def _ods_notes(zf: zipfile.ZipFile, wanted: Collection[str] | None, limits: Limits) -> Notes:
    """Formulas and error values of every table in content.xml (repeated rows and cells counted)."""
    info = zf.getinfo("content.xml")
    data, _ = read_until(zf, info, b"</office:spreadsheet>", min(info.file_size, limits.max_entry_bytes))
    out: Notes = {}
    depth = 0
    sheet: _OdsSheet | None = None
    budget = MAX_NOTES
    for m in _ODS_TOKEN.finditer(data):
        closing, element, rest = m.group(1), m.group(2), m.group(3) or b""
        if element == b"table":
            if closing and depth == 1 and sheet is not None:
                sheet.close()
            depth += -1 if closing else (0 if rest.rstrip().endswith(b"/") else 1)
            if not closing and depth == 1:
                name = attributes(rest).get("name", "")
                keep = (wanted is None or name in wanted) and name not in out
                sheet = _OdsSheet(out.setdefault(name, {})) if keep else None
            continue
        if depth != 1 or sheet is None or (closing and element != b"table-row"):
            continue
        if element == b"table-row":
            _ods_row(sheet, closing == b"/", rest)
        elif budget > 0:
            budget -= _ods_cell(sheet, rest, data, m.end())
    return out


def _ods_row(sheet: _OdsSheet, closing: bool, rest: bytes) -> None:
    if closing:
        sheet.row += sheet.rows_repeated
        return
    sheet.col = 0
    sheet.rows_repeated = max(1, _count(attributes(rest).get("number-rows-repeated")))
    if rest.rstrip().endswith(b"/"):
        sheet.row += sheet.rows_repeated


def _ods_cell(sheet: _OdsSheet, rest: bytes, data: bytes, after: int) -> int:
    """Note one cell element (repeated ``number-columns-repeated`` times); how many notes were added."""
    attrs = _ods_attributes(rest)
    repeat = max(1, _count(attrs.get("number-columns-repeated")))
    formula = attrs.get("formula")
    error = None
    if attrs.get("calcext:value-type") == "error":
        # The error's text is the cell's paragraph; looked for only near the start tag.
        end = _ODS_CELL_END.search(data, after, after + 4096)
        inner = data[after : end.start() if end else after]
        error = _text(_ODS_TEXT.sub(b"", inner).strip(), MAX_ERROR)
    added = 0
    if formula is not None or error is not None:
        text = None if formula is None else re.sub(r"^(?:\w+:)?=", "", formula)[:MAX_FORMULA]
        value = None if error is not None else _ods_value(attrs)
        array = "number-matrix-columns-spanned" in attrs
        if array and text is not None:
            _ods_matrix(sheet, attrs, text)
        note = CellNote(text, error, value, array=array)
        for c in range(sheet.col, sheet.col + min(repeat, MAX_ARRAY_CELLS)):
            for r in range(sheet.row, sheet.row + min(sheet.rows_repeated, MAX_ARRAY_CELLS // max(1, repeat))):
                sheet.notes[(r, c)] = note
                added += 1
    sheet.col += repeat
    return added


def _ods_matrix(sheet: _OdsSheet, attrs: dict[str, str], formula: str) -> None:
    rows = _count(attrs.get("number-matrix-rows-spanned"))
    cols = _count(attrs.get("number-matrix-columns-spanned"))
    if rows * cols <= MAX_ARRAY_CELLS:
        for r in range(sheet.row, sheet.row + rows):
            for c in range(sheet.col, sheet.col + cols):
                sheet.matrix.setdefault((r, c), formula)


def _ods_attributes(rest: bytes) -> dict[str, str]:
    # LibreOffice writes the value type twice (office: and calcext:); the calcext one says "error".
    attrs = attributes(rest)
    typed = re.search(rb"""calcext:value-type=["']([\w-]+)["']""", rest)
    if typed is not None:
        attrs["calcext:value-type"] = typed.group(1).decode("ascii")
    return attrs


def _ods_value(attrs: dict[str, str]) -> str | None:
    for name in ("value", "string-value", "boolean-value", "date-value", "time-value"):
        if name in attrs:
            return attrs[name][:MAX_VALUE]
    return None


def _count(text: str | None) -> int:
    return int(text) if text and text.isdigit() and len(text) < 9 else 1
