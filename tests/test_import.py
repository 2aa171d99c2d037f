"""Importing published reports (documents/, ``xls-gongkai import``).

The expected numbers below were typed from the three real reports in tests/data/, cell by cell
(None: the cell is blank in the published report).
"""

from __future__ import annotations

import json
import random
import re
import shutil
import subprocess
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from tests.lo import convert, requires_soffice
from tests.reports import (
    DATA,
    HUAIAN,
    HUAIAN_T2,
    HUAIAN_T3,
    HUAIAN_T4,
    POTOUZHEN,
    SHANGHAI,
    SHANGHAI_T2,
    SHANGHAI_T3,
    SHANGHAI_T4,
    T3_COLUMNS,
    T4_COLUMNS,
    expected_values,
)
from xls_gongkai.cli import app
from xls_gongkai.documents.importer import (
    Para,
    Row,
    UnreadableDocumentError,
    document_items,
    import_document,
    import_safely,
    import_text,
)
from xls_gongkai.documents.render import render
from xls_gongkai.errors import UsageError
from xls_gongkai.issues import Code
from xls_gongkai.report import Report, Unit
from xls_gongkai.rules import restated_numbers
from xls_gongkai.sample import random_report
from xls_gongkai.spec import Rule, RuleKind, builtin_formats, get_format


def codes(result) -> list[str]:  # type: ignore[no-untyped-def]
    return [i.code for i in result.issues]


# --------------------------------------------------------------------------- the three real reports


def test_shanghai_2019_every_value() -> None:
    result = import_document(SHANGHAI)
    report = result.report
    assert report is not None
    assert report.format_id == "gongkai-2019"
    assert report.year == 2019
    assert report.unit.name == "上海市人民政府办公厅"
    assert dict(report.values) == expected_values(SHANGHAI_T2, SHANGHAI_T3, SHANGHAI_T4)
    amount = report.values[("t2_9", "procurement", "amount")]
    assert isinstance(amount, Decimal)


def test_shanghai_2019_issues_are_the_ones_a_careful_reader_finds() -> None:
    """By hand: every table balances once blank totals are read as the sum of their parts
    (R1–R4 hold), so no errors; the text of 一 contradicts 表三 twice: "予以公开及部分公开258件"
    (表三: 272 + 3 = 275) and "无法提供265件" (表三（四）: 265 + 47 + 25 = 337). The 受理 859,
    答复 805, 上年结转 18, 顺延 72, 不予公开 35, 不予处理 158, 其他处理 0, 复议 7 and 诉讼 9 of
    the text all agree with the tables. "251000元" is converted to 25.1 万元 with a warning."""
    result = import_document(SHANGHAI)
    assert result.errors == []
    assert codes(result) == [Code.UNIT_CONVERTED, Code.DOCUMENT_BLANKS, Code.DOCUMENT_BLANKS, "R9", "R9"]
    converted, blank_t3, blank_t4, r9_disclosed, r9_unavailable = result.issues
    assert converted.table == "t2_9"
    assert converted.column == "amount"
    assert converted.found == "251000元"
    assert "25.1 万元" in converted.message
    assert blank_t3.table == "t3"
    assert blank_t3.found == str(23 * 7 - 35)  # 表三 cells printed blank
    assert blank_t4.table == "t4"
    assert blank_t4.found == "9"
    assert (r9_disclosed.found, r9_disclosed.expected) == ("258", "275")
    assert (r9_unavailable.found, r9_unavailable.expected) == ("265", "337")
    assert r9_unavailable.row == "unavailable"
    assert all(not i.is_error for i in result.issues)
    assert result.report is not None
    assert result.report.texts["s6"] == "无。"
    assert result.report.texts["s5"].startswith("（一）主要问题\n一是新《条例》实施后")


def test_potouzhen_2020_equals_the_fixture() -> None:
    fixture = Report.from_json((DATA / "potouzhen_2020.json").read_text(encoding="utf-8"))
    result = import_document(POTOUZHEN)
    report = result.report
    assert report is not None
    assert dict(report.values) == dict(fixture.values)
    assert (report.year, report.format_id, report.unit.name) == (2020, "gongkai-2019", "坡头镇人民政府")
    assert result.issues == ()
    # A few typed from the file, so that the fixture itself is checked too.
    assert report.values[("t2_1", "normative_docs", "new_made")] == 17
    assert report.values[("t2_9", "procurement", "items")] == 113
    assert report.values[("t2_9", "procurement", "amount")] == Decimal("13.7951")
    assert report.values[("t3", "new", "natural")] == 1
    assert report.values[("t3", "results_total", "total")] == 1
    assert report.values[("t4", "cases", "after_total")] == 0
    assert report.texts["s6"] == "暂无其他需要说明的事项。"
    assert report.texts["s1"].endswith("及时做出回复并达到申请人满意。")


def test_huaian_2024_every_value() -> None:
    result = import_document(HUAIAN)
    report = result.report
    assert report is not None
    assert (report.year, report.format_id, report.unit.name) == (2024, "gongkai-2021", "淮安市人民政府")
    assert dict(report.values) == expected_values(HUAIAN_T2, HUAIAN_T3, HUAIAN_T4)
    # All rules hold; the restated 3119 / 3050 / 34 / 103 / 351 / 46 agree with the tables.
    assert result.issues == ()
    assert "信息处理费" in report.texts["s6"]
    # Lines broken inside sentences (text copied from a PDF) are joined again.
    assert "需要加强和改进的地方。" in report.texts["s5"]


def test_restated_numbers_of_huaian() -> None:
    report = import_document(HUAIAN).report
    assert report is not None
    facts = {f.name: f.value for f in restated_numbers(R9_RULE(report), report.texts["s1"])}
    assert facts["收到申请"] == 3119
    assert facts["办结申请"] == 3050
    assert facts["上年结转"] == 34
    assert facts["结转下年度"] == 103
    assert facts["行政复议"] == 351
    assert facts["行政诉讼"] == 46
    # "…行政复议 351件，其中结果维持 72 件，结果纠正 64 件，其他结果 178 件，尚未审结 37 件；"
    assert [facts[f"行政复议{w}"] for w in ("结果维持", "结果纠正", "其他结果", "尚未审结")] == [72, 64, 178, 37]
    assert [facts[f"行政诉讼{w}"] for w in ("结果维持", "结果纠正", "其他结果", "尚未审结")] == [25, 5, 9, 7]


def test_r9_outcomes_of_litigation_against_both_kinds_of_suit() -> None:
    text = HUAIAN_TEXT.replace("其他结果 9 件", "其他结果 19 件")
    [issue] = import_text(text).issues
    assert (issue.code, issue.column, issue.found, issue.expected) == ("R9", "direct_other", "19", "9")


# --------------------------------------------------------------------------- variants (tests/data/FORMATS.md §6)

HUAIAN_TEXT = HUAIAN.read_text(encoding="utf-8")
OH_ROWS = (
    "\t（六）其他处理\t1、申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请\t67\t3\t0\t0\t1\t0\t71\n"
    "\t\t2、申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请\t6\t0\t0\t0\t0\t0\t6\n"
    "\t\t3、其他\t108\t2\t0\t0\t0\t0\t110\n"
)


