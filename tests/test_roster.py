"""The roster loader: encodings, XLSX, header spellings, and refusals that name the row."""

from __future__ import annotations

from pathlib import Path

import pytest
import xlsxwriter
from hypothesis import given
from hypothesis import strategies as st

from xls_gongkai.batch.pipeline import Item
from xls_gongkai.batch.roster import RosterIndex, load_roster, parse_roster
from xls_gongkai.errors import RosterError
from xls_gongkai.report import Unit

SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "roster.csv"

ROWS = "代码,名称,上级\n410102001,城关镇,河洛县\n410102902,县发展和改革委员会,河洛县\n"


def test_sample_roster_has_about_twelve_distinct_units() -> None:
    roster = load_roster(SAMPLE)
    assert 10 <= len(roster.units) <= 15
    assert len({u.code for u in roster.units}) == len(roster.units)
    assert roster.units[0] == Unit("410102001", "城关镇", "河洛县")
    assert any(u.name.endswith("街道") for u in roster.units)
    assert any(u.name.startswith("县") and u.name.endswith(("局", "委员会", "办公室")) for u in roster.units)
    assert roster.source == str(SAMPLE)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_csv_encodings(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "r.csv"
    path.write_bytes(ROWS.encode(encoding))
    roster = load_roster(path)
    assert roster.units == (
        Unit("410102001", "城关镇", "河洛县"),
        Unit("410102902", "县发展和改革委员会", "河洛县"),
    )


def test_english_headers_any_order_no_parent_and_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("\nName , CODE\n城关镇,410102001\n\n,\n东城街道,410102002\n", encoding="utf-8")
    roster = load_roster(path)
    assert roster.units == (Unit("410102001", "城关镇"), Unit("410102002", "东城街道"))


def test_tab_separated(tmp_path: Path) -> None:
    path = tmp_path / "r.txt"
    path.write_text("单位代码\t单位名称\n410102001\t城关镇\n", encoding="utf-8")
    assert load_roster(path).units == (Unit("410102001", "城关镇"),)


def test_xlsx_with_numeric_codes(tmp_path: Path) -> None:
    path = tmp_path / "r.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("名册")
    ws.write_row(0, 0, ["代码", "名称", "上级"])
    ws.write_row(1, 0, [410102001, "城关镇", "河洛县"])  # a number, as Excel stores a typed code
    ws.write_row(2, 0, ["410102002", "东城街道"])
    wb.close()
    roster = load_roster(path)
    assert roster.units == (Unit("410102001", "城关镇", "河洛县"), Unit("410102002", "东城街道", ""))


@pytest.mark.parametrize(
    ("text", "needles"),
    [
        ("名称,上级\n城关镇,河洛县\n", ["第 1 行", "代码"]),
        ("代码,上级\n410102001,河洛县\n", ["第 1 行", "名称"]),
        ("代码,名称\n410102001,城关镇\n410102002,\n", ["第 3 行", "名称为空"]),
        ("代码,名称\n410102001,城关镇\n410102001,东城街道\n", ["第 3 行", "410102001", "第 2 行", "重复"]),
        ("代码,名称\n,城关镇\n", ["第 2 行", "代码为空"]),
        ("代码,名称\n", ["没有单位"]),
        ("", ["空"]),
    ],
)
def test_malformed_roster_is_refused_naming_the_row(tmp_path: Path, text: str, needles: list[str]) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RosterError) as err:
        load_roster(path)
    message = str(err.value)
    assert str(path) in message
    for needle in needles:
        assert needle in message


def test_missing_file_and_non_spreadsheet(tmp_path: Path) -> None:
    with pytest.raises(RosterError, match="找不到"):
        load_roster(tmp_path / "nope.csv")
    junk = tmp_path / "junk.xlsx"
    junk.write_bytes(b"not a zip at all")
    with pytest.raises(RosterError, match="无法读取"):
        load_roster(junk)


names = st.text(alphabet="城关东西南北镇乡街道县局委员会办公室河洛李王", min_size=1, max_size=10)


@given(st.lists(st.tuples(st.from_regex(r"[0-9]{9}", fullmatch=True), names), min_size=1, max_size=20))
def test_parse_roster_keeps_order_and_content(rows: list[tuple[str, str]]) -> None:
    unique = list({code: (code, name) for code, name in rows}.values())
    roster = parse_roster([["代码", "名称"], *[[c, n] for c, n in unique]])
    assert [(u.code, u.name) for u in roster.units] == unique


