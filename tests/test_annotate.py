"""annotate: marked-up copies built fresh from the template, problems commented at the template's cells.

The tests build the :class:`Result` the reader would give (values, issues located by the
template's layout, ``cells`` = where each value was read) so they prove annotate on its own; the
end-to-end tests that go through ``read_workbook`` and ``check --annotate`` skip while the reader
is being ported to the new core.
"""

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
from xls_gongkai.issues import Code, Issue, Result, issue
from xls_gongkai.report import Report, Unit
from xls_gongkai.rules import check_report, engine
from xls_gongkai.sample import broken, random_report
from xls_gongkai.spec import Severity, get_format
from xls_gongkai.workbook.annotate import annotate, annotate_all, annotated_name, relocate
from xls_gongkai.workbook.layout import GUIDE_SHEET, ISSUES_SHEET, META_SHEET, Pos, layout_for
from xls_gongkai.workbook.writer import META_KEYS, write_workbook

try:
    from xls_gongkai.reading.reader import read_workbook
except ImportError:  # pragma: no cover - the reader is being ported to the new core
    read_workbook = None

needs_reader = pytest.mark.skipif(read_workbook is None, reason="reader is being rewritten on the core branch")

FMT = get_format(2023)
LAY = layout_for(FMT)
TEXTS = {
    "s1": "总体情况",
    "s5": "存在的主要问题是信息更新不够及时、政策解读形式较为单一；下一步将加强培训，完善发布审核制度。",
    "s6": "本年度未收取信息处理费",
}
TOWN = Unit("001", "城关镇")


def report(seed: int = 1, unit: Unit = TOWN) -> Report:
    return random_report(FMT, unit, 2023, random.Random(seed), TEXTS)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def as_read(rep: Report, source: str = "城关镇.xlsx", **kw: Any) -> Result:
    """The result the reader gives for our own template filled with ``rep``."""
    issues = tuple(check_report(rep, locate=LAY.locate, locate_text=LAY.locate_text))
    return Result(rep, issues, source, "xlsx", "template", LAY.cell_refs, **kw)


def warning(sheet: str = "表三", cell: str = "D7") -> Issue:
    return issue(Code.NUMBER_IN_TEXT, place=f"{sheet} {cell}", note="“5件”", sheet=sheet, cell=cell, cells=(cell,))


def comments(path: Path) -> dict[tuple[str, str], str]:
    wb = openpyxl.load_workbook(path)
    return {
        (ws.title, c.coordinate): c.comment.text
        for ws in wb.worksheets
        for row in ws.iter_rows()
        for c in row
        if c.comment
    }


def links(path: Path) -> list[str]:
    listing = openpyxl.load_workbook(path)[ISSUES_SHEET]
    return [c.hyperlink.location for row in listing.iter_rows() for c in row if c.hyperlink is not None]


def test_template_copy_has_comments_links_and_the_units_values(tmp_path: Path) -> None:
    bad = broken(report(), ("t3", "new", "natural"), 2)
    result = as_read(bad)
    rule_cells = {(i.sheet, i.cell) for i in result.issues if i.code == "R1"}
    assert rule_cells
    out = annotate(result, tmp_path / "out")
    assert out is not None
    assert out.name == "001_城关镇_审核意见.xlsx"
    found = comments(out)
    for where in rule_cells:
        assert "【错误：申请办理情况平衡】" in found[where]  # named for the clerk, not by its code
    for sheet, cell in rule_cells:
        assert f"'{sheet}'!{cell}" in links(out)
    # The copy is the template again, with the unit's figures (totals as its formulas compute them).
    grids = _grids(out)
    for key, value in engine(FMT).with_totals(bad.values).items():
        p = LAY.pos(*key)
        assert grids[p.sheet][p.row][p.col] == pytest.approx(float(value)), key
    for sid, text in TEXTS.items():
        c = LAY.texts[sid].cell
        assert grids[c.sheet][c.row][c.col] == text


