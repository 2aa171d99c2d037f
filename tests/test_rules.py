"""The rule engine: real reports pass, consistent data passes, every break is caught and located."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import consistent_reports
from xls_gongkai.issues import HINT_CODES, Code
from xls_gongkai.report import Report, Unit
from xls_gongkai.rules import check_report as _check_report
from xls_gongkai.rules import computed_cells, engine, expand, with_totals
from xls_gongkai.sample import broken
from xls_gongkai.spec import RuleKind, Severity, get_format
from xls_gongkai.workbook.layout import layout_for

DATA = Path(__file__).parent / "data"
F2019 = get_format(2019)
F2021 = get_format(2021)


def check_report(report: Report, previous: Report | None = None) -> list:  # type: ignore[type-arg]
    """The rules' issues located in the template, as the reader and merge locate them."""
    lay = layout_for(report.format)
    return _check_report(report, previous, lay.locate, lay.locate_text)


def potouzhen() -> Report:
    return Report.from_json((DATA / "potouzhen_2020.json").read_text(encoding="utf-8"))


def test_potouzhen_2020_passes_every_rule() -> None:
    report = potouzhen()
    assert report.format is F2019
    assert report.value("t2_9", "procurement", "amount") == Decimal("13.7951")
    assert report.value("t3", "results_total", "total") == 1
    assert check_report(report) == []
    assert engine(report.format).failing(report.values) == 0


@pytest.mark.parametrize("fmt", [F2019, F2021], ids=["2019", "2021"])
@given(data=st.data())
def test_consistent_reports_pass(fmt, data) -> None:  # type: ignore[no-untyped-def]
    report = data.draw(consistent_reports(fmt))
    assert check_report(report) == []


@pytest.mark.parametrize("fmt", [F2019, F2021], ids=["2019", "2021"])
@given(data=st.data())
def test_any_single_change_in_tables_three_and_four_is_caught(fmt, data) -> None:  # type: ignore[no-untyped-def]
    report = data.draw(consistent_reports(fmt))
    keys = [k for k in fmt.cells() if k[0] in ("t3", "t4")]
    key = data.draw(st.sampled_from(keys))
    delta = data.draw(st.integers(1, 50))
    issues = check_report(broken(report, key, delta))
    assert issues, f"changing {key} broke no rule"
    cell = layout_for(fmt).pos(*key).a1
    assert any(cell in i.cells for i in issues), [(i.code, i.cells) for i in issues]
    assert all(i.severity.value == "error" for i in issues)


def _only(issues, rule):  # type: ignore[no-untyped-def]
    return [i for i in issues if i.code == rule]


def test_r1_break_names_the_column_and_the_difference() -> None:
    report = potouzhen()
    values = with_totals(report.format, {**report.values, ("t3", "carry_next", "natural"): 3})
    issues = check_report(replace(report, values=values))
    assert {i.code for i in issues if i.code not in HINT_CODES} == {"R1"}
    # Three cells of the column could each explain it (the results of the column are 0 and
    # cannot go lower): listed as candidates, none named.
    (hint,) = [i for i in issues if i.code in HINT_CODES]
    assert (hint.code, hint.severity, hint.cells) == (Code.CANDIDATE_CELLS, Severity.NOTICE, ("D7", "D8", "D29"))
    natural = _only(issues, "R1")[0]
    assert natural.column == "natural"
    assert natural.found == "一+二=1"
    assert natural.expected == "（七）+四=4"
    assert "相差 -3" in natural.message
    assert natural.sheet == "表三"
    # 一、 and 二、 of the column, then （七） and 四、
    assert natural.cells == ("D7", "D8", "D28", "D29")
    assert {i.column for i in issues} == {"natural", "total"}


def test_r2_break_is_a_row_total() -> None:
    issues = check_report(broken(potouzhen(), ("t3", "new", "total"), 2))
    r2 = _only(issues, "R2")
    assert [i.row for i in r2] == ["new"]
    assert r2[0].cell == "J7"
    assert "一、本年新收政府信息公开申请数量" in r2[0].message


def test_r3_break_is_a_column_total() -> None:
    issues = check_report(broken(potouzhen(), ("t3", "results_total", "research"), 1))
    r3 = _only(issues, "R3")
    assert [i.column for i in r3] == ["research"]
    assert r3[0].cell == "F28"


