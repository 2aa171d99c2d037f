"""The units' figures listed in the 明细 sheet of a summary workbook made by ``merge``.

A county summary is itself a filled template; its 明细 sheet holds one row per unit. Reading it
back lets last year's summary serve as each unit's previous year (R6–R8), lets a summary that
overlaps with units sent on their own be recognised, and gives the summary's true unit count.
Columns are recognised by their labels (table title, row path, column path) under each table's
title, as the summary writer lays them out.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from xls_gongkai.numbers import Value, coerce_value
from xls_gongkai.reading.sheets import interrupt
from xls_gongkai.report import Report, Unit
from xls_gongkai.spec import CellKey, Format, Table
from xls_gongkai.workbook.layout import DETAIL_SHEET, STATUS_SHEET, UNITS_HEADING

__all__ = ["DETAIL_SHEET", "detail_units", "read_detail", "units_in_error"]


def _columns(header: list[list[object]], fmt: Format) -> dict[int, CellKey]:
    # The summary names a table by its title (表三) or by sheet and block title (表二 第二十条…).
    titles = {name: t for t in fmt.tables for name in (t.name, t.title, f"{t.sheet} {t.title}")}
    top, rows, leaves = header
    out: dict[int, CellKey] = {}
    table: Table | None = None
    row_label = ""
    for c in range(2, len(top)):
        title = str(top[c]).strip()
        if title:
            table = titles.get(title)
            row_label = ""
        if table is None:
            continue
        row_label = str(rows[c]) if c < len(rows) and str(rows[c]) else row_label
        label = (row_label, str(leaves[c]) if c < len(leaves) else "")
        for rn in table.leaf_rows:
            for cn in table.leaf_columns:
                if (rn.path_text or table.title, cn.path_text) == label:
                    out[c] = (table.id, rn.id, cn.id)
    return out


def _top(grid: Sequence[Sequence[object]]) -> int | None:
    return next((i for i, row in enumerate(grid) if row and str(row[0]).strip() == "单位代码"), None)


def detail_units(grid: Sequence[Sequence[object]]) -> int | None:
    """How many units the 明细 rows add up: the sum of its 汇总单位数 column (a row without it,
    from an older summary, counts one); None when the grid is no 明细."""
    top = _top(grid)
    if top is None:
        return None
    head = [str(v).strip() for v in grid[top]]
    col = head.index(UNITS_HEADING) if UNITS_HEADING in head else None
    total = 0
    for row in grid[top + 3 :]:
        if len(row) < 2 or str(row[1]).strip() in ("合计", ""):
            break
        v = row[col] if col is not None and col < len(row) else 1
        total += int(v) if isinstance(v, int | float) and not isinstance(v, bool) and v >= 1 else 1
    return total


def read_detail(path: str | Path, fmt: Format, year: int) -> list[Report]:
    """The units' reports listed in the 明细 sheet (none when there is no readable 明细)."""
    from python_calamine import CalamineWorkbook

    try:
        grid = CalamineWorkbook.from_path(str(path)).get_sheet_by_name(DETAIL_SHEET).to_python(skip_empty_area=False)
    except BaseException as exc:  # no 明细 sheet, or not readable: nothing to add
        if interrupt(exc):
            raise
        return []
    top = _top(grid)
    if top is None or top + 2 >= len(grid):
        return []
    cols = _columns([list(grid[top]), list(grid[top + 1]), list(grid[top + 2])], fmt)
    units: dict[tuple[str, str], dict[CellKey, Value]] = {}
    for row in grid[top + 3 :]:
        if len(row) < 2 or str(row[1]).strip() in ("合计", ""):
            break
        values = units.setdefault((str(row[0]).strip(), str(row[1]).strip()), {})
        for c, key in cols.items():
            v = row[c] if c < len(row) else ""
            if isinstance(v, int | float) and not isinstance(v, bool):
                values[key] = coerce_value(fmt.table(key[0]).cell_kind(key[1], key[2]), v)
    return [Report(Unit(code, name), year, fmt, values) for (code, name), values in units.items()]


def units_in_error(path: str | Path) -> list[str] | None:
    """The units a summary workbook's 报送情况 lists as summed although they have errors (the
    count in 错误数 and 是 in 计入汇总): whatever the error, a text in a number cell too, which
    the 明细's figures no longer show. None when the workbook has no readable 报送情况."""
    from python_calamine import CalamineWorkbook

    try:
        grid = CalamineWorkbook.from_path(str(path)).get_sheet_by_name(STATUS_SHEET).to_python(skip_empty_area=False)
    except BaseException as exc:  # no 报送情况 sheet, or not readable
        if interrupt(exc):
            raise
        return None
    top = next((i for i, row in enumerate(grid) if "错误数" in row and "计入汇总" in row), None)
    if top is None:
        return None
    head = list(grid[top])
    code, name, errors, summed = (head.index(h) for h in ("单位代码", "单位名称", "错误数", "计入汇总"))
    out = []
    for row in grid[top + 1 :]:
        n = row[errors] if errors < len(row) else ""
        if isinstance(n, int | float) and not isinstance(n, bool) and n > 0 and str(row[summed]).strip() == "是":
            out.append(str(row[name]).strip() or str(row[code]).strip())
    return out