def test_moved_rows_are_commented_at_the_templates_cells(tmp_path: Path) -> None:
    """A workbook whose rows were moved (read by labels): the reader's map says where each value
    was; every issue about a value cell goes to the template's cell for it."""
    bad = broken(report(seed=2), ("t3", "new", "natural"), 5)
    # The clerk inserted a row above 表三's data: every value of 表三 sits one row lower.
    moved = {
        k: (s, Pos(s, p.row + 1, p.col).a1) if k[0] == "t3" else (s, a)
        for k, (s, a) in LAY.cell_refs.items()
        for p in [LAY.pos(*k)]
    }
    theirs = tuple(check_report(bad, locate=lambda k: moved.get(k) or LAY.locate(k)))
    result = Result(bad, theirs, "moved.xlsx", "xlsx", "labels", moved)
    natural = LAY.pos("t3", "new", "natural")
    shifted = Pos("表三", natural.row + 1, natural.col).a1
    r1 = [i for i in result.issues if i.code == "R1"]
    assert any(shifted in i.cells for i in r1)  # the unit's own address, one row down
    relocated = [i for i in relocate(result) if i.code == "R1"]
    ours = {i.key: i for i in check_report(bad, locate=LAY.locate) if i.code == "R1"}
    assert relocated
    for i in relocated:  # exactly where the template has the cells of the failing check
        assert (i.sheet, i.cell, i.cells) == (ours[i.key].sheet, ours[i.key].cell, ours[i.key].cells)
    assert any(natural.a1 in i.cells for i in relocated)
    out = annotate(result, tmp_path / "out")
    assert out is not None
    first = next(i for i in relocated if natural.a1 in i.cells)
    assert "申请办理情况平衡" in comments(out)[("表三", first.cell)]


def test_unlocatable_issues_are_listed_without_a_cell() -> None:
    unknown = issue(Code.UNRECOGNISED, note="Sheet9!Z99 有“备注”", sheet="Sheet9", cell="Z99", cells=("Z99",))
    result = Result(report(), (unknown,), "x.xlsx", located_by="labels", cells={})
    (moved,) = relocate(result)
    assert (moved.sheet, moved.cell, moved.cells) == ("", "", ())
    assert moved.message == unknown.message


def test_nothing_to_annotate(tmp_path: Path) -> None:
    unreadable = issue(Code.FILE_UNREADABLE, note="坏", file="bad.xlsx")
    assert annotate(Result(None, (unreadable,), "bad.xlsx"), tmp_path) is None
    assert annotate(Result(report(), (), "good.xlsx"), tmp_path) is None
    only_warning = Result(report(), (warning(),), "w.xlsx")
    assert annotate(only_warning, tmp_path, min_severity=Severity.ERROR) is None
    notice = issue(Code.BLANK_CELLS, table="t3", table_name="表三", count=3)
    assert annotate(Result(report(), (notice,), "n.xlsx"), tmp_path) is None  # a notice alone: no copy
    assert annotate(Result(report(), (notice,), "n.xlsx"), tmp_path, min_severity=Severity.NOTICE) is not None
    assert annotate(only_warning, tmp_path) is not None
    assert not (tmp_path / "bad_审核意见.xlsx").exists()


def test_deadline_and_contact_are_carried_from_the_units_template(tmp_path: Path) -> None:
    """UX finding 11: the 退回件 keeps the deadline and contact the template was generated with,
    unless the officer sets new ones."""
    meta = {"deadline": "2025年2月20日", "contact": "县政务公开办 0000-1234567"}
    result = Result(report(), (warning(),), "a.xlsx", meta=meta)
    kept = annotate(result, tmp_path / "kept")
    assert kept is not None
    text = _guide_text(kept)
    assert "2025年2月20日" in text
    assert "0000-1234567" in text
    assert _meta(kept)["deadline"] == "2025年2月20日"
    from xls_gongkai.workbook.writer import WriteOptions

    new = annotate(result, tmp_path / "new", options=WriteOptions(deadline="2025年3月1日"))
    assert new is not None
    assert "2025年3月1日" in _guide_text(new)
    assert "0000-1234567" in _guide_text(new)


