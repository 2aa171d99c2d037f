"""annotate: marked-up copies built fresh from the template, problems commented at the template's cells."""

from __future__ import annotations

import hashlib
import random
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import xlsxwriter
from python_calamine import CalamineWorkbook

from xls_gongkai.errors import UsageError
from xls_gongkai.issues import Code, Issue, Result
from xls_gongkai.reading.reader import read_workbook
from xls_gongkai.report import Report, Unit
from xls_gongkai.sample import broken, random_report
from xls_gongkai.spec import Severity, get_format
from xls_gongkai.workbook.annotate import annotate, annotate_all, annotated_name, relocate
from xls_gongkai.workbook.layout import META_SHEET, layout_for
from xls_gongkai.workbook.writer import ISSUES_SHEET, write_workbook

FMT = get_format(2023)
TEXTS = {"s1": "总体情况", "s5": "问题", "s6": "本年度未收取信息处理费"}


TOWN = Unit("001", "城关镇")


def report(seed: int = 1, unit: Unit = TOWN) -> Report:
    return random_report(FMT, unit, 2023, random.Random(seed), TEXTS)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def grids_of(path: Path) -> dict[str, list[list[Any]]]:
    book = CalamineWorkbook.from_path(str(path))
    return {n: book.get_sheet_by_name(n).to_python(skip_empty_area=False) for n in book.sheet_names}


def write_grids(path: Path, grids: dict[str, list[list[Any]]]) -> Path:
    wb = xlsxwriter.Workbook(str(path))
    for name, grid in grids.items():
        ws = wb.add_worksheet(name)
        for r, row in enumerate(grid):
            for c, v in enumerate(row):
                if v is None or v == "":
                    continue
                ws.write(r, c, v)
        if name == META_SHEET:
            ws.very_hidden()
    wb.close()
    return path


def test_template_copy_has_comments_links_and_the_units_values(tmp_path: Path) -> None:
    bad = broken(report(), ("t3", "new", "natural"), 2)
    src = write_workbook(tmp_path / "in" / "城关镇.xlsx", bad)
    before = digest(src)
    result = read_workbook(src)
    rule_cells = {(i.sheet, i.cell) for i in result.issues if i.code == "R1"}
    assert rule_cells
    out = annotate(result, tmp_path / "out")
    assert out is not None
    assert out.name == "001_城关镇_审核意见.xlsx"
    assert digest(src) == before  # the unit's file is never written
    wb = openpyxl.load_workbook(out)
    for sheet, cell in rule_cells:
        comment = wb[sheet][cell].comment
        assert comment is not None
        assert "R1" in comment.text
    listing = wb[ISSUES_SHEET]
    links = [c.hyperlink.location for row in listing.iter_rows() for c in row if c.hyperlink is not None]
    for sheet, cell in rule_cells:
        assert f"'{sheet}'!{cell}" in links
    # The copy is a template again: it reads back to the same figures.
    again = read_workbook(out)
    assert again.report is not None
    assert again.report.values == result.report.values  # type: ignore[union-attr]


def test_moved_rows_are_commented_at_the_templates_cells(tmp_path: Path) -> None:
    bad = broken(report(seed=2), ("t3", "new", "natural"), 5)
    clean = write_workbook(tmp_path / "clean.xlsx", bad)
    grids = grids_of(clean)
    lay = layout_for(FMT)
    t3 = lay.tables["t3"]
    # A clerk unprotected the sheet and inserted an empty row above the data rows.
    grids["表三"].insert(t3.data_top, [])
    moved = write_grids(tmp_path / "moved.xlsx", grids)
    result = read_workbook(moved)
    assert any(i.code == Code.STRUCTURE_CHANGED for i in result.issues)
    r1 = [i for i in result.issues if i.code == "R1"]
    assert r1
    natural = lay.pos("t3", "new", "natural")
    shifted = f"{natural.a1[0]}{natural.row + 2}"
    assert any(shifted in i.cells for i in r1)  # the unit's own address, one row down
    relocated = [i for i in relocate(result) if i.code == "R1"]
    assert any(i.sheet == "表三" and natural.a1 in i.cells for i in relocated)
    out = annotate(result, tmp_path / "out")
    assert out is not None
    ws = openpyxl.load_workbook(out)["表三"]
    first = next(i for i in relocated if natural.a1 in i.cells)
    comment = ws[first.cell].comment
    assert comment is not None
    assert "R1" in comment.text


def test_unlocatable_issues_are_listed_without_a_cell() -> None:
    rep = report()
    issue = Issue(Code.UNRECOGNISED, Severity.WARNING, "未识别的内容", sheet="Sheet9", cell="Z99", cells=("Z99",))
    result = Result(rep, [issue], "x.xlsx", {"located_by": "labels", "cells": {}})
    (moved,) = relocate(result)
    assert (moved.sheet, moved.cell, moved.cells) == ("", "", ())
    assert moved.message == issue.message