def test_unsplit_six_in_a_2021_table() -> None:
    assert OH_ROWS in HUAIAN_TEXT
    text = HUAIAN_TEXT.replace(OH_ROWS, "\t（六）其他\t\t181\t5\t0\t0\t1\t0\t187\n")
    result = import_text(text)
    report = result.report
    assert report is not None
    assert report.values[("t3", "other_handling", "natural")] == 181
    assert report.values[("t3", "other_handling", "total")] == 187
    assert not any(k[1].startswith("oh_") for k in report.values)
    assert report.value("t3", "other_handling", "commercial") == 5
    assert result.errors == []  # R3 uses the stored group row
    [unsplit] = [i for i in result.issues if i.code == Code.GROUP_AS_ONE_ROW]
    assert unsplit.row == "other_handling"
    assert "未知" in unsplit.message


def test_text_in_number_cells_and_label_typos() -> None:
    text = (
        HUAIAN_TEXT.replace("行政规范性文件\t8\t26\t66", "规范性文件\t8\t55（含自然失效29件）\t66")
        .replace("2.其他法律行政法规禁止公开\t30", "2. 其他法律行政法规禁止\t30")
        .replace("1.本机关不掌握相关政府信息\t746", "1、本机关不掌握相关信息\t746")
        .replace("行政强制\t88283", "行政强制\t88,283")
    )
    result = import_text(text)
    report = result.report
    assert report is not None
    assert report.values[("t2_1", "normative_docs", "repealed")] == 55
    assert report.values[("t3", "withheld_law", "natural")] == 30
    assert report.values[("t3", "unavailable_not_held", "natural")] == 746
    assert report.values[("t2_6", "coercion", "decisions")] == 88283
    [note] = [i for i in result.issues if i.code == Code.NUMBER_IN_TEXT]
    assert (note.table, note.row, note.column) == ("t2_1", "normative_docs", "repealed")
    assert note.found == "55（含自然失效29件）"
    # 55 instead of 26 breaks nothing: 表二 has no equation (R7 needs last year's report).
    assert result.errors == []


def test_renumbered_sections_variant_titles_and_notes() -> None:
    """A unit inserted a section of its own; 五 and 六 became 六 and 七, 五's title varies."""
    text = (
        HUAIAN_TEXT.replace(
            "五、存在的主要问题及改进情况",
            "注：行政复议、行政诉讼数量含上年度结转数量。\n六、存在的主要问题及整改措施",
        )
        .replace("六、其他需要报告的事项", "七、其他需要报告的事项")
        .replace("\n四、政府信息公开行政复议", "\n五、政府信息公开行政复议")
    )
    result = import_text(text)
    report = result.report
    assert report is not None
    assert report.values[("t4", "cases", "review_total")] == 351
    assert report.texts["s5"].startswith("对照上级新要求")
    assert "信息处理费" in report.texts["s6"]
    assert result.notes["notes"] == ["注：行政复议、行政诉讼数量含上年度结转数量。"]
    assert result.issues == ()


def test_a_broken_rule_is_an_error_with_its_row() -> None:
    """表四 printed 10/1/0/0 with 总计 0 (seen in a district government's report)."""
    text = HUAIAN_TEXT.replace("72\t64\t178\t37\t351\t", "10\t1\t0\t0\t0\t")
    result = import_text(text)
    r4 = [i for i in result.errors if i.code == "R4"]
    assert len(r4) == 1
    assert r4[0].column == "review_total"
    assert (r4[0].found, r4[0].expected) == ("总计=0", "四项之和=11")
    # The text still says 行政复议 351 件: R9 warns.
    assert any(i.code == "R9" and i.column == "review_total" and i.found == "351" for i in result.warnings)


def test_r9_restated_numbers_disagree() -> None:
    text = HUAIAN_TEXT.replace("受理政府信息公开申请 3119 件", "受理政府信息公开申请 3120 件").replace(
        "另有 103 件顺延到下年度答复", "另有 130 件顺延到下年度答复"
    )
    result = import_text(text)
    r9 = [(i.row, i.found, i.expected) for i in result.issues if i.code == "R9"]
    assert r9 == [("new", "3120", "3119"), ("carry_next", "130", "103")]
    assert all(not i.is_error for i in result.issues)


def test_year_and_format_checks() -> None:
    text = HUAIAN_TEXT.replace("2024 年政府信息公开工作年度报告", "2020 年政府信息公开工作年度报告", 1)
    result = import_text(text)
    assert result.report is not None
    assert result.report.year == 2020
    assert result.report.format_id == "gongkai-2021"  # the tables decide the format
    found = codes(result)
    assert Code.YEAR_IN_DOUBT in found  # 统计期限自2024年1月1日
    assert Code.OTHER_FORMAT in found  # a 2020 report should use the 2019 format
    overridden = import_text(text, year=2024, unit="淮安市政府")
    assert overridden.report is not None
    assert (overridden.report.year, overridden.report.unit.name) == (2024, "淮安市政府")


@pytest.mark.parametrize(
    ("title", "unit", "year"),
    [
        ("淮安市人民政府\n二〇二四年政府信息公开工作年度报告", "淮安市人民政府", 2024),
        ("淮安市人民政府2024年度政府信息公开工作年度报告", "淮安市人民政府", 2024),
        ("2024年淮安市人民政府政府信息公开工作年度报告", "淮安市人民政府", 2024),
        ("淮安市人民政府办公室关于2024年政务公开工作年度报告", "淮安市人民政府办公室", 2024),
        ("# 淮安市人民政府2024年政府信息公开工作年度报告", "淮安市人民政府", 2024),
    ],
)
def test_title_variants(title: str, unit: str, year: int) -> None:
    text = HUAIAN_TEXT.replace("淮安市人民政府\n2024 年政府信息公开工作年度报告", title, 1)
    assert title in text
    report = import_text(text).report
    assert report is not None
    assert (report.unit.name, report.year) == (unit, year)


def test_missing_fee_statement_from_2021() -> None:
    last = HUAIAN_TEXT.rstrip().splitlines()[-1]
    assert "信息处理费" in last
    text = HUAIAN_TEXT.replace(last, "无其他需要报告的事项。")
    result = import_text(text)
    assert [i.code for i in result.issues] == ["T1"]  # the format's text rule, from the YAML
    assert "信息处理费" in result.issues[0].message
    assert not result.issues[0].is_error


def test_a_row_that_cannot_be_read_is_reported() -> None:
    text = HUAIAN_TEXT.replace("行政强制\t88283", "行政强制\t88283\n乱七八糟的一行\t1\t2")
    result = import_text(text)
    [issue] = [i for i in result.issues if i.code == Code.NOT_IMPORTED]
    assert "乱七八糟的一行" in issue.message


def test_not_a_number_is_an_error() -> None:
    text = HUAIAN_TEXT.replace("规章\t1\t0\t11", "规章\t一件\t0\t11")
    result = import_text(text)
    [err] = [i for i in result.errors if i.code == Code.NOT_A_NUMBER]
    assert (err.table, err.row, err.column, err.found) == ("t2_1", "regulations", "issued", "一件")


# --------------------------------------------------------------------------- HTML and DOCX as published

