"""reader.read_workbook: our templates read back exactly, and every odd workbook a clerk sends."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import xlsxwriter
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from python_calamine import CalamineWorkbook

from tests.conftest import consistent_reports
from xls_gongkai.batch.read import read_many
from xls_gongkai.errors import TemplateMismatchError
from xls_gongkai.issues import HINT_CODES, Code, Result
from xls_gongkai.reading.reader import read_workbook
from xls_gongkai.report import Report, Unit, reports_to_frame
from xls_gongkai.rules import engine
from xls_gongkai.sample import broken, random_report
from xls_gongkai.spec import Format, Severity, builtin_formats, get_format
from xls_gongkai.workbook.layout import META_SHEET, layout_for
from xls_gongkai.workbook.writer import write_workbook

FORMATS = builtin_formats()
TEXTS = {
    "s1": "总体情况",
    "s5": "存在的主要问题是信息更新不够及时、政策解读形式较为单一；下一步将加强培训，完善发布审核制度。",
    "s6": "本年度未收取信息处理费。",
}
Grids = dict[str, list[list[Any]]]


TOWN = Unit("001", "城关镇")


def sample(fmt: Format, seed: int = 1, unit: Unit = TOWN) -> Report:
    return random_report(fmt, unit, fmt.year_from + 1, random.Random(seed), TEXTS)


def grids_of(path: Path) -> Grids:
    book = CalamineWorkbook.from_path(str(path))
    return {n: book.get_sheet_by_name(n).to_python(skip_empty_area=False) for n in book.sheet_names}


def write_grids(path: Path, grids: Grids, hidden: tuple[str, ...] = (META_SHEET,)) -> Path:
    """A workbook holding these grids as plain values (what a hand-made workbook looks like)."""
    wb = xlsxwriter.Workbook(str(path))
    for name, grid in grids.items():
        ws = wb.add_worksheet(name)
        for r, row in enumerate(grid):
            for c, v in enumerate(row):
                if v == "" or v is None:
                    continue
                if isinstance(v, str):
                    ws.write_string(r, c, v)
                else:
                    ws.write(r, c, v)
        if name in hidden:
            ws.very_hidden()
    wb.close()
    return path


def codes(result: Result) -> Counter[str]:
    return Counter(i.code for i in result.issues)


def set_cell(grids: Grids, sheet: str, a1: str, value: Any) -> None:
    from xls_gongkai.workbook.layout import parse_a1

    r, c = parse_a1(a1)
    grid = grids[sheet]
    while len(grid) <= r:
        grid.append([])
    while len(grid[r]) <= c:
        grid[r].append("")
    grid[r][c] = value


# --------------------------------------------------------------------------- round trip


@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: f.id)
def test_round_trip_property(fmt: Format, tmp_path_factory: pytest.TempPathFactory) -> None:
    @settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(consistent_reports(fmt))
    def check(report: Report) -> None:
        path = tmp_path_factory.mktemp("rt") / "a.xlsx"
        write_workbook(path, report)
        result = read_workbook(path)
        assert result.report is not None
        assert dict(result.report.values) == dict(report.values)
        assert result.report.unit == report.unit
        assert result.report.year == report.year
        assert dict(result.report.texts) == dict(report.texts)
        assert result.issues == ()
        # the result names each value's sheet and cell
        lay = layout_for(fmt)
        frame = reports_to_frame([result.report])
        for row in frame.itertuples():
            pos = lay.pos(row.table, row.row, row.column)
            assert result.cells[(row.table, row.row, row.column)] == (pos.sheet, pos.a1)

    check()


def test_an_untouched_template_is_an_empty_submission(tmp_path: Path) -> None:
    fmt = get_format(2024)
    path = write_workbook(tmp_path / "blank.xlsx", Report(Unit("9", "东城街道"), 2024, fmt))
    result = read_workbook(path)
    assert result.report is not None
    assert not [v for k, v in result.report.values.items() if v]
    assert [i.code for i in result.errors] == [Code.EMPTY]
    assert Code.BLANK_CELLS not in codes(result)  # a blank template's blanks are no news
    assert not result.warnings  # nor are its empty text sections: one line says it all
    strict = read_workbook(path, strict=True)
    n_inputs = len(engine(fmt).inputs)
    assert sum(1 for i in strict.errors if i.code == Code.MISSING) == n_inputs


def test_blank_cells_are_one_notice_per_table(tmp_path: Path) -> None:
    """Zeros left blank, as clerks do: counted 0, told once per table, each one an error only with --strict."""
    fmt = get_format(2024)
    report = sample(fmt)
    values = {k: v for k, v in report.values.items() if k[0] != "t3" or v}
    path = write_workbook(tmp_path / "zeros.xlsx", replace(report, values=values))
    result = read_workbook(path)
    blank = [i for i in result.issues if i.code == Code.BLANK_CELLS]
    assert [(i.severity, i.sheet) for i in blank] == [(Severity.NOTICE, "表三")]
    n = sum(1 for k in engine(fmt).inputs if k[0] == "t3" and k not in values)
    assert blank[0].found == str(n)
    assert not result.errors
    assert dict(result.report.values) == {
        k: v for k, v in report.values.items() if k in values or k in engine(fmt).computed
    }
    strict = read_workbook(path, strict=True)
    assert sum(1 for i in strict.errors if i.code == Code.MISSING) == n


@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: f.id)
def test_broken_values_are_located(fmt: Format, tmp_path: Path) -> None:
    report = broken(sample(fmt), ("t3", "new", "natural"), 3)
    path = write_workbook(tmp_path / "b.xlsx", report)
    result = read_workbook(path)
    r1 = {i.column: i for i in result.issues if i.code == "R1"}
    assert set(r1) == {"natural", "total"}  # the detail column and the total it feeds
    issue = r1["natural"]
    pos = layout_for(fmt).pos("t3", "new", "natural")
    assert (issue.sheet, issue.cell, issue.file) == (pos.sheet, pos.a1, str(path))
    assert issue.unit_name == "城关镇"
    assert issue.column_label.endswith("自然人")
    assert issue.message
    assert issue.expected
    assert issue.found


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: f.id)
def test_rule_issues_of_a_template_are_the_rules_engines(
    fmt: Format, tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    """What the reader reports for the rules is exactly the one engine's verdict, in its order,
    located at the template's cells (with which cell is probably wrong)."""
    from xls_gongkai.rules import check_report

    rnd = random.Random(data.draw(st.integers(0, 10**6)))
    report = random_report(fmt, Unit("001", "城关镇"), fmt.year_from, rnd, TEXTS)
    inputs = sorted(engine(fmt).inputs)
    ruled = [k for k in inputs if k[0] in ("t3", "t4")]  # every cell there is in an equation
    keys = [data.draw(st.sampled_from(ruled)), *data.draw(st.lists(st.sampled_from(inputs), max_size=2))]
    for key in keys:
        report = broken(report, key, data.draw(st.sampled_from([-500, -1, 1, 7])))
    path = write_workbook(tmp_path_factory.mktemp("rules") / "b.xlsx", report)
    result = read_workbook(path)
    assert result.report is not None
    lay = layout_for(fmt)
    expected = check_report(result.report, None, lay.locate, lay.locate_text)
    assume(expected)  # something is broken (two changes can cancel out)
    got = [i for i in result.issues if i.code.startswith(("R", "T")) or i.code in HINT_CODES]
    assert [(i.code, i.cell, i.cells, i.message, i.expected, i.found) for i in got] == [
        (i.code, i.cell, i.cells, i.message, i.expected, i.found) for i in expected
    ]


