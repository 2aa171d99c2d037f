"""说明 travel: a unit explains a warning in its workbook; check shows it beside the warning,
the check report and merge's 问题清单 carry it, the summary lists it on its 说明 sheet, and a
city merge of county summaries carries the townships' 说明 up again."""

from __future__ import annotations

import random
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import openpyxl
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from xls_gongkai.batch.check import check_files
from xls_gongkai.batch.merge import merge_batch
from xls_gongkai.cli import app
from xls_gongkai.issues import Code, explanation_for, explanation_key, issue
from xls_gongkai.reading.reader import read_workbook
from xls_gongkai.report import Explanation, Report, Unit
from xls_gongkai.sample import random_report
from xls_gongkai.spec import Severity, get_format
from xls_gongkai.workbook.layout import EXPLAIN_FIRST_ROW, EXPLAIN_SHEET, layout_for
from xls_gongkai.workbook.summary import write_summary
from xls_gongkai.workbook.writer import write_workbook

F = get_format("gongkai-2021")
runner = CliRunner()
#: A fee in 元 typed where 万元 belong: the plausibility rule P1 warns.
FEE = ("t2_8", "fees", "fee_amount")
TEXTS = {
    "s1": "总体",
    "s5": "存在的主要问题是信息更新不够及时、政策解读形式较为单一；下一步将加强培训，完善发布审核制度。",
    "s6": "本年度未收取信息处理费。",
}


def _report(i: int, *, fee: int | None = None, said: tuple[Explanation, ...] = ()) -> Report:
    r = random_report(F, Unit(f"41010200{i}", f"第{i}镇"), 2024, random.Random(i), texts=TEXTS)
    values = dict(r.values)
    if fee is not None:
        values[FEE] = Decimal(fee)
    return replace(r, values=values, explanations=said)


def test_the_template_has_a_row_for_each_warning_rule_and_a_general_one(tmp_path: Path) -> None:
    path = write_workbook(tmp_path / "t.xlsx", Report(Unit("001", "城关镇"), 2024, F))
    ws = openpyxl.load_workbook(path)[EXPLAIN_SHEET]
    rows = layout_for(F).explains
    warnings = [r.id for r in F.rules if r.severity is Severity.WARNING]
    assert [row.key for row in rows] == [*warnings, ""]
    for row in rows:
        cell = ws.cell(row.cell.row + 1, row.cell.col + 1)
        assert not cell.protection.locked, "the clerk types the 说明 here"
        assert ws.cell(row.cell.row + 1, 3).value == "城关镇"
        assert ws.cell(row.cell.row + 1, 1).protection.locked
    assert ws.protection.sheet


@settings(max_examples=15)
@given(
    texts=st.lists(
        st.text(st.characters(codec="utf-8", categories=("L", "N", "P", "Zs")), min_size=1, max_size=300).filter(
            lambda t: t.strip() == t and t
        ),
        min_size=1,
        max_size=3,
    )
)
def test_explanations_round_trip(tmp_path_factory, texts: list[str]) -> None:  # type: ignore[no-untyped-def]
    keys = [row.key for row in layout_for(F).explains]
    said = tuple(Explanation(k, t) for k, t in zip(keys, texts, strict=False))
    path = write_workbook(tmp_path_factory.mktemp("x") / "a.xlsx", _report(1, said=said))
    result = read_workbook(path)
    assert result.report is not None
    assert result.report.explanations == said
    assert not [i for i in result.issues if i.code == Code.UNRECOGNISED]