OFFICIAL_HTML = """<html><head><title>x</title><style>p{color:red}</style></head><body>
<div class="title"><h1>某某区人民政府2021年政府信息公开工作年度报告</h1></div>
<p><strong>一、总体情况</strong></p><p>2021年，受理政府信息公开申请5件，办结6件。</p>
<p>二、主动公开政府信息情况</p>
<table border="1">
<tr><td colspan="4">第二十条第（一）项</td></tr>
<tr><td>信息内容</td><td>本年制发件数</td><td>本年废止件数</td><td>现行有效件数</td></tr>
<tr><td>规章</td><td>0</td><td>0</td><td>0</td></tr>
<tr><td>行政规范性文件</td><td>3</td><td>1</td><td>12</td></tr>
<tr><td colspan="4">第二十条第（五）项</td></tr>
<tr><td>信息内容</td><td colspan="3">本年处理决定数量</td></tr>
<tr><td>行政许可</td><td colspan="3">1,024</td></tr>
</table>
<p>三、收到和处理政府信息公开申请情况</p>
<table>
<tr><td rowspan="3" colspan="3">（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）</td>
<td colspan="7">申请人情况</td></tr>
<tr><td rowspan="2">自然人</td><td colspan="5">法人或其他组织</td><td rowspan="2">总计</td></tr>
<tr><td>商业企业</td><td>科研机构</td><td>社会公益组织</td><td>法律服务机构</td><td>其他</td></tr>
<tr><td colspan="3">一、本年新收政府信息公开申请数量</td><td>4</td><td>1</td><td>0</td><td>0</td><td>0</td><td>0</td><td>5</td></tr>
<tr><td colspan="3">二、上年结转政府信息公开申请数量</td><td>0</td><td>0</td><td>0</td><td>0</td><td>0</td><td>0</td><td>0</td></tr>
<tr><td rowspan="3">三、本年度办理结果</td><td colspan="2">（一）予以公开</td><td>3</td><td>1</td><td>0</td><td>0</td><td>0</td><td>0</td><td>4</td></tr>
<tr><td rowspan="2">（三）不予公开</td><td>1.属于国家秘密</td><td>1</td><td>0</td><td>0</td><td>0</td><td>0</td><td>0</td><td>1</td></tr>
<tr><td>2.其他法律行政法规禁止公开</td><td>0</td><td>0</td><td>0</td><td>0</td><td>0</td><td>0</td><td>0</td></tr>
<tr><td colspan="3">四、结转下年度继续办理</td><td>0</td><td>0</td><td>0</td><td>0</td><td>0</td><td>0</td><td>0</td></tr>
</table>
<p>注：本表只列出有数据的行。</p>
<p>六、其他需要报告的事项</p><p>本年度未收取信息处理费。</p>
</body></html>"""


def test_html_with_rowspan_and_colspan(tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    path.write_text(OFFICIAL_HTML, encoding="utf-8")
    result = import_document(path)
    report = result.report
    assert report is not None
    assert (report.unit.name, report.year, report.format_id) == ("某某区人民政府", 2021, "gongkai-2021")
    v = report.values
    assert v[("t2_1", "normative_docs", "in_force")] == 12
    assert v[("t2_5", "licensing", "decisions")] == 1024
    assert v[("t3", "new", "natural")] == 4
    assert v[("t3", "new", "commercial")] == 1
    assert v[("t3", "new", "total")] == 5
    assert v[("t3", "disclosed", "total")] == 4
    assert v[("t3", "withheld_secret", "natural")] == 1
    assert v[("t3", "withheld_law", "total")] == 0
    assert v[("t3", "carry_next", "total")] == 0
    assert report.texts == {"s1": "2021年，受理政府信息公开申请5件，办结6件。", "s6": "本年度未收取信息处理费。"}
    assert result.notes["notes"] == ["注：本表只列出有数据的行。"]
    # The rows printed balance (R1 holds: 5 + 0 = 4 + 1 + 0 with （七）总计 read as the sum);
    # the text's 办结 6 does not (R9); rows and tables left out are named.
    assert result.errors == []
    [r9] = [i for i in result.issues if i.code == "R9"]
    assert (r9.row, r9.found, r9.expected) == ("results_total", "6", "5")
    missing = [i for i in result.issues if i.code == Code.NOT_IN_DOCUMENT]
    assert {i.table for i in missing} == {"t2_6", "t2_8", "t3", "t4"}
    assert Code.TEXT_MISSING in codes(result)  # 五 is missing


def test_items_of_html_expand_spans(tmp_path: Path) -> None:
    path = tmp_path / "t.htm"
    path.write_text(
        "<p>标题</p><table><tr><td rowspan='2'>a</td><td colspan='2'>b</td></tr><tr><td>c</td><td>d</td></tr></table>",
        encoding="utf-8",
    )
    assert document_items(path) == [Para("标题"), Row(("a", "b", "b"), 1), Row(("a", "c", "d"), 1)]


def test_docx_with_merged_cells(tmp_path: Path) -> None:
    import docx

    doc = docx.Document()
    doc.add_paragraph("某某镇人民政府2019年政府信息公开工作年度报告")
    doc.add_paragraph("四、政府信息公开行政复议、行政诉讼情况")
    table = doc.add_table(rows=4, cols=15)
    table.cell(0, 0).merge(table.cell(0, 4)).text = "行政复议"
    table.cell(0, 5).merge(table.cell(0, 14)).text = "行政诉讼"
    for i, label in enumerate(["结果维持", "结果纠正", "其他结果", "尚未审结", "总计"]):
        table.cell(1, i).merge(table.cell(2, i)).text = label
        table.cell(2, 5 + i).text = label
        table.cell(2, 10 + i).text = label
    table.cell(1, 5).merge(table.cell(1, 9)).text = "未经复议直接起诉"
    table.cell(1, 10).merge(table.cell(1, 14)).text = "复议后起诉"
    for i, v in enumerate([1, 0, 0, 0, 1, 2, 0, 0, 1, 3, 0, 0, 0, 0, 0]):
        table.cell(3, i).text = str(v)
    path = tmp_path / "r.docx"
    doc.save(str(path))
    result = import_document(path)
    assert result.report is not None
    assert result.report.format_id == "gongkai-2019"  # from the year: 表四 is the same in both
    got = [result.report.values.get(("t4", "cases", c)) for c in T4_COLUMNS]
    assert got == [1, 0, 0, 0, 1, 2, 0, 0, 1, 3, 0, 0, 0, 0, 0]
    assert result.errors == []


# --------------------------------------------------------------------------- render → import


_TEXT_LINE = (
    st.text(
        alphabet=st.sampled_from(list("政府信息公开工作年度报告本单位认真落实条例要求进一步加强管理。，")),
        min_size=1,
        max_size=40,
    )
    .map(str.strip)
    .filter(lambda s: s and not s.startswith("。"))
)
_TEXTS = st.fixed_dictionaries(
    {},
    optional={
        "s1": st.lists(_TEXT_LINE, min_size=1, max_size=3).map("\n".join),
        "s5": st.lists(_TEXT_LINE, min_size=1, max_size=3).map("\n".join),
        "s6": st.lists(_TEXT_LINE, min_size=1, max_size=2).map("\n".join),
    },
)


@pytest.mark.parametrize("to", ["md", "html", "docx"])
@pytest.mark.parametrize("fmt", builtin_formats(), ids=lambda f: f.id)
@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10**6), texts=_TEXTS, year_offset=st.integers(0, 1))
def test_render_then_import_gives_the_same_report(
    fmt, to: str, seed: int, texts, year_offset: int, tmp_path_factory
) -> None:  # type: ignore[no-untyped-def]
    name = "某某县某某镇人民政府"
    report = random_report(fmt, Unit(name, name), fmt.year_from + year_offset, random.Random(seed), texts=texts)
    path = tmp_path_factory.mktemp("rt") / f"report.{to}"
    render(report, to, path)  # type: ignore[arg-type]
    result = import_document(path)
    assert result.report == report
    assert result.errors == []


