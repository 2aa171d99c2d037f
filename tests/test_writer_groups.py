"""A report that stores （六）其他处理 as one row still gives a workbook whose totals add up."""

from __future__ import annotations

import random
from dataclasses import replace
from pathlib import Path

import pytest

from xls_gongkai.report import Report, Unit
from xls_gongkai.rules import check_report
from xls_gongkai.sample import random_report
from xls_gongkai.spec import get_format
from xls_gongkai.workbook.writer import fold_group_values, write_workbook

try:
    from xls_gongkai.reading.reader import read_workbook
except ImportError:  # pragma: no cover - the reader is being ported to the new core
    read_workbook = None

needs_reader = pytest.mark.skipif(read_workbook is None, reason="reader is being rewritten on the core branch")

FMT = get_format(2024)
SUBROWS = ("oh_no_correction", "oh_no_fee", "oh_other")


def _unsplit(seed: int) -> Report:
    """A consistent report whose （六） sub-rows were printed as one row."""
    report = random_report(FMT, Unit("1", "某镇"), 2024, random.Random(seed))
    values = dict(report.values)
    for col in (c.id for c in FMT.table("t3").leaf_columns):
        group = sum(values.pop(("t3", sub, col), 0) for sub in SUBROWS)
        values[("t3", "other_handling", col)] = group
    return replace(report, values=values)


def test_fold_moves_the_unaccounted_part_to_the_last_subrow() -> None:
    report = _unsplit(1)
    folded = fold_group_values(report)
    assert not [k for k in folded.values if k[1] == "other_handling"]
    for col in (c.id for c in FMT.table("t3").leaf_columns):
        assert folded.value("t3", "other_handling", col) == report.value("t3", "other_handling", col)
        assert folded.values.get(("t3", "oh_no_correction", col)) is None
    assert check_report(folded) == []


@needs_reader
def test_workbook_of_an_unsplit_report_reads_back_consistent(tmp_path: Path) -> None:
    report = _unsplit(2)
    assert check_report(report) == []
    path = write_workbook(tmp_path / "x.xlsx", report)
    assert read_workbook is not None
    back = read_workbook(path)
    assert back.report is not None
    assert [i for i in back.issues if i.is_error] == []
    for col in (c.id for c in FMT.table("t3").leaf_columns):
        assert back.report.value("t3", "results_total", col) == report.value("t3", "results_total", col)
        assert back.report.value("t3", "other_handling", col) == report.value("t3", "other_handling", col)


def test_workbook_of_an_unsplit_report_has_the_group_s_totals_and_passes(tmp_path: Path) -> None:
    """Without the reader: the sheet's cached totals keep the group's value and every check passes."""
    from python_calamine import CalamineWorkbook

    from xls_gongkai.workbook.layout import layout_for

    report = _unsplit(3)
    path = write_workbook(tmp_path / "x.xlsx", report)
    lay = layout_for(FMT)
    book = CalamineWorkbook.from_path(str(path))
    grids = {n: book.get_sheet_by_name(n).to_python(skip_empty_area=False) for n in lay.sheets}
    fc = lay.failures_cell
    assert grids[fc.sheet][fc.row][fc.col] == 0
    for col in (c.id for c in FMT.table("t3").leaf_columns):
        total = lay.pos("t3", "results_total", col)
        assert grids[total.sheet][total.row][total.col] == report.value("t3", "results_total", col)
        parts = [lay.pos("t3", sub, col) for sub in SUBROWS]
        assert sum(grids[p.sheet][p.row][p.col] or 0 for p in parts) == report.value("t3", "other_handling", col)