def test_annotate_all_keeps_two_files_of_one_unit_apart(tmp_path: Path) -> None:
    a = Result(report(1), (warning(),), "a/城关镇.xlsx")
    b = Result(report(2), (warning(),), "b/城关镇(修改).xlsx")
    c = Result(report(3, Unit("002", "东城街道")), (), "c.xlsx")
    paths = annotate_all([a, b, c], tmp_path)
    assert [p.name for p in paths] == ["001_城关镇_审核意见.xlsx", "001_城关镇_城关镇(修改)_审核意见.xlsx"]
    assert all(p.exists() for p in paths)


def test_name_is_safe_for_any_file_system() -> None:
    rep = report(unit=Unit("a/b", 'x:"y"'))
    assert annotated_name(Result(rep, (), "s.xlsx")) == "a_b_x_y__审核意见.xlsx"
    assert annotated_name(Result(None, (), "dir/原文件.xls")) == "原文件_审核意见.xlsx"


def test_refuses_to_overwrite_the_source(tmp_path: Path) -> None:
    src = tmp_path / "001_城关镇_审核意见.xlsx"
    write_workbook(src, report())
    before = digest(src)
    with pytest.raises(UsageError, match="原文件"):
        annotate(Result(report(), (warning(),), str(src)), tmp_path)
    assert digest(src) == before  # untouched


def test_a_file_as_the_folder_is_a_usage_error(tmp_path: Path) -> None:
    not_a_folder = tmp_path / "x.xlsx"
    not_a_folder.write_bytes(b"")
    with pytest.raises(UsageError, match="不是文件夹"):
        annotate_all([Result(report(), (warning(),), "a.xlsx")], not_a_folder)


def test_issue_list_counts_every_severity_and_says_it_does_not_update(tmp_path: Path) -> None:
    bad = broken(report(), ("t3", "new", "natural"), 2)
    result = as_read(bad)
    out = annotate(result, tmp_path, min_severity=Severity.NOTICE)
    assert out is not None
    listing = openpyxl.load_workbook(out)[ISSUES_SHEET]
    errors = sum(1 for i in result.issues if i.is_error)
    assert f"错误 {errors} 项" in str(listing["A1"].value)
    assert "不会自动更新" in str(listing["A2"].value)
    assert len(links(out)) == sum(1 for i in result.issues if i.cell)


# --------------------------------------------------------------------------- through the reader


def _grids(path: Path) -> dict[str, list[list[Any]]]:
    book = CalamineWorkbook.from_path(str(path))
    return {n: book.get_sheet_by_name(n).to_python(skip_empty_area=False) for n in book.sheet_names}


def _guide_text(path: Path) -> str:
    ws = openpyxl.load_workbook(path)[GUIDE_SHEET]
    return "\n".join(str(c.value) for row in ws.iter_rows() for c in row if c.value is not None)


def _meta(path: Path) -> dict[str, str]:
    ws = openpyxl.load_workbook(path)[META_SHEET]
    return {ws.cell(r, 1).value: ws.cell(r, 2).value for r in range(2, 2 + len(META_KEYS))}


def _write_grids(path: Path, grids: dict[str, list[list[Any]]]) -> Path:
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


@needs_reader
def test_read_then_annotate_reads_back_to_the_same_figures(tmp_path: Path) -> None:
    assert read_workbook is not None
    bad = broken(report(), ("t3", "new", "natural"), 2)
    src = write_workbook(tmp_path / "in" / "城关镇.xlsx", bad)
    before = digest(src)
    result = read_workbook(src)
    out = annotate(result, tmp_path / "out")
    assert out is not None
    assert digest(src) == before  # the unit's file is never written
    again = read_workbook(out)
    assert again.report is not None
    assert result.report is not None
    assert again.report.values == result.report.values