@pytest.mark.parametrize("to", ["md", "html", "docx"])
@pytest.mark.parametrize("fmt", builtin_formats(), ids=lambda f: f.id)
@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10**6), blank=st.floats(0.05, 0.9))
def test_render_then_import_keeps_blank_cells_blank(fmt, to: str, seed: int, blank: float, tmp_path_factory) -> None:  # type: ignore[no-untyped-def]
    """Cells left blank (any of them, totals too) print blank and read back as missing, in place."""
    rnd = random.Random(seed)
    full = random_report(fmt, Unit("甲镇", "甲镇"), fmt.year_from, rnd, texts={"s6": "本年度未收取信息处理费。"})
    report = Report(
        full.unit, full.year, full.format, {k: v for k, v in full.values.items() if rnd.random() > blank}, full.texts
    )
    path = tmp_path_factory.mktemp("rtb") / f"report.{to}"
    render(report, to, path)  # type: ignore[arg-type]
    result = import_document(path)
    assert result.report == report


def test_render_then_import_keeps_an_unsplit_six(tmp_path: Path) -> None:
    fmt = get_format(2021)
    base = random_report(fmt, Unit("甲", "甲"), 2022, random.Random(7))
    values = {k: v for k, v in base.values.items() if not k[1].startswith("oh_")}
    for col in T3_COLUMNS:
        values[("t3", "other_handling", col)] = base.value("t3", "other_handling", col)
    report = Report(base.unit, 2022, fmt, values, {"s6": "本年度未收取信息处理费。"})
    for to in ("md", "html", "docx"):
        path = tmp_path / f"r.{to}"
        render(report, to, path)  # type: ignore[arg-type]
        result = import_document(path)
        assert result.report == report, to


# --------------------------------------------------------------------------- files that cannot be used


def test_unreadable_files(tmp_path: Path) -> None:
    bad_docx = tmp_path / "bad.docx"
    bad_docx.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(UnreadableDocumentError, match=r"bad\.docx"):
        import_document(bad_docx)
    binary = tmp_path / "bin.txt"
    binary.write_bytes(bytes(range(256)))
    with pytest.raises(UnreadableDocumentError, match=r"bin\.txt"):
        import_document(binary)
    other = tmp_path / "notes.txt"
    other.write_text("会议纪要\n今天开会。", encoding="utf-8")
    with pytest.raises(UnreadableDocumentError, match="没有找到"):
        import_document(other)
    with pytest.raises(UsageError, match=r"\.doc"):
        import_document(tmp_path / "r.doc")
    if shutil.which("pdftotext"):
        fake = tmp_path / "fake.pdf"
        fake.write_bytes(b"%PDF-1.4 nothing else")
        with pytest.raises(UnreadableDocumentError, match=r"fake\.pdf"):
            import_document(fake)
    with pytest.raises(UnreadableDocumentError, match=r"missing\.txt"):
        import_document(tmp_path / "missing.txt")


def test_gbk_text_is_read(tmp_path: Path) -> None:
    path = tmp_path / "gbk.txt"
    path.write_bytes(HUAIAN_TEXT.encode("gb18030"))
    result = import_document(path)
    assert result.report is not None
    assert dict(result.report.values) == expected_values(HUAIAN_T2, HUAIAN_T3, HUAIAN_T4)


def test_import_safely_never_raises_for_a_bad_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.docx"
    bad.write_bytes(b"garbage")
    result = import_safely(bad)
    assert result.report is None
    assert result.container == "docx"
    assert [i.code for i in result.issues] == [Code.FILE_UNREADABLE]
    assert "bad.docx" in result.issues[0].message
    good = import_safely(HUAIAN)
    assert good.report is not None
    assert (good.container, good.located_by) == ("txt", "document")


# --------------------------------------------------------------------------- the command


runner = CliRunner()


def test_cli_import_ok_and_json(tmp_path: Path) -> None:
    out = tmp_path / "huaian.json"
    res = runner.invoke(app, ["import", str(HUAIAN), "--json", str(out)])
    assert res.exit_code == 0, res.output
    assert "淮安市人民政府 2024 年度" in res.output
    assert "通过" in res.output
    assert "错误 0，警告 0" in res.output
    from xls_gongkai.batch.pipeline import load_report_json

    [report] = load_report_json(out)  # the export is what --previous and render read back
    assert report.values[("t3", "new", "total")] == 3119


def test_cli_import_warnings_only_is_exit_0() -> None:
    res = runner.invoke(app, ["import", str(SHANGHAI)])
    assert res.exit_code == 0, res.output
    assert "R9" in res.output
    assert "251000元" in res.output


def test_cli_import_errors_exit_1(tmp_path: Path) -> None:
    path = tmp_path / "broken.txt"
    path.write_text(HUAIAN_TEXT.replace("72\t64\t178\t37\t351\t", "10\t1\t0\t0\t0\t"), encoding="utf-8")
    res = runner.invoke(app, ["import", str(path), "--quiet"])
    assert res.exit_code == 1
    assert "R4" in res.output
    assert "警告 R" not in res.output


def test_cli_import_unreadable_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.docx"
    bad.write_bytes(b"garbage")
    res = runner.invoke(app, ["import", str(bad)])
    assert res.exit_code == 2
    assert "bad.docx" in res.output
    res = runner.invoke(app, ["import", str(HUAIAN), str(bad)])
    assert res.exit_code == 2
    assert "淮安市人民政府" in res.output


def test_cli_import_many_to_csv_and_json_folder(tmp_path: Path) -> None:
    csv = tmp_path / "all.csv"
    res = runner.invoke(app, ["import", str(SHANGHAI), str(POTOUZHEN), str(HUAIAN), "--csv", str(csv)])
    assert res.exit_code == 0, res.output
    import pandas as pd

    frame = pd.read_csv(csv, encoding="utf-8-sig")
    assert set(frame["unit_name"]) == {"上海市人民政府办公厅", "坡头镇人民政府", "淮安市人民政府"}
    row = frame[(frame.unit_name == "淮安市人民政府") & (frame.table == "t2_8")]
    assert row["value"].tolist() == [96171.6]
    # one JSON export holds every report (loadable again as --previous or by render), with the
    # same values as the CSV
    js = tmp_path / "all.json"
    res = runner.invoke(app, ["import", str(SHANGHAI), str(HUAIAN), "--json", str(js), "--csv", str(csv)])
    assert res.exit_code == 0, res.output
    data = json.loads(js.read_text(encoding="utf-8"))
    assert [Path(f["file"]).name for f in data["files"]] == [SHANGHAI.name, HUAIAN.name]
    assert data["files"][0]["report"]["year"] == 2019
    both = pd.read_csv(csv, encoding="utf-8-sig")
    assert len(both) == sum(len(f["values"]) for f in data["files"])