def test_title_row_above_the_header_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("河洛县政务公开单位名册,,\n序号,单位代码,单位名称\n1,410102001,城关镇\n", encoding="utf-8")
    assert load_roster(path).units == (Unit("410102001", "城关镇"),)


def test_missing_header_names_the_row_it_looked_at(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("\n\n名称,上级\n城关镇,河洛县\n", encoding="utf-8")
    with pytest.raises(RosterError, match="第 3 行"):
        load_roster(path)


# --------------------------------------------------------------------------- matching


ROSTER = (Unit("001", "城关镇"), Unit("002", "南山镇（街道）"), Unit("003", "北岭乡"))


@pytest.mark.parametrize(
    ("unit", "expected", "by", "differs"),
    [
        (Unit("001", "城关镇"), "001", "code", ""),
        (Unit("001", "城关"), "001", "code", "城关镇"),  # the name on the roster is pointed out
        (Unit("", "南山镇(街道)"), "002", "name", ""),  # half-width brackets
        (Unit("", " 南 山 镇（街道）"), "002", "name", ""),  # spaces typed in
        (Unit("020", "南山镇（街道）"), "002", "name", "002"),  # a code typed wrong
        (Unit("999", "外来乡"), None, "", ""),
        (Unit("", ""), None, "", ""),
    ],
)
def test_roster_index_matches_by_code_then_by_normalised_name(
    unit: Unit, expected: str | None, by: str, differs: str
) -> None:
    m = RosterIndex(ROSTER).match(unit)
    assert (m.unit.code if m.unit else None, m.by, m.differs) == (expected, by, differs)


def test_check_and_merge_agree_on_who_is_on_the_roster(tmp_path: Path) -> None:
    # check --roster and merge --roster match units the same way: a name typed with other
    # brackets and spaces is on the roster for both, the same unit is missing for both.
    import random

    from xls_gongkai.batch.check import check_files
    from xls_gongkai.batch.merge import merge
    from xls_gongkai.batch.roster import Roster
    from xls_gongkai.collection import Status
    from xls_gongkai.issues import Code
    from xls_gongkai.sample import random_report
    from xls_gongkai.spec import get_format
    from xls_gongkai.workbook.writer import write_workbook

    fmt = get_format(2024)
    files = []
    for i, unit in enumerate([Unit("001", "城关镇"), Unit("", " 南山镇(街道)"), Unit("999", "外来乡")]):
        report = random_report(fmt, unit, 2024, random.Random(i), {"s1": "总体情况"})
        files.append(write_workbook(tmp_path / f"{i}.xlsx", report))
    batch = check_files(files, roster=Roster(ROSTER, "名册.csv"), jobs=1)
    assert [u.code for u in batch.missing] == ["003"]
    outsiders = {i.file for r in batch.results for i in r.issues if i.code == Code.NOT_IN_ROSTER}
    assert outsiders == {str(files[2])}
    merged = merge(files, roster=Roster(ROSTER, "名册.csv"), jobs=1)
    status = {e.unit.code or e.unit.name: e.status for e in merged.entries}
    assert status["003"] is Status.MISSING
    assert status["002"] is not Status.MISSING  # the hand-typed name found the roster's 南山镇
    assert status["999"] is Status.UNKNOWN
    assert [e.unit.code for e in merged.entries if e.status is Status.MISSING] == ["003"]


# --------------------------------------------------------------------------- a hand-made workbook's unit

SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "roster.csv"


@pytest.mark.parametrize(
    ("texts", "expected"),
    [
        (["手工表_柳河乡"], "410102201"),
        (["410102201_2024"], "410102201"),  # the code, standing on its own
        (["4101022011_2024"], None),  # a longer run of digits is not the code
        (["2024年报表", "填报单位：柳河乡人民政府（盖章）"], "410102201"),  # the first text tells nothing
        (["柳河乡与石桥乡合并报表"], None),  # two units: nothing
        (["410102201_石桥乡"], None),  # a code and a name that disagree: nothing
        (["报表"], None),
    ],
)
def test_roster_units_mentioned_in_a_file_name_or_a_heading(texts: list[str], expected: str | None) -> None:
    found = RosterIndex(load_roster(SAMPLE).units).mentioned(texts)
    assert (found[0].code if found else None) == expected


def test_of_names_inside_one_another_the_longest_is_meant() -> None:
    index = RosterIndex([Unit("001", "城关镇"), Unit("002", "城关镇中心学校")])
    found = index.mentioned(["城关镇中心学校年报"])
    assert found is not None
    assert found[0].code == "002"
    found = index.mentioned(["城关镇年报"])
    assert found is not None
    assert found[0].code == "001"


def _hand_made_without_unit(tmp_path: Path, name: str, heading: list[str] | None = None) -> Path:
    """A hand-made single-sheet 表二/三/四 (official labels) whose title names no unit."""
    import random

    from tests.test_reader import grids_of, hand_made, write_grids
    from xls_gongkai.sample import random_report
    from xls_gongkai.spec import get_format

    fmt = get_format(2024)
    report = random_report(fmt, Unit("", ""), 2024, random.Random(5), {"s1": "总体情况"})
    grids = grids_of(hand_made(fmt, report, tmp_path, name="src-" + name))
    rows = grids["Sheet1"]
    rows[0] = ["2024年政府信息公开工作年度报告统计表"]
    rows[1] = list(heading or [])
    return write_grids(tmp_path / name, grids)


def _check(paths: list[Path]) -> dict[str, Item]:
    from xls_gongkai.batch.check import check_files

    batch = check_files(paths, roster=load_roster(SAMPLE), jobs=1)
    return {Path(item.source).name: item for item in batch.items}


def test_a_hand_made_workbook_named_after_its_unit_gets_the_roster_unit(tmp_path: Path) -> None:
    from xls_gongkai.collection import Status
    from xls_gongkai.issues import Code

    path = _hand_made_without_unit(tmp_path, "手工表_柳河乡.xlsx")
    [item] = _check([path]).values()
    assert item.unit == Unit("410102201", "柳河乡", "河洛县")
    report = item.result.report
    assert report is not None
    assert report.unit.code == "410102201"
    codes = [i.code for i in item.result.issues]
    assert Code.UNIT_NAME_BLANK not in codes
    assert Code.NOT_IN_ROSTER not in codes
    [found] = [i for i in item.result.issues if i.code == Code.UNIT_FROM_NAME]
    assert not found.is_error
    assert "按文件名“手工表_柳河乡.xlsx”识别为 柳河乡（410102201）" in found.message
    assert all(i.unit_code == "410102201" for i in item.result.issues)
    assert item.status is Status.WARNINGS


def test_a_hand_made_workbook_whose_heading_names_its_unit(tmp_path: Path) -> None:
    from xls_gongkai.issues import Code

    # "填报单位：柳河乡" names the unit outright; with a seal note it is found on the roster
    plain = _hand_made_without_unit(tmp_path, "a.xlsx", ["填报单位：柳河乡", "填报日期：2025年1月10日"])
    sealed = _hand_made_without_unit(tmp_path, "b.xlsx", ["填报单位：柳河乡人民政府（盖章）"])
    items = _check([plain, sealed])
    for name in ("a.xlsx", "b.xlsx"):
        item = items[name]
        assert item.unit is not None
        assert item.unit.code == "410102201", name
        codes = [i.code for i in item.result.issues]
        assert Code.UNIT_NAME_BLANK not in codes
        assert Code.NOT_IN_ROSTER not in codes
    b_issue = next(i for i in items["b.xlsx"].result.issues if i.code == Code.UNIT_FROM_NAME)
    assert "按表格上方的“填报单位：柳河乡人民政府（盖章）”识别为 柳河乡" in b_issue.message


def test_a_hand_made_workbook_that_names_no_unit_says_where_to_write_it(tmp_path: Path) -> None:
    from xls_gongkai.issues import Code

    path = _hand_made_without_unit(tmp_path, "报表.xlsx")
    [item] = _check([path]).values()
    blank = next(i for i in item.result.issues if i.code == Code.UNIT_NAME_BLANK)
    assert "填报说明" not in blank.message  # there is no such sheet in a hand-made file
    assert "填报单位" in blank.message
    assert Code.NOT_IN_ROSTER in [i.code for i in item.result.issues]