@needs_reader
@pytest.mark.parametrize("format_id", ["gongkai-2019", "gongkai-2021"])
def test_hand_made_workbook_gets_a_template_copy(tmp_path: Path, format_id: str) -> None:
    """A workbook without our metadata (copied tables, shifted two columns right) is read by
    its labels; the copy is a real template of its format with the issue at the template cell."""
    assert read_workbook is not None
    fmt = get_format(format_id)
    bad = broken(
        random_report(fmt, Unit("003", "西城街道"), fmt.year_from + 1, random.Random(6), TEXTS),
        ("t3", "new", "natural"),
        4,
    )
    grids = _grids(write_workbook(tmp_path / "src.xlsx", bad))
    del grids[META_SHEET]
    for sheet in layout_for(fmt).data_sheets:
        grids[sheet] = [[None, None, *row] for row in grids[sheet]]
    hand = _write_grids(tmp_path / "手工.xlsx", grids)
    result = read_workbook(hand, unit=Unit("003", "西城街道"))
    assert result.report is not None
    assert result.report.format is fmt
    natural = layout_for(fmt).pos("t3", "new", "natural")
    moved = [i for i in relocate(result) if i.code == "R1" and natural.a1 in i.cells]
    assert moved
    out = annotate(result, tmp_path / "out")
    assert out is not None
    assert "申请办理情况平衡" in comments(out)[("表三", moved[0].cell)]


@needs_reader
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
    natural = LAY.pos("t3", "new", "natural")
    assert "申请办理情况平衡" in comments(out / "001_城关镇_审核意见.xlsx")[("表三", natural.a1)]


def test_a_text_number_stays_in_the_copy_and_its_check_fails_there(tmp_path: Path) -> None:
    """The clerk typed "１２" in a number cell: the copy shows "１２" there, not a blank, and its
    sheet fails the way the unit's did — in the cached results and after LibreOffice recomputes
    them — so that the 退回件 and its 问题清单 say the same."""
    from tests.lo import SOFFICE, convert
    from xls_gongkai.reading.reader import read_workbook

    lay = layout_for(FMT)
    key = ("t3", "np_repeat", "natural")
    sheet, a1 = lay.locate(key)
    book = write_workbook(tmp_path / "城关镇.xlsx", report())
    wb = openpyxl.load_workbook(book)
    wb[sheet][a1] = "１２"
    wb.save(book)
    result = read_workbook(book)
    assert result.not_numbers == {key: "１２"}
    assert Result.from_json(result.to_json()).not_numbers == result.not_numbers
    copy = annotate(result, tmp_path / "退回")
    assert copy is not None
    assert openpyxl.load_workbook(copy)[sheet][a1].value == "１２"
    cached = openpyxl.load_workbook(copy, data_only=True)
    guide_failures = next(r[1].value for r in cached[GUIDE_SHEET].iter_rows() if r[0].value == "未通过校验数")
    failing = len([i for i in result.errors if i.code.startswith("R")])  # R5 here, and what 0 breaks
    assert failing >= 1
    assert guide_failures == failing
    again = read_workbook(copy)
    assert [(i.code, i.sheet, i.cell) for i in again.errors] == [(i.code, i.sheet, i.cell) for i in result.errors]
    if SOFFICE is None:
        pytest.skip("LibreOffice (soffice) 未安装：跳过重算")
    (recalculated,) = convert([copy], "xlsx", tmp_path / "lo", recalc=True)
    wb = openpyxl.load_workbook(recalculated, data_only=True)
    assert next(r[1].value for r in wb[GUIDE_SHEET].iter_rows() if r[0].value == "未通过校验数") == failing