def test_cli_import_overrides_and_help() -> None:
    res = runner.invoke(app, ["import", str(HUAIAN), "--unit", "淮安", "--year", "2024"])
    assert res.exit_code == 0
    assert "淮安 2024 年度" in res.output
    res = runner.invoke(app, ["import", "--help"])
    assert res.exit_code == 0
    assert "示例" in res.output


LAYOUT_HTML = """<html><body><div class="nav">首页 &gt; 政务公开 &gt; 年度报告</div>
<table width="100%"><tr><td>
<p>某某县人民政府办公室关于2022年度政府信息公开工作年度报告</p>
<p>一、总体情况</p><p>本年度共受理政府信息公开申请2件。</p>
<p>四、政府信息公开行政复议、行政诉讼情况</p>
<table border="1">
<tr><td colspan="5">行政复议<td colspan="10">行政诉讼
<tr><td rowspan="2">结果维持<td rowspan="2">结果纠正<td rowspan="2">其他结果<td rowspan="2">尚未审结<td rowspan="2">总计
<td colspan="5">未经复议直接起诉<td colspan="5">复议后起诉
<tr><td>结果维持<td>结果纠正<td>其他结果<td>尚未审结<td>总计<td>结果维持<td>结果纠正<td>其他结果<td>尚未审结<td>总计
<tr><td>0<td>1<td>0<td>0<td>1<td>0<td>0<td>0<td>0<td>0<td>0<td>0<td>0<td>0<td>0
</table>
<p>六、其他需要报告的事项</p><p>本年度未收取信息处理费。</p>
</td></tr></table></body></html>"""


