"""parsing.grid: one finder for a report's tables in a grid — a workbook's sheet or a document's rows.

The acceptance test of issue 10 item 4: each real published report in tests/data/, laid out
cell by cell into an .xlsx as a clerk would hand-make it (labels in merged cells, numbers typed
as numbers, one sheet per table section or all on one sheet, a title above and a note below),
is found by :mod:`xls_gongkai.parsing.grid` with exactly the values the document importer reads
from the published text — the rows （六）/（七） that sit in another column than their siblings
included (坡头镇 2020).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from tests.reports import HUAIAN, POTOUZHEN, SHANGHAI
from xls_gongkai.documents.importer import import_document
from xls_gongkai.parsing.grid import Located, at, find_tables, is_value, locate_table
from xls_gongkai.parsing.values import parse_cell
from xls_gongkai.report import CellKey, Value
from xls_gongkai.spec import Format, get_format

REPORTS = [SHANGHAI, POTOUZHEN, HUAIAN]
Rows = list[list[str]]


def table_rows(path: Path) -> dict[str, Rows]:
    """The table part of a published report's text by section (二、三、四): the section heading,
    the block titles and every tab-separated row, cell by cell as published."""
    out: dict[str, Rows] = {}
    section = ""
    for line in path.read_text(encoding="utf-8").splitlines():
        text = line.strip()
        if "\t" not in line and re.match(r"^[一二三四五六七八九]、", text):
            section = text if text[0] in "二三四" else ""
            if section:
                out[section] = [[text]]
            continue
        if not section:
            continue
        if "\t" in line:
            out[section].append([c.strip() for c in line.split("\t")])
        elif text.startswith("第二十条"):
            out[section].append([text])
    return out


def _typed(text: str) -> Any:
    """What a clerk's cell holds: numbers typed as numbers, the rest as text."""
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    if re.fullmatch(r"-?\d+\.\d+", text):
        return float(text)
    return text


def _blocks(rows: Rows) -> list[tuple[int, int]]:
    """(first, last) rows of each table block: a title row (one cell) starts a new one."""
    out: list[tuple[int, int]] = []
    start = 0
    for i, row in enumerate(rows):
        if len([c for c in row if c]) == 1 and len(row) == 1 and i > start:
            out.append((start, i - 1))
            start = i
    out.append((start, len(rows) - 1))
    return out


def _merges(rows: Rows) -> list[tuple[int, int, int, int]]:
    """The merged ranges a clerk would make: a label over the empty cells right of it (to the
    next text; in a data row only up to its values) and down over the empty cells below it
    (a group label over its sub-rows, a header label over the header rows below)."""
    claimed: set[tuple[int, int]] = set()
    out: list[tuple[int, int, int, int]] = []
    for first, last in _blocks(rows):
        width = max(len(r) for r in rows[first : last + 1])
        data_from = next((i for i in range(first, last + 1) if any(is_value(c) for c in rows[i])), last + 1)
        for r in range(first, last + 1):
            row = rows[r]
            for c, text in enumerate(row):
                if not text or is_value(text) or (r, c) in claimed or len(row) == 1:
                    continue
                header = r < data_from
                right = c
                while (
                    right + 1 < (width if header else len(row))
                    and not _cell(rows, r, right + 1)
                    and (r, right + 1) not in claimed
                ):
                    right += 1
                if not header and any(is_value(_cell(rows, r, x)) for x in range(right + 1, len(row))) is False:
                    right = c  # a data row with no values: its label stays in its cell
                bottom = r
                limit = data_from - 1 if header else last
                while bottom + 1 <= limit and _free_below(rows, bottom + 1, c, right, claimed, header):
                    bottom += 1
                cells = {(y, x) for y in range(r, bottom + 1) for x in range(c, right + 1)}
                claimed |= cells
                if len(cells) > 1:
                    out.append((r, c, bottom, right))
    return out


def _cell(rows: Rows, r: int, c: int) -> str:
    return rows[r][c] if 0 <= r < len(rows) and 0 <= c < len(rows[r]) else ""


def _free_below(rows: Rows, r: int, c: int, right: int, claimed: set[tuple[int, int]], header: bool) -> bool:
    if any(_cell(rows, r, x) or (r, x) in claimed for x in range(c, right + 1)):
        return False
    if header:
        return True
    # a group label spans its sub-rows: rows with a label further right and nothing left of it
    row = rows[r]
    return any(_cell(rows, r, x) and not is_value(_cell(rows, r, x)) for x in range(right + 1, len(row))) and not any(
        _cell(rows, r, x) for x in range(c)
    )


