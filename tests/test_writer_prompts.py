"""Every input cell's data-validation prompt names the cell, within Excel's limits."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from openpyxl.worksheet.cell_range import CellRange

from xls_gongkai.report import Report, Unit
from xls_gongkai.rules import engine
from xls_gongkai.spec import Format, get_format, load_format
from xls_gongkai.workbook.layout import layout_for
from xls_gongkai.workbook.writer import PROMPTS, write_workbook

VARIANT = load_format(Path(__file__).parent / "data" / "local-variant.yaml")
FORMATS = [get_format(2019), get_format(2021), VARIANT]


@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: f.id)
def test_prompt_names_row_and_column(tmp_path: Path, fmt: Format) -> None:
    path = write_workbook(tmp_path / "t.xlsx", Report(Unit("410102001", "城关镇"), fmt.year_from, fmt))
    wb = openpyxl.load_workbook(path)
    lay = layout_for(fmt)
    computed = engine(fmt).computed
    by_cell: dict[tuple[str, int, int], object] = {}
    for ws in wb.worksheets:
        for dv in ws.data_validations.dataValidation:
            for rng in dv.sqref.ranges:
                cr = CellRange(rng.coord)
                for r in range(cr.min_row, cr.max_row + 1):
                    for c in range(cr.min_col, cr.max_col + 1):
                        assert (ws.title, r - 1, c - 1) not in by_cell, "one validation per cell"
                        by_cell[(ws.title, r - 1, c - 1)] = dv
    checked = 0
    for t, r, c in fmt.cells():
        if (t, r, c) in computed:
            continue
        pos = lay.pos(t, r, c)
        dv = by_cell[(pos.sheet, pos.row, pos.col)]
        table = fmt.table(t)
        rnode, cnode = table.row_nodes[r], table.column_nodes[c]
        title, prompt = dv.promptTitle, dv.prompt  # type: ignore[attr-defined]
        assert len(title) <= 32
        assert len(prompt) <= 255
        assert title.endswith(cnode.label) or cnode.label in title
        if rnode.label:
            assert title.startswith(rnode.label[:6])
        assert prompt.startswith(rnode.path_text or cnode.path_text)
        assert PROMPTS[table.cell_kind(r, c)][1] in prompt  # the kind's instruction follows
        checked += 1
    assert checked > 100
