"""Content typed outside every known cell: kept, and reported as 未识别的内容 — never dropped.

In our template every cell is known (labels, value cells, check cells, the texts); whatever else
holds something was typed by someone. Where tables had moved, the template's positions mean
nothing: known is then a value that was read, a label text, or a check's result. A hand-made
workbook's titles and notes around its tables are its own decoration: only the tables' rows are
looked at.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import cache
from typing import Any

from xls_gongkai.issues import Code, Issue, Unrecognised, issue
from xls_gongkai.parsing.grid import Located
from xls_gongkai.parsing.labels import normalise
from xls_gongkai.parsing.values import cell_text, is_blank
from xls_gongkai.reading.sheets import Sheets
from xls_gongkai.spec import CellKey
from xls_gongkai.workbook.layout import FIRST_TABLE_ROW, GUIDE_SHEET, ISSUES_SHEET, META_SHEET, TEXT_SHEET, Layout, a1

__all__ = ["MAX_KEPT", "MAX_NAMED", "find_unrecognised", "unrecognised_issues"]

#: Unrecognised cells named one issue each per sheet; beyond that one issue counts the rest.
MAX_NAMED = 50
#: Unrecognised cells kept (with address and text) in the result.
MAX_KEPT = 5000
#: Columns of 填报说明 that generate writes (labels in A, values and text in B).
_GUIDE_WIDTH = 2
_CHECK_MARKS = ("✔", "✘")


@cache
def _known_cells(lay: Layout) -> Mapping[str, frozenset[tuple[int, int]]]:
    known: dict[str, set[tuple[int, int]]] = {}
    for tl in lay.tables.values():
        cells = known.setdefault(tl.sheet, set())
        for label in tl.labels:
            cells.update(
                (r, c)
                for r in range(label.first_row, label.last_row + 1)
                for c in range(label.first_col, label.last_col + 1)
            )
        cells.update((pos.row, pos.col) for pos in tl.checks.values())
        cells.update((r, c) for r in tl.rows.values() for c in tl.cols.values())
    text_cells = known.setdefault(TEXT_SHEET, set())
    for tlay in lay.texts.values():
        text_cells.update((p.row, p.col) for p in (tlay.label, tlay.prompt, *tlay.cells) if p is not None)
    return {s: frozenset(c) for s, c in known.items()}


@cache
def _label_texts(lay: Layout) -> frozenset[str]:
    texts = {normalise(lb.text) for tl in lay.tables.values() for lb in tl.labels}
    texts |= {normalise(t) for t in lay.sheet_titles.values()}
    texts |= {normalise(t.section.label) for t in lay.texts.values()}
    return frozenset(texts)


def _is_decoration(v: Any, lay: Layout) -> bool:
    if not isinstance(v, str):
        return False
    t = v.strip()
    return t.startswith(_CHECK_MARKS) or t.startswith("共 ") or normalise(t) in _label_texts(lay)


def _scan(grid: list[list[Any]], first: int, skip: Any) -> Iterator[tuple[int, int, Any]]:
    for r in range(first, len(grid)):
        line = grid[r]
        if line.count("") == len(line):
            continue
        for c, v in enumerate(line):
            if v == "" or v is None or is_blank(v) or skip(r, c, v):
                continue
            yield r, c, v


def _template_sheets(
    sheets: Sheets, lay: Layout, located: Mapping[str, Located], cells: Mapping[CellKey, tuple[str, str]], kind: str
) -> Iterator[Unrecognised]:
    found_on = [loc.sheet for loc in located.values() if loc.sheet not in lay.data_sheets]
    value_cells = set(cells.values())
    known = _known_cells(lay)
    top = {TEXT_SHEET: min((t.label.row for t in lay.texts.values()), default=0)}
    for sheet in dict.fromkeys((*lay.data_sheets, *found_on, TEXT_SHEET)):
        if sheet not in sheets.names:
            continue
        moved = any(loc.by_label and loc.sheet == sheet for loc in located.values())
        sheet_known = known.get(sheet, frozenset())

        def skip(
            r: int,
            c: int,
            v: Any,
            moved: bool = moved,
            sheet: str = sheet,
            sheet_known: frozenset[tuple[int, int]] = sheet_known,
        ) -> bool:
            if not moved:
                return (r, c) in sheet_known
            return (sheet, a1(r, c)) in value_cells or _is_decoration(v, lay)

        for r, c, v in _scan(sheets.grid(sheet), top.get(sheet, FIRST_TABLE_ROW), skip):
            yield Unrecognised(sheet, a1(r, c), cell_text(v))
    if GUIDE_SHEET in sheets.names:
        for r, c, v in _scan(sheets.grid(GUIDE_SHEET), 0, lambda r, c, v: c < _GUIDE_WIDTH):
            yield Unrecognised(GUIDE_SHEET, a1(r, c), cell_text(v))
    if kind != "template":
        return  # our annotated copies and summaries carry sheets of their own
    for sheet in sheets.names:
        if sheet not in (*lay.sheets, *found_on, META_SHEET, ISSUES_SHEET):
            for r, c, v in _scan(sheets.grid(sheet), 0, lambda r, c, v: False):
                yield Unrecognised(sheet, a1(r, c), cell_text(v))


def _hand_made(
    sheets: Sheets, lay: Layout, located: Mapping[str, Located], cells: Mapping[CellKey, tuple[str, str]]
) -> Iterator[Unrecognised]:
    from xls_gongkai.parsing.values import parse_cell
    from xls_gongkai.spec import CellKind

    value_cells = set(cells.values())
    for loc in located.values():
        grid = sheets.grid(loc.sheet)
        first, last, _c0, c1 = loc.region
        for r in range(first, min(last + 1, len(grid))):
            for c, v in enumerate(grid[r]):
                if c <= 0 or is_blank(v) or (loc.sheet, a1(r, c)) in value_cells:
                    continue
                numberish = isinstance(v, int | float) or (
                    isinstance(v, str) and parse_cell(v, CellKind.COUNT).code == ""
                )
                if (c <= c1 and not numberish) or _is_decoration(v, lay):
                    continue  # a label (header or stub), matched or not
                yield Unrecognised(loc.sheet, a1(r, c), cell_text(v))


def find_unrecognised(
    sheets: Sheets,
    lay: Layout,
    located: Mapping[str, Located],
    cells: Mapping[CellKey, tuple[str, str]],
    *,
    template: bool,
    kind: str,
) -> list[Unrecognised]:
    found = _template_sheets(sheets, lay, located, cells, kind) if template else _hand_made(sheets, lay, located, cells)
    out: list[Unrecognised] = []
    for u in found:
        out.append(u)
        if len(out) >= MAX_KEPT:
            break
    return out


def unrecognised_issues(found: list[Unrecognised]) -> list[Issue]:
    """One issue per cell, up to :data:`MAX_NAMED` a sheet; then one issue counting the rest."""
    out: list[Issue] = []
    per_sheet: dict[str, int] = {}
    for u in found:
        n = per_sheet[u.sheet] = per_sheet.get(u.sheet, 0) + 1
        if n <= MAX_NAMED:
            note = f"工作表“{u.sheet}”单元格 {u.cell} 填有“{u.text}”，不在任何填报单元格内，未读入"
            out.append(issue(Code.UNRECOGNISED, note=note, sheet=u.sheet, cell=u.cell, found=u.text))
    for sheet, n in per_sheet.items():
        if n > MAX_NAMED:
            rest = n - MAX_NAMED
            note = f"工作表“{sheet}”中另有 {rest} 个单元格填有内容，不在任何填报单元格内，未读入（上面只列出前 {MAX_NAMED} 个）"
            out.append(issue(Code.UNRECOGNISED, note=note, sheet=sheet, found=str(rest)))
    return out