# --------------------------------------------------------------------------- values typed oddly


def test_text_numbers_full_width_and_notes(tmp_path: Path) -> None:
    fmt = get_format(2021)
    report = sample(fmt)
    path = write_workbook(tmp_path / "a.xlsx", report)
    grids = grids_of(path)
    lay = layout_for(fmt)
    p_new = lay.pos("t3", "new", "natural")
    p_disc = lay.pos("t3", "disclosed", "natural")
    p_issued = lay.pos("t2_1", "regulations", "issued")
    p_fee = lay.pos("t2_8", "fees", "fee_amount")
    p_bad = lay.pos("t3", "partial", "commercial")
    n_new = report.values[("t3", "new", "natural")]
    set_cell(
        grids, p_new.sheet, p_new.a1, " " + str(n_new).translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    )
    set_cell(grids, p_disc.sheet, p_disc.a1, str(report.values[("t3", "disclosed", "natural")]) + ".0")
    set_cell(grids, p_issued.sheet, p_issued.a1, "22（其中修订16件）")
    set_cell(grids, p_fee.sheet, p_fee.a1, "251000元")
    set_cell(grids, p_bad.sheet, p_bad.a1, "若干")
    result = read_workbook(write_grids(tmp_path / "b.xlsx", grids))
    assert result.report is not None
    v = result.report.values
    # Text is not a number in the clerk's sheet (SUM takes 0, R5 turns the cell red): nor here.
    for p in (p_new, p_disc, p_issued, p_fee, p_bad):
        key = next(k for k, ref in lay.cell_refs.items() if ref == (p.sheet, p.a1))
        assert key not in v
    r5 = {i.cell: i for i in result.issues if i.code == "R5"}
    assert set(r5) >= {p_new.a1, p_disc.a1, p_issued.a1, p_fee.a1, p_bad.a1}
    assert all(r5[p.a1].is_error for p in (p_new, p_fee))
    assert f"看起来是 {n_new}" in r5[p_new.a1].message
    assert "看起来是 22" in r5[p_issued.a1].message
    assert "看起来是 25.1万元" in r5[p_fee.a1].message
    assert "若干" in r5[p_bad.a1].message
    assert "不是数字" in r5[p_bad.a1].message
    # ...and the relations over them count 0, as the sheet's do: 表三 自然人 no longer balances
    assert any(i.code == "R1" and i.column == "natural" for i in result.issues)