def test_explanation_for_matches_key_then_rule_and_never_an_error() -> None:
    w = issue(Code.FORMULA_IN_INPUT, place="表三", note="n", table="t3", row="new", column="natural")
    rule_w = replace(w, code="P1", key="P1|t2_8|fees|fee_amount", severity=Severity.WARNING)
    by_rule = Explanation("P1", "确有其事")
    exact = Explanation("P1|t2_8|fees|fee_amount", "逐条说明")
    assert explanation_for(rule_w, [by_rule]) == by_rule
    assert explanation_for(rule_w, [by_rule, exact]) == exact
    assert explanation_for(rule_w, [Explanation("", "总的说明")]) is None
    other_unit = Explanation("P1", "别的单位的", Unit("999", "别处"))
    assert explanation_for(replace(rule_w, unit_code="001"), [other_unit]) is None
    error = replace(rule_w, severity=Severity.ERROR)
    assert explanation_for(error, [exact]) is None
    assert explanation_key(rule_w) == exact.key


def test_check_shows_the_explanation_beside_its_warning(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    write_workbook(folder / "1.xlsx", _report(1, fee=251000, said=(Explanation("P1", "本年确有大额收费"),)))
    write_workbook(folder / "2.xlsx", _report(2, fee=251000))
    res = runner.invoke(app, ["check", str(folder), "--warnings", "--report", str(tmp_path / "r.xlsx")])
    assert res.exit_code == 0, res.output
    lines = [line for line in res.output.splitlines() if " P1 " in line]
    assert len(lines) == 2
    assert "已说明：本年确有大额收费" in next(line for line in lines if "251000" in line and "已说明" in line)
    assert "警告 1（已说明 1）" in res.output
    ws = openpyxl.load_workbook(tmp_path / "r.xlsx")["问题清单"]
    head = [c.value for c in ws[2]]
    col = head.index("单位的说明")
    said = {
        row[head.index("单位名称")].value: row[col].value or ""
        for row in ws.iter_rows(min_row=3)
        if row[1].value == "P1"
    }
    assert said == {"第1镇": "本年确有大额收费", "第2镇": ""}


def _merged(paths: list[Path], name: str) -> object:
    batch = check_files(paths)
    return merge_batch(batch, unit=Unit("", name))


def test_merge_lists_explanations_and_a_city_merge_carries_them_up(tmp_path: Path) -> None:
    towns = tmp_path / "towns"
    towns.mkdir()
    write_workbook(towns / "1.xlsx", _report(1, fee=251000, said=(Explanation("P1", "一镇的说明"),)))
    write_workbook(towns / "2.xlsx", _report(2, said=(Explanation("", "二镇的其他说明"),)))
    merged = _merged(sorted(towns.iterdir()), "甲县")
    county = write_summary(merged, tmp_path / "甲县.xlsx")  # type: ignore[arg-type]
    book = openpyxl.load_workbook(county)
    issues = book["问题清单"]
    head = [c.value for c in issues[1]]
    p1 = [row for row in issues.iter_rows(min_row=2, values_only=True) if row[head.index("规则/代码")] == "P1"]
    assert [row[head.index("单位的说明")] for row in p1] == ["一镇的说明"]
    listed = [
        row[:4] for row in book[EXPLAIN_SHEET].iter_rows(min_row=EXPLAIN_FIRST_ROW + 1, values_only=True) if row[3]
    ]
    assert ("P1", "金额疑似按元填写", "第1镇（410102001）", "一镇的说明") in listed
    assert ("—", "其他需要说明的情况", "第2镇（410102002）", "二镇的其他说明") in listed

    # The county summary read back keeps who wrote what; a city merge carries it up.
    back = read_workbook(county)
    assert back.report is not None
    assert {(e.unit.code, e.text) for e in back.report.explanations} == {
        ("410102001", "一镇的说明"),
        ("410102002", "二镇的其他说明"),
    }
    other = tmp_path / "乙县.xlsx"
    write_summary(_merged([towns / "2.xlsx"], "乙县"), other)  # type: ignore[arg-type]
    city = _merged([county, other], "某市")
    assert {(e.unit.name, e.text) for e in city.report.explanations} >= {  # type: ignore[attr-defined]
        ("第1镇", "一镇的说明"),
        ("第2镇", "二镇的其他说明"),
    }
