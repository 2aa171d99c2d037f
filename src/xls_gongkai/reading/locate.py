"""Where a workbook's tables are: at our template's positions, or found by their labels.

Our template untouched has every row and column label exactly where the layout (shared with
the writer) puts it. Anything else — rows inserted after the protection was lifted, a sheet
renamed, a hand-made copy of the official tables, the other format version — is found by its
labels with :func:`xls_gongkai.parsing.grid.locate_table`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache

from xls_gongkai.parsing.grid import Located, locate_table
from xls_gongkai.parsing.labels import normalise
from xls_gongkai.parsing.values import cell_text
from xls_gongkai.reading.sheets import Grid, Sheets
from xls_gongkai.spec import Format, Table
from xls_gongkai.workbook.layout import GUIDE_SHEET, Layout, layout_for

__all__ = ["TemplateLocation", "locate_by_labels", "locate_template"]


@cache
def _label_cells(lay: Layout, table_id: str) -> tuple[tuple[int, int, str, str], ...]:
    tl = lay.tables[table_id]
    return tuple(
        (lb.first_row, lb.first_col, lb.text, normalise(lb.text))
        for lb in tl.labels
        if lb.role in ("row", "column") and lb.text
    )


def labels_in_place(grid: Grid, lay: Layout, table: Table) -> bool:
    """Whether every row and column label of ``table`` stands where the template puts it."""
    height = len(grid)
    for row, col, text, norm in _label_cells(lay, table.id):
        line = grid[row] if row < height else ()
        v = line[col] if col < len(line) else None
        # A program that re-saved the file may have re-written a label's characters.
        if v != text and normalise(cell_text(v)) != norm:
            return False
    return True


@dataclass
class TemplateLocation:
    """Our template's tables: where each was found, which had moved, which are gone."""

    located: dict[str, Located] = field(default_factory=dict)
    moved: list[Table] = field(default_factory=list)
    missing: list[Table] = field(default_factory=list)


def locate_template(sheets: Sheets, fmt: Format) -> TemplateLocation:
    lay = layout_for(fmt)
    out = TemplateLocation()
    for table in fmt.tables:
        tl = lay.tables[table.id]
        if tl.sheet in sheets.names and labels_in_place(sheets.grid(tl.sheet), lay, table):
            out.located[table.id] = Located(table, tl.sheet, dict(tl.rows), dict(tl.cols), False)
            continue
        candidates = [tl.sheet] if tl.sheet in sheets.names else []
        candidates += [s for s in sheets.data_sheets() if s not in (tl.sheet, GUIDE_SHEET)]
        loc = next((x for s in candidates if (x := locate_table(sheets.grid(s), s, table)) is not None), None)
        if loc is None:
            out.missing.append(table)
        else:
            out.located[table.id] = loc
            out.moved.append(table)
    return out


def _locate_all(sheets: Sheets, fmt: Format) -> dict[str, Located]:
    out: dict[str, Located] = {}
    data_sheets = [s for s in sheets.data_sheets() if s != GUIDE_SHEET]
    for table in fmt.tables:
        # The table's own sheet first; a hand-made workbook may put the tables anywhere.
        best: Located | None = None
        for s in sorted(data_sheets, key=lambda s: s != table.sheet):
            loc = locate_table(sheets.grid(s), s, table)
            if loc is not None and (best is None or _score(loc) > _score(best)):
                best = loc
            if (
                best is not None
                and len(best.rows) == len(table.leaf_rows)
                and len(best.cols) == len(table.leaf_columns)
            ):
                break
        if best is not None:
            out[table.id] = best
    return out


def _score(loc: Located) -> int:
    return len(loc.rows) + len(loc.cols)


def locate_by_labels(sheets: Sheets, candidates: Sequence[Format]) -> tuple[Format, dict[str, Located]]:
    """The candidate format whose tables the workbook's labels match best (the first wins a tie),
    and where they are."""
    best: tuple[int, Format, dict[str, Located]] | None = None
    for fmt in candidates:
        located = _locate_all(sheets, fmt)
        score = sum(_score(loc) for loc in located.values())
        if best is None or score > best[0]:
            best = (score, fmt, located)
    assert best is not None, "at least one candidate format"
    return best[1], best[2]