def test_total_typed_over(tmp_path: Path) -> None:
    fmt = get_format(2021)
    report = sample(fmt)
    path = write_workbook(tmp_path / "a.xlsx", report)
    grids = grids_of(path)
    pos = layout_for(fmt).pos("t3", "new", "total")
    right = report.values[("t3", "new", "total")]
    set_cell(grids, pos.sheet, pos.a1, right + 5)
    result = read_workbook(write_grids(tmp_path / "b.xlsx", grids))
    assert result.report is not None
    # The sheet adds up the typed number, so its own check fails; check says the same and why.
    assert result.report.values[("t3", "new", "total")] == right + 5
    [issue] = [i for i in result.issues if i.code == Code.TOTAL_OVERWRITTEN]
    assert (issue.cell, issue.expected, issue.found) == (pos.a1, str(right), str(right + 5))
    assert issue.is_error
    [r2] = [i for i in result.issues if i.code == "R2"]
    assert (r2.row, r2.cell, r2.found, r2.expected) == ("new", pos.a1, f"总计={right + 5}", f"各类申请人之和={right}")


def test_negative_and_fractional_counts_reported_by_r5(tmp_path: Path) -> None:
    fmt = get_format(2021)
    report = sample(fmt)
    values = dict(report.values)
    values[("t2_5", "licensing", "decisions")] = -2
    values[("t2_6", "penalty", "decisions")] = Decimal("1.5")
    path = write_workbook(tmp_path / "a.xlsx", Report(report.unit, report.year, fmt, values, TEXTS))
    result = read_workbook(path)
    r5 = {i.cell for i in result.issues if i.code == "R5"}
    lay = layout_for(fmt)
    assert r5 == {lay.pos("t2_5", "licensing", "decisions").a1, lay.pos("t2_6", "penalty", "decisions").a1}


# --------------------------------------------------------------------------- structure