def test_html_layout_table_and_unclosed_cells() -> None:
    """A page that wraps the article in a layout table; the data table never closes its cells."""
    result = import_text(LAYOUT_HTML, kind="html")
    report = result.report
    assert report is not None
    assert (report.unit.name, report.year) == ("某某县人民政府办公室", 2022)
    got = [report.values.get(("t4", "cases", c)) for c in T4_COLUMNS]
    assert got == [0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
    assert report.texts["s1"] == "本年度共受理政府信息公开申请2件。"
    assert report.texts["s6"] == "本年度未收取信息处理费。"
    assert result.errors == []


def _as_pdf_text(text: str) -> str:
    """The text as ``pdftotext -layout`` gives it: cells apart by spaces, not tabs."""
    lines = []
    for line in text.splitlines():
        if "\t" in line:
            cells = [c for c in line.split("\t") if c]
            numbers = all(c.replace(".", "").isdigit() for c in cells)
            line = (" " if numbers else "   ").join(cells)
        lines.append(line)
    return "\n".join(lines)


def test_pdf_text_with_space_separated_tables() -> None:
    text = _as_pdf_text(HUAIAN_TEXT)
    assert "\t" not in text
    result = import_text(text)
    assert result.report is not None
    assert dict(result.report.values) == expected_values(HUAIAN_T2, HUAIAN_T3, HUAIAN_T4)
    assert result.issues == ()


def test_sub_headings_inside_a_section_do_not_start_another() -> None:
    text = HUAIAN_TEXT.replace(
        "（二）依申请公开情况。", "二、依申请公开情况\n三、主动公开政府信息工作的体会\n（二）依申请公开情况。"
    ).replace("一、总体情况", "第一部分 总体情况")
    result = import_text(text)
    report = result.report
    assert report is not None
    assert "二、依申请公开情况\n三、主动公开政府信息工作的体会" in report.texts["s1"]
    assert report.texts["s1"].startswith("2024 年，我市坚持")
    assert result.issues == ()


def test_a_local_extra_row_is_reported_not_guessed() -> None:
    """Some provinces add 其他主动公开文件 under 第二十条第（一）项."""
    text = HUAIAN_TEXT.replace("行政规范性文件\t8\t26\t66", "行政规范性文件\t8\t26\t66\n其他主动公开文件\t120\t0\t300")
    result = import_text(text)
    assert result.report is not None
    assert dict(result.report.values) == expected_values(HUAIAN_T2, HUAIAN_T3, HUAIAN_T4)
    [issue] = result.issues
    assert issue.code == Code.NOT_IMPORTED
    assert "其他主动公开文件" in issue.message


T2_TITLE_COLUMN_HTML = """<p>某某街道办事处2019年政府信息公开工作年度报告</p>
<p>二、主动公开政府信息情况</p>
<table>
<tr><td rowspan="4">第二十条第（一）项</td><td>信息内容</td><td>本年新制作数量</td><td>本年新公开数量</td><td>对外公开总数量</td></tr>
<tr><td>规章</td><td>0</td><td>0</td><td>0</td></tr>
<tr><td>规范性文件</td><td>2</td><td>2</td><td>9</td></tr>
<tr><td>其他主动公开文件</td><td>5</td><td>5</td><td>40</td></tr>
<tr><td rowspan="2">第二十条第（九）项</td><td>信息内容</td><td>采购项目数量</td><td colspan="2">采购总金额</td></tr>
<tr><td>政府集中采购</td><td>3</td><td colspan="2">12.5万元</td></tr>
</table>
"""


def test_html_block_titles_in_a_merged_column() -> None:
    result = import_text(T2_TITLE_COLUMN_HTML, kind="html")
    report = result.report
    assert report is not None
    assert report.format_id == "gongkai-2019"
    v = report.values
    assert v[("t2_1", "normative_docs", "total_published")] == 9
    assert v[("t2_9", "procurement", "items")] == 3
    assert v[("t2_9", "procurement", "amount")] == Decimal("12.5")
    unrecognised = [i for i in result.issues if i.code == Code.NOT_IMPORTED]
    assert len(unrecognised) == 1
    assert "其他主动公开文件" in unrecognised[0].message
    assert any(i.code == Code.UNIT_CONVERTED for i in result.issues)


def test_blocks_of_t2_without_titles() -> None:
    text = "\n".join(
        line
        for line in HUAIAN_TEXT.splitlines()
        if not line.startswith("第二十条") and not line.startswith("信息内容\t本年处理决定数量")
    )
    result = import_text(text)
    assert result.report is not None
    assert dict(result.report.values) == expected_values(HUAIAN_T2, HUAIAN_T3, HUAIAN_T4)
    assert result.issues == ()


def test_restated_numbers_of_shanghai() -> None:
    report = import_document(SHANGHAI).report
    assert report is not None
    facts = {f.name: f.value for f in restated_numbers(R9_RULE(report), report.texts["s1"])}
    assert facts == {
        "收到申请": 859,
        "办结申请": 805,
        "上年结转": 18,
        "结转下年度": 72,
        "予以公开及部分公开": 258,
        "不予公开": 35,
        "无法提供": 265,
        "不予处理": 158,
        "其他处理": 0,
        "行政复议": 7,
        "行政诉讼": 9,
    }


def _last_year_of_huaian(carry_next_natural: int) -> Report:
    """A 2023 report whose 结转下年度 and 现行有效件数 connect to 淮安 2024 (as far as it goes)."""
    fmt = get_format(2023)
    # Last year's figures like this year's (no jump), except where the years must connect.
    values = dict(expected_values(HUAIAN_T2, HUAIAN_T3, HUAIAN_T4))
    values.update(
        {
            ("t2_1", "regulations", "in_force"): 10,  # 10 + 1 − 0 = 11 ✓
            ("t2_1", "normative_docs", "in_force"): 84,  # 84 + 8 − 26 = 66 ✓
        }
    )
    for col in T3_COLUMNS:
        values[("t3", "carry_next", col)] = 0
    values[("t3", "carry_next", "natural")] = carry_next_natural
    values[("t3", "carry_next", "total")] = carry_next_natural
    return Report(Unit("淮安市人民政府", "淮安市人民政府"), 2023, fmt, values)


def test_previous_year_checks(tmp_path: Path) -> None:
    assert import_document(HUAIAN, previous=_last_year_of_huaian(34)).issues == ()
    result = import_document(HUAIAN, previous=_last_year_of_huaian(30))
    assert [(i.code, i.column, i.found, i.expected) for i in result.issues] == [
        ("R6", "natural", "34", "30"),
        ("R6", "total", "34", "30"),
    ]
    assert all(not i.is_error and i.cell == "" for i in result.issues)
    # The command takes last year as JSON (or a document, or a workbook).
    last = tmp_path / "2023.json"
    last.write_text(_last_year_of_huaian(30).to_json(), encoding="utf-8")
    res = runner.invoke(app, ["import", str(HUAIAN), "--previous", str(last)])
    assert res.exit_code == 0, res.output
    assert res.output.count("R6") == 2
    res = runner.invoke(app, ["import", str(HUAIAN), "--previous", str(tmp_path / "none.json")])
    assert res.exit_code == 2


def test_previous_year_of_the_wrong_year_is_flagged() -> None:
    old = replace(_last_year_of_huaian(34), year=2020, format=get_format("gongkai-2019"))
    result = import_document(HUAIAN, previous=old)
    assert [i.code for i in result.issues] == [Code.YEAR_IN_DOUBT]


def test_t4_numbers_without_their_header() -> None:
    lines = HUAIAN_TEXT.splitlines()
    start = lines.index("四、政府信息公开行政复议、行政诉讼情况")
    text = "\n".join(lines[: start + 1] + lines[start + 4 :])  # the three header rows dropped
    assert "结果维持" not in text.split("四、政府信息公开行政复议、行政诉讼情况")[1]
    result = import_text(text)
    assert result.report is not None
    assert dict(result.report.values) == expected_values(HUAIAN_T2, HUAIAN_T3, HUAIAN_T4)
    assert result.issues == ()


_FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


@settings(max_examples=50, deadline=None)
@given(
    brackets=st.booleans(),
    comma=st.booleans(),
    numbering=st.sampled_from([".", "、", " . ", "．"]),
    spaces=st.booleans(),
    full_width=st.booleans(),
    thousands=st.booleans(),
    typo_seed=st.integers(0, 10**6),
)
@pytest.mark.parametrize("which", ["huaian", "shanghai"])
def test_label_and_number_variants_of_a_real_report(
    which: str,
    brackets: bool,
    comma: bool,
    numbering: str,
    spaces: bool,
    full_width: bool,
    thousands: bool,
    typo_seed: int,
) -> None:
    """A real report with its tables retyped the ways tests/data/FORMATS.md §6 lists reads to the same values."""
    source, expected = {
        "huaian": (HUAIAN_TEXT, expected_values(HUAIAN_T2, HUAIAN_T3, HUAIAN_T4)),
        "shanghai": (
            SHANGHAI.read_text(encoding="utf-8"),
            expected_values(SHANGHAI_T2, SHANGHAI_T3, SHANGHAI_T4),
        ),
    }[which]
    rnd = random.Random(typo_seed)
    out = []
    for line in source.splitlines():
        if "\t" not in line:
            out.append(line)
            continue
        cells = []
        for cell in line.split("\t"):
            if cell and not re.fullmatch(r"[\d.]+(元)?", cell):
                if brackets:
                    cell = cell.replace("（", "(").replace("）", ")")
                if comma:
                    cell = cell.replace("、", "，")
                cell = re.sub(r"^(\d)[.、]", lambda m: m.group(1) + numbering, cell)
                if spaces and len(cell) > 4:
                    i = rnd.randrange(1, len(cell) - 1)
                    cell = cell[:i] + " " + cell[i:]
                if len(cell) > 12 and rnd.random() < 0.3:  # one character lost, rarely
                    i = rnd.randrange(4, len(cell) - 1)
                    cell = cell[:i] + cell[i + 1 :]
            elif cell:
                if thousands and cell.isdigit() and len(cell) > 3:
                    cell = f"{int(cell):,}"
                if full_width:
                    cell = cell.translate(_FULL_WIDTH)
            cells.append(cell)
        out.append("\t".join(cells))
    result = import_text("\n".join(out))
    assert result.report is not None
    assert dict(result.report.values) == expected
    assert result.errors == []


# --------------------------------------------------------------------------- through LibreOffice


@pytest.mark.soffice
@requires_soffice
def test_documents_saved_by_libreoffice_and_pdf_text_import_exactly(tmp_path: Path) -> None:
    """What offices really publish: the rendered Word file and web page re-saved by another
    office suite (LibreOffice writes its own merged cells), and the text of the PDF
    (``pdftotext -layout``: cells apart by spaces, labels wrapped over lines)."""
    texts = {
        "s1": "本年度工作情况。",
        "s5": "存在的主要问题是信息更新不够及时、政策解读形式较为单一；下一步将加强培训，完善发布审核制度。",
        "s6": "本年度未收取信息处理费。",
    }
    reports = {}
    sources = []
    for fmt in builtin_formats():
        for seed in range(3):  # three reports of each format, all in the same two soffice calls
            name = "某某县某某镇人民政府"
            report = random_report(fmt, Unit(name, name), fmt.year_from, random.Random(seed), texts=texts)
            key = f"{seed}_{fmt.year_from}"
            reports[key] = report
            for to in ("docx", "html"):
                path = tmp_path / "in" / f"{to}{key}.{to}"
                path.parent.mkdir(exist_ok=True)
                render(report, to, path)  # type: ignore[arg-type]
                sources.append(path)
    resaved = convert(sources, "docx:MS Word 2007 XML", tmp_path / "docx")
    pdfs = convert([p for p in sources if p.suffix == ".docx"], "pdf", tmp_path / "pdf")
    checked = list(resaved)
    if shutil.which("pdftotext"):
        checked += pdfs  # read through pdftotext -layout
        txt = pdfs[0].with_suffix(".txt")  # the same text saved as .txt reads the same
        subprocess.run(["pdftotext", "-layout", str(pdfs[0]), str(txt)], check=True, timeout=120)
        checked.append(txt)
    assert len(checked) == 19 or not shutil.which("pdftotext")
    for path in checked:
        result = import_document(path)
        assert result.report == reports[re.sub(r"^(docx|html)", "", path.stem)], path.name
        assert result.errors == [], path.name


def _blank_pdf() -> bytes:
    """A valid one-page PDF with no text at all (what a scanned report looks like to pdftotext)."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) 未安装")
def test_pdf_without_text_layer(tmp_path: Path) -> None:
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(_blank_pdf())
    with pytest.raises(UnreadableDocumentError, match="没有文字层"):
        import_document(scan)
    res = runner.invoke(app, ["import", str(scan)])
    assert res.exit_code == 2


def test_cli_import_report_file(tmp_path: Path) -> None:
    """--report writes the same issue list as check --report (here .csv and .xlsx)."""
    out = tmp_path / "issues.csv"
    res = runner.invoke(app, ["import", str(SHANGHAI), str(HUAIAN), "--report", str(out)])
    assert res.exit_code == 0, res.output
    import pandas as pd

    frame = pd.read_csv(out, encoding="utf-8-sig", dtype=str)
    # errors first, then warnings, then notices (each kind in the order found)
    assert frame["code"].tolist() == [Code.UNIT_CONVERTED, "R9", "R9", Code.DOCUMENT_BLANKS, Code.DOCUMENT_BLANKS]
    assert set(frame["unit_name"]) == {"上海市人民政府办公厅"}
    xlsx = tmp_path / "issues.xlsx"
    res = runner.invoke(app, ["import", str(SHANGHAI), "-o", str(xlsx)])
    assert res.exit_code == 0, res.output
    assert xlsx.stat().st_size > 0
    res = runner.invoke(app, ["import", str(SHANGHAI), "-o", str(tmp_path / "issues.txt")])
    assert res.exit_code == 2


def test_blank_totals_are_checked_as_sums_and_printed_ones_as_printed() -> None:
    """A published table that leaves its totals blank claims nothing wrong; a printed total
    that disagrees with its parts is an error; the Report keeps what was printed."""
    lines = []
    for line in HUAIAN_TEXT.splitlines():
        cells = line.split("\t")
        if len(cells) == 10 and cells[-1].isdigit():  # 表三's data rows: 总计 left blank
            line = "\t".join([*cells[:-1], ""])
        lines.append(line)
    blank = import_text("\n".join(lines))
    assert blank.report is not None
    assert ("t3", "new", "total") not in blank.report.values
    assert blank.errors == []
    wrong = import_text(HUAIAN_TEXT.replace("3001\t53\t0\t0\t61\t4\t3119", "3001\t53\t0\t0\t61\t4\t3120"))
    assert wrong.report is not None
    assert wrong.report.values[("t3", "new", "total")] == 3120
    assert [(i.code, i.row) for i in wrong.errors] == [("R1", "new"), ("R2", "new")] or any(
        i.code == "R2" and i.row == "new" for i in wrong.errors
    )


def test_a_spanned_value_next_to_a_blank_cell() -> None:
    """表二's blocks share a 4-column table: 采购总金额 spans two grid columns, so the grid repeats
    its value; with 采购项目数量 blank the row must not slide left (found by the render session)."""
    page = """<p>某镇人民政府2019年政府信息公开工作年度报告</p><p>二、主动公开政府信息情况</p><table>
<tr><td colspan="4">第二十条第（九）项</td></tr>
<tr><td>信息内容</td><td>采购项目数量</td><td colspan="2">采购总金额</td></tr>
<tr><td>政府集中采购</td><td></td><td colspan="2">28.7175</td></tr>
</table>"""
    result = import_text(page, kind="html")
    assert result.report is not None
    assert result.report.values == {("t2_9", "procurement", "amount"): Decimal("28.7175")}


def test_page_numbers_of_a_pdf_text_are_dropped() -> None:
    text = (
        _as_pdf_text(HUAIAN_TEXT)
        .replace("\n第二十条第（五）项", "\n                 —2—\n\f第二十条第（五）项")
        .replace("\n五、存在的主要问题", "\n第 3 页 共 4 页\n五、存在的主要问题")
    )
    text += "\n\n                 —4—\n"
    result = import_text(text)
    assert result.report is not None
    assert dict(result.report.values) == expected_values(HUAIAN_T2, HUAIAN_T3, HUAIAN_T4)
    assert result.issues == ()
    assert not result.report.texts["s6"].endswith("—")


def test_docx_with_the_tables_typed_as_tab_separated_text(tmp_path: Path) -> None:
    """A Word file into which the report's text was pasted: tables are tab-separated lines."""
    import docx

    doc = docx.Document()
    for line in HUAIAN_TEXT.splitlines():
        doc.add_paragraph(line)  # python-docx turns "\t" into <w:tab/>
    para = doc.paragraphs[-1]
    para.add_run().add_break()  # a line break inside a paragraph: two lines
    para.add_run("特此报告。")
    path = tmp_path / "typed.docx"
    doc.save(str(path))
    result = import_document(path)
    assert result.report is not None
    assert dict(result.report.values) == expected_values(HUAIAN_T2, HUAIAN_T3, HUAIAN_T4)
    assert result.report.unit.name == "淮安市人民政府"
    assert result.report.texts["s6"].endswith("3940 元。\n特此报告。")


def test_t3_without_its_total_column() -> None:
    """Some reports leave out 表三's 总计 column: the other columns read by their headers."""
    lines = HUAIAN_TEXT.splitlines()
    start, end = (
        lines.index("三、收到和处理政府信息公开申请情况"),
        lines.index("四、政府信息公开行政复议、行政诉讼情况"),
    )
    for i in range(start + 1, end):
        cells = lines[i].split("\t")
        if not lines[i].startswith("（本列") and (cells[-1] == "总计" or cells[-1].isdigit()):
            lines[i] = "\t".join(cells[:-1])
    result = import_text("\n".join(lines))
    assert result.report is not None
    expected = expected_values(HUAIAN_T2, HUAIAN_T3, HUAIAN_T4)
    assert dict(result.report.values) == {k: v for k, v in expected.items() if not (k[0] == "t3" and k[2] == "total")}
    assert result.errors == []
    [missing] = [i for i in result.issues if i.code == Code.NOT_IN_DOCUMENT]
    assert "总计" in missing.message


def R9_RULE(report: Report) -> Rule:
    [rule] = report.format.rules_of(RuleKind.RESTATED)
    return rule


# --------------------------------------------------------------------------- a local variant

VARIANT = DATA / "local-variant.yaml"


def _variant_text() -> str:
    """淮安 2024 as a province using the local variant would print it: 其他主动公开文件 under
    第二十条第（一）项 and a 个体工商户 column in 表三 (before 其他)."""
    out = []
    for line in HUAIAN_TEXT.replace(
        "行政规范性文件\t8\t26\t66", "行政规范性文件\t8\t26\t66\n其他主动公开文件\t120\t0\t300"
    ).splitlines():
        cells = line.split("\t")
        if len(cells) == 10 and cells[-1].isdigit():  # a 表三 data row: 个体工商户 0 before 其他
            cells.insert(8, "0")
        elif cells[-5:] == ["商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他"]:
            cells.insert(len(cells) - 1, "个体工商户")
        elif "法人或其他组织" in cells:
            cells.insert(cells.index("总计"), "")
        out.append("\t".join(cells))
    return "\n".join(out)


def test_a_local_variant_is_detected_among_the_callers_formats() -> None:
    from xls_gongkai.spec import load_format

    variant = load_format(VARIANT)
    result = import_text(_variant_text(), formats=(variant,))
    report = result.report
    assert report is not None
    assert report.format is variant
    assert result.notes["format_detected"] == f"按表格标签判断为{variant.name}格式"
    expected = expected_values(HUAIAN_T2, HUAIAN_T3, HUAIAN_T4)
    expected[("t2_1", "other_docs", "issued")] = 120
    expected[("t2_1", "other_docs", "repealed")] = 0
    expected[("t2_1", "other_docs", "in_force")] = 300
    expected |= {("t3", row, "individual"): 0 for row in HUAIAN_T3}
    assert dict(report.values) == expected
    assert result.issues == ()
    # The plain 2021 report among the same candidates is still the built-in format: it lacks
    # the variant's own labels.
    plain = import_text(HUAIAN_TEXT, formats=(variant,)).report
    assert plain is not None
    assert plain.format is get_format("gongkai-2021")


def test_a_local_variant_given_as_the_format() -> None:
    from xls_gongkai.spec import load_format

    variant = load_format(VARIANT)
    result = import_document(HUAIAN, fmt=variant)
    assert result.report is not None
    assert result.report.format is variant
    missing = {(i.table, i.row) for i in result.issues if i.code == Code.NOT_IN_DOCUMENT}
    assert ("t2_1", "other_docs") in missing
    assert [i.table for i in result.issues if i.code == Code.NOT_IN_DOCUMENT and "个体工商户" in i.message] == ["t3"]


@pytest.mark.parametrize("to", ["md", "html", "docx"])
def test_a_local_variant_renders_and_imports_back(to: str, tmp_path: Path) -> None:
    from xls_gongkai.spec import load_format

    variant = load_format(VARIANT)
    texts = {
        "s1": "本年度工作情况。",
        "s5": "存在的主要问题是信息更新不够及时、政策解读形式较为单一；下一步将加强培训，完善发布审核制度。",
        "s6": "本年度未收取信息处理费。",
    }
    report = random_report(variant, Unit("甲镇", "甲镇"), 2023, random.Random(11), texts=texts)
    render(report, to, tmp_path / f"r.{to}")  # type: ignore[arg-type]
    result = import_document(tmp_path / f"r.{to}", formats=(variant,))
    assert result.report == report
    assert result.errors == []


# --------------------------------------------------------------------------- never recurse without bound


def _never_recurses(run) -> object:  # type: ignore[no-untyped-def]
    """A Result, or one clear UnreadableDocumentError (in Chinese) — never RecursionError."""
    try:
        return run()
    except UnreadableDocumentError as exc:
        error = exc
    assert "文件" in str(error)
    return error


def test_a_section_heading_printed_again_above_its_table() -> None:
    """Reports print 表三's heading again as the table's caption, or renumber a section back:
    the heading inside the table section is a caption, not a loop (it crashed the old importer
    with RecursionError)."""
    heading = "三、收到和处理政府信息公开申请情况"
    twice = HUAIAN_TEXT.replace(heading, f"{heading}\n{heading}", 1)
    result = import_text(twice)
    assert result.report is not None
    assert dict(result.report.values) == expected_values(HUAIAN_T2, HUAIAN_T3, HUAIAN_T4)
    back = HUAIAN_TEXT.replace("四、政府信息公开行政复议", "二、政府信息公开行政复议").replace(
        heading, f"{heading}\n\t{heading}"
    )
    result = import_text(back)
    assert result.report is not None
    assert result.report.values[("t4", "cases", "review_total")] == 351


@pytest.mark.parametrize("tag", ["div", "table", "td", "b"])
def test_html_of_100000_nested_tags(tag: str) -> None:
    page = (
        "<p>某镇人民政府2024年政府信息公开工作年度报告</p>"
        + f"<{tag}>" * 100_000
        + "三、收到和处理政府信息公开申请情况"
    )
    got = _never_recurses(lambda: import_text(page + f"</{tag}>" * 100_000, kind="html"))
    assert not isinstance(got, RecursionError)


def test_10000_headings_and_a_huge_paragraph() -> None:
    numerals = "一二三四五六七八九十"
    lines = [
        f"{numerals[i % 10]}、{('总体情况', '收到和处理政府信息公开申请情况', '其他需要报告的事项')[i % 3]}"
        for i in range(10_000)
    ]
    got = _never_recurses(lambda: import_text("\n".join(["某镇人民政府2024年政府信息公开工作年度报告", *lines])))
    assert not isinstance(got, RecursionError)
    huge = HUAIAN_TEXT.replace("一、总体情况\n", "一、总体情况\n" + "政务公开" * 500_000 + "\n", 1)
    result = import_text(huge)
    assert result.report is not None
    assert dict(result.report.values) == expected_values(HUAIAN_T2, HUAIAN_T3, HUAIAN_T4)


def test_a_table_of_100000_rows_and_huge_spans() -> None:
    rows = "\n".join(f"规章\t{i}\t0\t1" for i in range(100_000))
    result = import_text(HUAIAN_TEXT.replace("规章\t1\t0\t11", rows))
    assert result.report is not None
    spans = "<table><tr>" + '<td rowspan="200" colspan="200">x</td>' * 30 + "</tr><tr><td>1</td></tr></table>"
    page = "<p>某镇人民政府2024年政府信息公开工作年度报告</p>" + spans
    with pytest.raises(UnreadableDocumentError, match="表格过大"):
        import_text(page, kind="html")


def test_a_word_file_of_deeply_nested_tables(tmp_path: Path) -> None:
    import zipfile

    import docx

    path = tmp_path / "deep.docx"
    docx.Document().save(str(path))
    with zipfile.ZipFile(path) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    body = "<w:tbl><w:tr><w:tc>" * 5000 + "<w:p/>" + "</w:tc></w:tr></w:tbl>" * 5000
    xml = parts["word/document.xml"].decode("utf-8")
    parts["word/document.xml"] = xml.replace("<w:body>", "<w:body>" + body, 1).encode("utf-8")
    with zipfile.ZipFile(path, "w") as z:
        for name, data in parts.items():
            z.writestr(name, data)
    with pytest.raises(UnreadableDocumentError, match=r"deep\.docx"):
        import_document(path)


_HEADINGS = [s.label for s in get_format("gongkai-2021").sections]  # as 淮安 prints them


@settings(max_examples=40, deadline=None)
@given(
    numbers=st.lists(st.sampled_from("一二三四五六七八九十"), min_size=6, max_size=6),
    repeats=st.lists(st.integers(0, 5), max_size=4),
    as_cell=st.booleans(),
)
def test_fuzzed_section_numbering_never_crashes(numbers: list[str], repeats: list[int], as_cell: bool) -> None:
    """Headings renumbered at random, some printed again (as a paragraph or a table caption):
    the import gives a Result with the tables' values — sections only decide where text goes."""
    text = HUAIAN_TEXT
    for heading, numeral in zip(_HEADINGS, numbers, strict=True):
        text = text.replace(f"\n{heading}\n", f"\n{numeral}{heading[1:]}\n", 1)
    lines = text.splitlines()
    for i in repeats:
        heading = f"{numbers[i]}{_HEADINGS[i][1:]}"
        at = lines.index(heading) + 1
        lines.insert(at, f"\t{heading}" if as_cell else heading)
    result = import_text("\n".join(lines))
    assert result.report is not None
    assert dict(result.report.values) == expected_values(HUAIAN_T2, HUAIAN_T3, HUAIAN_T4)