def write_hand_made(path: Path, sheets: Mapping[str, Rows]) -> Path:
    """An .xlsx written with openpyxl, cell by cell, with merged ranges, as a clerk makes it."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for r, row in enumerate(rows):
            for c, text in enumerate(row):
                if text:
                    ws.cell(r + 1, c + 1, _typed(text))
        for r1, c1, r2, c2 in _merges(rows):
            ws.merge_cells(start_row=r1 + 1, start_column=c1 + 1, end_row=r2 + 1, end_column=c2 + 1)
    wb.save(path)
    return path


def grids(path: Path) -> dict[str, list[list[Any]]]:
    book = CalamineWorkbook.from_path(str(path))
    return {n: book.get_sheet_by_name(n).to_python(skip_empty_area=False) for n in book.sheet_names}


def values_found(sheets: Mapping[str, Sequence[Sequence[Any]]], fmt: Format) -> dict[CellKey, Value]:
    """The values of every table of ``fmt`` found in the sheets (the best place of each)."""
    best: dict[str, tuple[Located, Sequence[Sequence[Any]]]] = {}
    for name, grid in sheets.items():
        for tid, loc in find_tables(grid, name, fmt.tables).located.items():
            if tid not in best or len(loc.cells) > len(best[tid][0].cells):
                best[tid] = (loc, grid)
    out: dict[CellKey, Value] = {}
    for tid, (loc, grid) in best.items():
        table = fmt.table(tid)
        for rid in loc.rows:
            for col in table.leaf_columns:
                pos = loc.pos(rid, col.id)
                if pos is None:
                    continue
                parsed = parse_cell(at(grid, *pos), table.cell_kind(rid, col.id), table.unit(rid, col.id))
                if parsed.value is not None:
                    out[(tid, rid, col.id)] = parsed.value
    return out


@pytest.mark.parametrize("layout", ["sheet-per-table", "one-sheet"])
@pytest.mark.parametrize("source", REPORTS, ids=lambda p: p.stem)
def test_a_hand_made_workbook_of_a_real_report_reads_as_the_report(source: Path, layout: str, tmp_path: Path) -> None:
    imported = import_document(source).report
    assert imported is not None
    sections = table_rows(source)
    assert len(sections) == 3
    if layout == "sheet-per-table":
        sheets = {name: rows for name, rows in zip(("表二", "表三", "表四"), sections.values(), strict=True)}
    else:
        one: Rows = [[f"{imported.unit.name}{imported.year}年政府信息公开工作年度报告"], []]
        for rows in sections.values():
            one += [*rows, ["注：本表由办公室填报。"], []]
        sheets = {"Sheet1": one}
    book = write_hand_made(tmp_path / f"{layout}.xlsx", sheets)
    found = values_found(grids(book), imported.format)
    assert found == dict(imported.values)


def test_the_hand_made_layout_has_merged_labels(tmp_path: Path) -> None:
    """The workbooks above really are laid out with merged cells (what calamine reads as blanks)."""
    rows = table_rows(HUAIAN)["三、收到和处理政府信息公开申请情况"]
    book = write_hand_made(tmp_path / "t3.xlsx", {"表三": rows})
    merged = {str(r) for r in openpyxl.load_workbook(book)["表三"].merged_cells.ranges}
    assert "A2:C4" in merged  # the corner note over three columns and the three header rows
    assert "D2:J2" in merged  # 申请人情况 over the seven applicant columns
    assert "A7:A28" in merged  # 三、本年度办理结果 down its 22 rows
    grid = grids(book)["表三"]
    assert at(grid, 7, 0) in ("", None)  # the merged parent label is blank below its first row


def test_rows_in_another_column_than_their_siblings(tmp_path: Path) -> None:
    """坡头镇 prints （六）其他处理 and （七）总计 in the sub-row column under （五）, one cell right
    of （一）…（五）: they are found by their labels, in any column."""
    fmt = get_format("gongkai-2019")
    rows = table_rows(POTOUZHEN)["三、收到和处理政府信息公开申请情况"]
    assert any(row[2:3] == ["(六) 其他处理"] for row in rows)
    grid = grids(write_hand_made(tmp_path / "t3.xlsx", {"表三": rows}))["表三"]
    loc = locate_table(grid, "表三", fmt.table("t3"))
    assert loc is not None
    assert {"other_handling", "results_total"} <= set(loc.rows)
    assert len(loc.rows) == len(fmt.table("t3").leaf_rows)
    r, c = loc.pos("results_total", "natural") or (0, 0)
    assert at(grid, r, c) == 1