def test_r4_break_names_the_group() -> None:
    report = potouzhen()
    values = {**report.values, ("t4", "cases", "review_upheld"): 10, ("t4", "cases", "review_corrected"): 1}
    issues = check_report(replace(report, values=values))
    assert [i.code for i in issues] == ["R4"]
    assert "行政复议" in issues[0].message
    assert issues[0].found == "总计=0"
    assert issues[0].expected == "四项之和=11"


@pytest.mark.parametrize(
    ("key", "value", "problem"),
    [
        (("t2_1", "regulations", "new_made"), -1, "不能为负数"),
        (("t2_1", "regulations", "new_made"), Decimal("2.5"), "应为整数"),
        (("t2_5", "licensing", "change"), Decimal("0.5"), "应为整数"),
        (("t2_9", "procurement", "amount"), Decimal("-3"), "不能为负数"),
    ],
)
def test_r5_cell_kinds(key, value, problem: str) -> None:  # type: ignore[no-untyped-def]
    report = replace(potouzhen(), values={**potouzhen().values, key: value})
    issues = _only(check_report(report), "R5")
    assert len(issues) == 1
    assert problem in issues[0].message
    assert issues[0].cell == layout_for(F2019).pos(*key).a1


def test_signed_change_may_be_negative() -> None:
    report = replace(potouzhen(), values={**potouzhen().values, ("t2_5", "licensing", "change"): -8})
    assert check_report(report) == []


def test_cross_year_warnings_run_only_with_last_year() -> None:
    this = potouzhen()
    last = replace(this, year=2019, values={**this.values, ("t3", "carry_next", "natural"): 2}, texts={})
    assert check_report(this) == []
    issues = check_report(this, previous=last)
    assert [(i.code, i.severity.value, i.column) for i in issues] == [("R6", "warning", "natural")]


def test_r7_current_in_force_follows_last_year() -> None:
    unit = Unit("1", "县政府")
    values = {
        ("t2_1", "regulations", "issued"): 3,
        ("t2_1", "regulations", "repealed"): 1,
        ("t2_1", "regulations", "in_force"): 12,
    }
    last = Report(unit, 2023, F2021, {("t2_1", "regulations", "in_force"): 10})
    this = Report(unit, 2024, F2021, values)
    assert [i.code for i in check_report(this, previous=last)] == []
    worse = replace(this, values={**values, ("t2_1", "regulations", "in_force"): 20})
    issues = check_report(worse, previous=last)
    assert [(i.code, i.found, i.expected) for i in issues] == [("R7", "20", "12")]


def test_r8_uses_last_years_change() -> None:
    unit = Unit("1", "镇")
    last = Report(unit, 2019, F2019, {("t2_5", "licensing", "prev_items"): 10, ("t2_5", "licensing", "change"): -3})
    this = Report(unit, 2020, F2019, {("t2_5", "licensing", "prev_items"): 9})
    issues = check_report(this, previous=last)
    assert [(i.code, i.row, i.found, i.expected) for i in issues] == [("R8", "licensing", "9", "7")]


def test_un_split_other_handling_group_is_taken_as_given() -> None:
    """A 2021 table that printed （六）其他处理 as one row: the group value counts in R3."""
    unit = Unit("1", "镇")
    values = {
        ("t3", "new", "natural"): 2,
        ("t3", "other_handling", "natural"): 2,
        ("t3", "results_total", "natural"): 2,
    }
    report = Report(unit, 2022, F2021, values)
    assert report.value("t3", "other_handling", "natural") == 2
    assert not [i for i in check_report(report) if i.code == "R3" and i.column == "natural"]


def test_every_rule_has_checks_and_every_total_is_computed_once() -> None:
    for fmt in (F2019, F2021):
        checks = expand(fmt)
        relations = fmt.rules_of(RuleKind.EQUATION, RuleKind.CELLS, RuleKind.PREVIOUS)
        assert {c.rule.id for c in checks} == {r.id for r in relations}
        computed = computed_cells(fmt)
        # all 表三 总计 column cells, all （七）总计 cells and the three 表四 总计 cells
        t3 = fmt.table("t3")
        assert {k for k in computed if k[0] == "t3"} == {("t3", r.id, "total") for r in t3.leaf_rows} | {
            ("t3", "results_total", c.id) for c in t3.leaf_columns
        }
        assert {k[2] for k in computed if k[0] == "t4"} == {"review_total", "direct_total", "after_total"}