def test_inserted_row_and_column_are_found_by_label(tmp_path: Path) -> None:
    fmt = get_format(2021)
    report = sample(fmt)
    grids = grids_of(write_workbook(tmp_path / "a.xlsx", report))
    lay = layout_for(fmt)
    t3 = grids["表三"]
    row = lay.tables["t3"].rows["withheld_law"]
    t3.insert(row, ["", "", "（自行插入的说明行）"])
    for line in t3:  # a column inserted at the very left
        line.insert(0, "")
    result = read_workbook(write_grids(tmp_path / "b.xlsx", grids))
    assert result.report is not None
    assert dict(result.report.values) == dict(report.values)
    c = codes(result)
    assert c[Code.LAYOUT_MOVED] == 1
    assert not result.errors
    moved = [i for i in result.issues if i.code == Code.UNRECOGNISED]
    assert [i.found for i in moved] == ["（自行插入的说明行）"]


def test_typed_outside_cells_is_unrecognised(tmp_path: Path) -> None:
    fmt = get_format(2021)
    grids = grids_of(write_workbook(tmp_path / "a.xlsx", sample(fmt)))
    set_cell(grids, "表四", "C20", "备注：复议1件为上年结转")
    set_cell(grids, "表三", "Z5", 7)
    grids["我的草稿"] = [["草稿", 3]]
    result = read_workbook(write_grids(tmp_path / "b.xlsx", grids))
    got = {(u.sheet, u.cell, u.text) for u in result.unrecognised}
    assert got == {
        ("表四", "C20", "备注：复议1件为上年结转"),
        ("表三", "Z5", "7"),
        ("我的草稿", "A1", "草稿"),
        ("我的草稿", "B1", "3"),
    }
    assert codes(result)[Code.UNRECOGNISED] == 4


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_anything_typed_outside_the_known_cells_is_found(
    tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    # The reader compares a whole row of a template sheet at once (reader._rows_to_scan);
    # whatever cell a value lands in — inside the table's width, right of it, below it — it
    # is reported unless it is one of the template's own cells.
    from xls_gongkai.reading.unrecognised import _known_cells
    from xls_gongkai.workbook.layout import FIRST_TABLE_ROW, a1

    fmt = get_format(2021)
    lay = layout_for(fmt)
    folder = tmp_path_factory.mktemp("typed")
    grids = grids_of(write_workbook(folder / "a.xlsx", sample(fmt)))
    sheet = data.draw(st.sampled_from(sorted(lay.data_sheets)))
    known = _known_cells(lay)[sheet]
    free = st.tuples(st.integers(FIRST_TABLE_ROW, 70), st.integers(0, 30)).filter(lambda rc: rc not in known)
    spots = data.draw(st.lists(free, min_size=1, max_size=3, unique=True))
    for r, c in spots:
        set_cell(grids, sheet, a1(r, c), "多填的字")
    result = read_workbook(write_grids(folder / "b.xlsx", grids))
    got = {(u.sheet, u.cell) for u in result.unrecognised}
    assert got == {(sheet, a1(r, c)) for r, c in spots}


def test_the_guide_sheet_is_read_too(tmp_path: Path) -> None:
    # 填报说明 is locked; a clerk who lifts the protection and types over the unit or the year,
    # or writes beside the instructions, is told so — nothing in that sheet goes unseen.
    fmt = get_format(2021)
    report = sample(fmt)
    grids = grids_of(write_workbook(tmp_path / "a.xlsx", report))
    lay = layout_for(fmt)
    name, year = lay.guide_unit_cells["name"], lay.guide_unit_cells["year"]
    set_cell(grids, "填报说明", name.a1, "城关镇人民政府办公室")
    set_cell(grids, "填报说明", year.a1, "2023")
    set_cell(grids, "填报说明", "D3", "联系电话 12345")
    result = read_workbook(write_grids(tmp_path / "b.xlsx", grids))
    assert result.report is not None
    # what the sheet shows is read: the hidden record is a hint, never proof
    assert result.report.unit == replace(report.unit, name="城关镇人民政府办公室")
    assert result.report.year == 2023
    edited = {i.cell: i for i in result.issues if i.sheet == "填报说明" and i.code != Code.UNRECOGNISED}
    assert set(edited) == {name.a1, year.a1}
    assert edited[name.a1].code == Code.UNIT_CHANGED
    assert (edited[name.a1].expected, edited[name.a1].found) == (report.unit.name, "城关镇人民政府办公室")
    assert edited[year.a1].code == Code.UNIT_CHANGED
    assert all(not i.is_error for i in edited.values())
    assert ("填报说明", "D3", "联系电话 12345") in {(u.sheet, u.cell, u.text) for u in result.unrecognised}
    # untouched, the sheet says nothing
    clean = read_workbook(write_workbook(tmp_path / "c.xlsx", report))
    assert not [i for i in clean.issues if i.sheet == "填报说明"]


def hand_made(fmt: Format, report: Report, tmp_path: Path, name: str = "hand.xlsx") -> Path:
    """All tables copied onto one sheet by hand: no _meta, no formulas, no check cells."""
    grids = grids_of(write_workbook(tmp_path / "src.xlsx", report))
    lay = layout_for(fmt)
    sheet: list[list[Any]] = [[f"{report.unit.name}{report.year}年政府信息公开工作年度报告"], []]
    for data_sheet in lay.data_sheets:
        tables = [tl for tl in lay.tables.values() if tl.sheet == data_sheet]
        for tl in tables:
            for r in range(tl.top, tl.data_top + len(tl.rows)):
                sheet.append(list(grids[data_sheet][r][: tl.value_right + 1]))
            sheet.append([])
    return write_grids(tmp_path / name, {"Sheet1": sheet})


@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: f.id)
def test_hand_made_workbook_read_by_labels(fmt: Format, tmp_path: Path) -> None:
    report = sample(fmt)
    result = read_workbook(hand_made(fmt, report, tmp_path), unit=Unit("001", "城关镇"))
    assert result.report is not None
    assert result.report.format is fmt
    assert result.report.year == report.year  # from the title
    assert dict(result.report.values) == dict(report.values)
    assert result.located_by == "labels"
    assert codes(result)[Code.HAND_MADE] == 1
    assert not result.errors


