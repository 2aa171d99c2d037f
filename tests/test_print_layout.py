"""How the template prints and shows: 表四 on one A4 landscape page at a readable scale.

The print scale is computed the way Excel and WPS lay a sheet out with the workbook's default
font (Calibri 11: 7 pixels per width unit, as stored in the file), fitted to the printable width
of A4 landscape between the page margins stored in the file. LibreOffice with Carlito (Calibri's
metric twin) prints 表四 at 92 % (measured from the title's glyph widths in its PDF).
"""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from xls_gongkai.report import Report, Unit
from xls_gongkai.rules import engine
from xls_gongkai.spec import Each, Format, get_format, load_format
from xls_gongkai.workbook.layout import layout_for
from xls_gongkai.workbook.writer import write_workbook

ROOT = Path(__file__).resolve().parents[1]
VARIANT = load_format(ROOT / "tests" / "data" / "local-variant.yaml")
FORMATS = [get_format(2019), get_format(2021), VARIANT]

A4_LANDSCAPE_WIDTH_IN = 297 / 25.4
PIXELS_PER_UNIT = 7  # Calibri 11's widest digit, Excel's unit of column width


def _ids(fmt: Format) -> str:
    return fmt.id


def print_scale(path: Path, sheet: str) -> float:
    """The scale at which a sheet fitted to one page width prints on A4 landscape."""
    ws = openpyxl.load_workbook(path)[sheet]
    widths = dict.fromkeys(range(1, ws.max_column + 1), 8.43)  # Excel's default width
    for dim in ws.column_dimensions.values():  # openpyxl keeps a run of equal columns as one
        for col in range(dim.min, dim.max + 1):
            if col in widths and dim.width:
                widths[col] = dim.width
    pixels = sum(round(w * PIXELS_PER_UNIT) for w in widths.values())
    margins = ws.page_margins
    printable_pt = (A4_LANDSCAPE_WIDTH_IN - margins.left - margins.right) * 72
    return min(1.0, printable_pt / (pixels * 0.75))


@pytest.mark.parametrize("fmt", FORMATS, ids=_ids)
def test_table_four_prints_at_ninety_percent_or_more(tmp_path: Path, fmt: Format) -> None:
    path = write_workbook(tmp_path / "t.xlsx", Report(Unit("1", "城关镇"), fmt.year_from, fmt))
    t4 = fmt.table("t4").sheet
    scale = print_scale(path, t4)
    assert scale >= 0.9, f"{t4} prints at {scale:.0%}"
    # nothing stands right of the table's last column
    lay = layout_for(fmt)
    ws = openpyxl.load_workbook(path)[t4]
    assert ws.max_column == lay.tables["t4"].value_right + 1


@pytest.mark.parametrize("fmt", FORMATS, ids=_ids)
def test_row_checks_of_a_one_row_table_stand_below_it_under_their_totals(fmt: Format) -> None:
    lay = layout_for(fmt)
    tl = lay.tables["t4"]
    assert len(tl.table.leaf_rows) == 1
    row_checks = [c for c in engine(fmt).checks if c.table.id == "t4" and c.rule.each is Each.ROW and c.in_sheet]
    assert row_checks, "R4 holds in 表四's row"
    data_row = tl.rows[tl.table.leaf_rows[0].id]
    below = {lay.checks[c.key].row for c in row_checks}
    assert len(below) == 1  # one row of checks
    assert below.pop() > data_row
    for c in row_checks:
        pos = lay.checks[c.key]
        total = c.lhs[0].key[2]  # the total the equation defines
        assert pos.col == tl.cols[total], c.key
    # each check cell has its own column: no two checks share a cell
    assert len({lay.checks[c.key] for c in row_checks}) == len(row_checks)


def test_table_three_keeps_its_row_checks_beside_the_table() -> None:
    fmt = get_format(2021)
    lay = layout_for(fmt)
    tl = lay.tables["t3"]
    r2 = [c for c in engine(fmt).checks if c.table.id == "t3" and c.rule.each is Each.ROW and c.in_sheet]
    assert r2
    assert {lay.checks[c.key].col for c in r2} == {tl.value_right + 1}
    assert all(lay.checks[c.key].row == tl.rows[c.index] for c in r2)