def test_nothing_to_annotate(tmp_path: Path) -> None:
    assert annotate(Result(None, [Issue(Code.FILE_UNREADABLE, Severity.ERROR, "坏")], "bad.xlsx"), tmp_path) is None
    assert annotate(Result(report(), [], "good.xlsx"), tmp_path) is None
    warning = Issue(Code.MISSING, Severity.WARNING, "未填写", sheet="表三", cell="D7", cells=("D7",))
    only_warning = Result(report(), [warning], "w.xlsx")
    assert annotate(only_warning, tmp_path, min_severity=Severity.ERROR) is None
    assert annotate(only_warning, tmp_path) is not None
    assert not (tmp_path / "bad_审核意见.xlsx").exists()


def test_annotate_all_keeps_two_files_of_one_unit_apart(tmp_path: Path) -> None:
    issue = Issue(Code.MISSING, Severity.WARNING, "未填写", sheet="表三", cell="D7", cells=("D7",))
    a = Result(report(1), [issue], "a/城关镇.xlsx")
    b = Result(report(2), [issue], "b/城关镇(修改).xlsx")
    c = Result(report(3, Unit("002", "东城街道")), [], "c.xlsx")
    paths = annotate_all([a, b, c], tmp_path)
    assert [p.name for p in paths] == ["001_城关镇_审核意见.xlsx", "001_城关镇_城关镇(修改)_审核意见.xlsx"]
    assert all(p.exists() for p in paths)


def test_name_is_safe_for_any_file_system() -> None:
    rep = report(unit=Unit("a/b", 'x:"y"'))
    assert annotated_name(Result(rep, [], "s.xlsx")) == "a_b_x_y__审核意见.xlsx"
    assert annotated_name(Result(None, [], "dir/原文件.xls")) == "原文件_审核意见.xlsx"


def test_refuses_to_overwrite_the_source(tmp_path: Path) -> None:
    src = tmp_path / "001_城关镇_审核意见.xlsx"
    write_workbook(src, report())
    issue = Issue(Code.MISSING, Severity.WARNING, "未填写", sheet="表三", cell="D7", cells=("D7",))
    with pytest.raises(UsageError, match="原文件"):
        annotate(Result(report(), [issue], str(src)), tmp_path)
    assert read_workbook(src).report is not None  # untouched


def test_a_file_as_the_folder_is_a_usage_error(tmp_path: Path) -> None:
    not_a_folder = tmp_path / "x.xlsx"
    not_a_folder.write_bytes(b"")
    issue = Issue(Code.MISSING, Severity.WARNING, "未填写", sheet="表三", cell="D7", cells=("D7",))
    with pytest.raises(UsageError, match="不是文件夹"):
        annotate_all([Result(report(), [issue], "a.xlsx")], not_a_folder)


def test_check_annotate_end_to_end(tmp_path: Path) -> None:
    """`check DIR --annotate OUT`: one copy per unit with issues, none for a clean unit, sources untouched."""
    from typer.testing import CliRunner

    from xls_gongkai.cli import app

    inbox = tmp_path / "回收"
    clean = write_workbook(inbox / "东城街道.xlsx", report(seed=4, unit=Unit("002", "东城街道")))
    wrong = write_workbook(inbox / "城关镇.xlsx", broken(report(seed=5), ("t3", "new", "natural"), 1))
    before = {p: digest(p) for p in (clean, wrong)}
    out = tmp_path / "退回"
    result = CliRunner().invoke(app, ["check", str(inbox), "--annotate", str(out)])
    assert result.exit_code == 1, result.output
    assert sorted(p.name for p in out.iterdir()) == ["001_城关镇_审核意见.xlsx"]
    assert {p: digest(p) for p in (clean, wrong)} == before
    copy = openpyxl.load_workbook(out / "001_城关镇_审核意见.xlsx")
    natural = layout_for(FMT).pos("t3", "new", "natural")
    comment = copy["表三"][natural.a1].comment
    assert comment is not None
    assert "R1" in comment.text


@pytest.mark.parametrize("format_id", ["gongkai-2019", "gongkai-2021"])
def test_hand_made_workbook_gets_a_template_copy(tmp_path: Path, format_id: str) -> None:
    """A workbook without our metadata (copied tables, shifted two columns right) is read by
    its labels; the copy is a real template of its format with the issue at the template cell."""
    fmt = get_format(format_id)
    bad = broken(
        random_report(fmt, Unit("003", "西城街道"), fmt.year_from + 1, random.Random(6), TEXTS),
        ("t3", "new", "natural"),
        4,
    )
    grids = grids_of(write_workbook(tmp_path / "src.xlsx", bad))
    del grids[META_SHEET]
    for sheet in ("表二", "表三", "表四"):
        grids[sheet] = [[None, None, *row] for row in grids[sheet]]
    hand = write_grids(tmp_path / "手工.xlsx", grids)
    result = read_workbook(hand, unit=Unit("003", "西城街道"))
    assert result.report is not None
    assert result.report.format_id == format_id
    natural = layout_for(fmt).pos("t3", "new", "natural")
    moved = [i for i in relocate(result) if i.code == "R1" and natural.a1 in i.cells]
    assert moved
    out = annotate(result, tmp_path / "out")
    assert out is not None
    copy = openpyxl.load_workbook(out)
    comment = copy["表三"][moved[0].cell].comment
    assert comment is not None
    assert "R1" in comment.text
    assert read_workbook(out).report.values == result.report.values  # type: ignore[union-attr]