def test_hand_made_with_label_variants(tmp_path: Path) -> None:
    fmt = get_format(2021)
    report = sample(fmt)
    path = hand_made(fmt, report, tmp_path)
    grids = grids_of(path)
    rows = grids["Sheet1"]
    swaps = {
        "（一）予以公开": "(一) 予以公开",  # ASCII brackets and a space
        "行政规范性文件": "规范性文件",  # the 2019 label in a 2021 table
        "1.属于国家秘密": "1、属于国家秘密",  # "、" for "."
        "2.其他法律行政法规禁止公开": "2.其他法律行政法规禁止公",  # a missing character
        "商业企业": "商业企业 ",  # trailing space
        "1.本机关不掌握相关政府信息": "１．本机关不掌握相关政府信息",  # full-width digit and dot
    }
    for line in rows:
        for i, v in enumerate(line):
            if isinstance(v, str) and v in swaps:
                line[i] = swaps[v]
    result = read_workbook(write_grids(tmp_path / "v.xlsx", grids), unit=Unit("001", "城关镇"))
    assert result.report is not None
    assert dict(result.report.values) == dict(report.values)


def test_other_format_template(tmp_path: Path) -> None:
    old = get_format("gongkai-2019")
    report = Report(Unit("001", "城关镇"), 2024, old, sample(old).values, TEXTS)
    path = write_workbook(tmp_path / "old.xlsx", report)
    result = read_workbook(path)
    [issue] = [i for i in result.issues if i.code == Code.OTHER_FORMAT]
    assert issue.is_error
    assert "2021" in issue.message
    assert result.report is not None
    assert result.report.format is old


def test_year_and_unit_checked_against_options(tmp_path: Path) -> None:
    fmt = get_format(2021)
    path = write_workbook(tmp_path / "a.xlsx", sample(fmt))
    result = read_workbook(path, year=2023, unit=Unit("002", "东城街道"))
    c = codes(result)
    assert c[Code.YEAR_MISMATCH] == 1
    assert c[Code.UNIT_MISMATCH] == 1
    blank = write_workbook(tmp_path / "b.xlsx", Report(Unit("", ""), 2022, fmt, sample(fmt).values, TEXTS))
    assert codes(read_workbook(blank))[Code.UNIT_NAME_BLANK] == 1
    assert Code.UNIT_NAME_BLANK not in codes(read_workbook(blank, unit=Unit("003", "西城街道")))


def test_other_spreadsheet_is_a_mismatch(tmp_path: Path) -> None:
    path = write_grids(tmp_path / "x.xlsx", {"工资表": [["姓名", "工资"], ["张三", 3000]]})
    with pytest.raises(TemplateMismatchError, match=r"x\.xlsx"):
        read_workbook(path)


def test_read_many_keeps_order_and_never_raises(tmp_path: Path) -> None:
    fmt = get_format(2021)
    paths: list[Path] = []
    for i in range(6):
        paths.append(write_workbook(tmp_path / f"u{i}.xlsx", sample(fmt, seed=i, unit=Unit(f"{i:03}", f"单位{i}"))))
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(b"not a workbook")
    paths.insert(3, bad)
    seen: list[tuple[int, int]] = []
    progress: Callable[[int, int], None] = lambda done, total: seen.append((done, total))  # noqa: E731
    results = read_many(paths, jobs=2, progress=progress)
    assert [r.source for r in results] == [str(p) for p in paths]
    assert results[3].report is None
    assert results[3].issues[0].code == Code.FILE_UNREADABLE
    assert all(r.report is not None for i, r in enumerate(results) if i != 3)
    assert seen[-1] == (7, 7)
    serial = read_many(paths, jobs=1)
    assert [r.issues for r in serial] == [r.issues for r in results]


def test_hand_made_unit_from_title(tmp_path: Path) -> None:
    fmt = get_format(2021)
    result = read_workbook(hand_made(fmt, sample(fmt), tmp_path))
    assert result.report is not None
    assert result.report.unit.name == "城关镇"
    assert Code.UNIT_NAME_BLANK not in codes(result)


def test_2021_table_with_other_handling_as_one_row(tmp_path: Path) -> None:
    """Some 2021 reports print （六）其他处理 as one row: its value is kept on the group."""
    fmt = get_format(2021)
    report = sample(fmt)
    path = hand_made(fmt, report, tmp_path)
    grids = grids_of(path)
    rows = grids["Sheet1"]
    lay = layout_for(fmt)
    tl = lay.tables["t3"]
    first = next(
        i for i, line in enumerate(rows) if "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请" in line
    )
    sub = rows[first : first + 3]
    merged_row = ["", "（六）其他处理", ""] + [
        sum(line[c] for line in sub) for c in range(tl.value_left, tl.value_right + 1)
    ]
    rows[first : first + 3] = [merged_row]
    result = read_workbook(write_grids(tmp_path / "six.xlsx", grids))
    assert result.report is not None
    v = result.report.values
    for c in ("natural", "total"):
        assert v[("t3", "other_handling", c)] == report.value("t3", "other_handling", c)
        assert ("t3", "oh_other", c) not in v
    assert result.report.value("t3", "results_total", "total") == report.value("t3", "results_total", "total")
    assert any(i.code == Code.GROUP_AS_ONE_ROW and i.row == "other_handling" for i in result.issues)
    assert not result.errors


def test_text_over_a_total_is_reported(tmp_path: Path) -> None:
    fmt = get_format(2021)
    grids = grids_of(write_workbook(tmp_path / "a.xlsx", sample(fmt)))
    pos = layout_for(fmt).pos("t4", "cases", "review_total")
    set_cell(grids, pos.sheet, pos.a1, "见附表")
    result = read_workbook(write_grids(tmp_path / "b.xlsx", grids))
    [issue] = [i for i in result.issues if i.code == Code.TOTAL_OVERWRITTEN]
    assert (issue.cell, issue.found) == (pos.a1, "见附表")


def test_hand_made_other_version_when_a_format_is_asked_for(tmp_path: Path) -> None:
    old = get_format("gongkai-2019")
    report = sample(old)
    result = read_workbook(hand_made(old, report, tmp_path), fmt="gongkai-2021")
    assert result.report is not None
    assert result.report.format is old
    assert dict(result.report.values) == dict(report.values)
    assert [i.code for i in result.errors] == [Code.OTHER_FORMAT]


def test_deleted_row_is_named(tmp_path: Path) -> None:
    fmt = get_format(2021)
    report = sample(fmt)
    grids = grids_of(write_workbook(tmp_path / "a.xlsx", report))
    row = layout_for(fmt).tables["t3"].rows["withheld_query"]
    del grids["表三"][row]
    result = read_workbook(write_grids(tmp_path / "b.xlsx", grids))
    assert result.report is not None
    missing = [i for i in result.errors if i.code == Code.LABEL_NOT_FOUND]
    assert [i.row for i in missing] == ["withheld_query"]
    assert "8.属于行政查询事项" in missing[0].message
    others = {k: v for k, v in report.values.items() if k[1] != "withheld_query" and k[0] != "t3"}
    assert all(result.report.values[k] == v for k, v in others.items())
    assert result.report.values[("t3", "new", "natural")] == report.values[("t3", "new", "natural")]


def test_renamed_sheet_is_found_by_labels(tmp_path: Path) -> None:
    fmt = get_format(2021)
    report = sample(fmt)
    grids = grids_of(write_workbook(tmp_path / "a.xlsx", report))
    renamed = {("表3" if name == "表三" else name): grid for name, grid in grids.items()}
    result = read_workbook(write_grids(tmp_path / "b.xlsx", renamed))
    assert result.report is not None
    assert dict(result.report.values) == dict(report.values)
    assert Code.LAYOUT_MOVED in codes(result)
    t3_sheets = {sheet for k, (sheet, _cell) in result.cells.items() if k[0] == "t3"}
    assert t3_sheets == {"表3"}
    assert result.unrecognised == ()  # the renamed sheet is a data sheet, not extra content


def test_many_unrecognised_cells_are_counted_not_listed(tmp_path: Path) -> None:
    from xls_gongkai.reading.unrecognised import MAX_NAMED as MAX_UNRECOGNISED_ISSUES

    fmt = get_format(2021)
    grids = grids_of(write_workbook(tmp_path / "a.xlsx", sample(fmt)))
    grids["草稿"] = [[f"草稿{r}-{c}" for c in range(10)] for r in range(20)]
    result = read_workbook(write_grids(tmp_path / "b.xlsx", grids))
    listed = [i for i in result.issues if i.code == Code.UNRECOGNISED]
    assert len(listed) == MAX_UNRECOGNISED_ISSUES + 1
    assert listed[-1].found == str(200 - MAX_UNRECOGNISED_ISSUES)
    assert len(result.unrecognised) == 200  # every one kept with its address


def test_template_of_another_tool_version(tmp_path: Path) -> None:
    """A _meta fingerprint that differs from this version's layout: labels are checked, and it says so."""
    fmt = get_format(2021)
    report = sample(fmt)
    grids = grids_of(write_workbook(tmp_path / "a.xlsx", report))
    meta = grids[META_SHEET]
    row = next(i for i, line in enumerate(meta) if line and line[0] == "fingerprint")
    meta[row][1] = "0000000000000000"
    result = read_workbook(write_grids(tmp_path / "b.xlsx", grids))
    assert result.report is not None
    assert dict(result.report.values) == dict(report.values)
    [issue] = [i for i in result.issues if i.code == Code.OTHER_VERSION]
    assert "版本" in issue.message
    assert not result.errors
