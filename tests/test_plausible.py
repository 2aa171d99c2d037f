"""Plausibility (P1–P3), the text rules (T2–T4) and the indicators, all declared in the format file."""

from __future__ import annotations

import random
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from xls_gongkai.batch.check import check_files
from xls_gongkai.batch.merge import merge_batch
from xls_gongkai.cli import app
from xls_gongkai.errors import SpecError
from xls_gongkai.report import Report, Unit
from xls_gongkai.rules import check_report, indicators, peer_issues, with_totals
from xls_gongkai.sample import random_report
from xls_gongkai.spec import get_format, parse_format
from xls_gongkai.workbook.layout import DETAIL_SHEET, UNITS_HEADING
from xls_gongkai.workbook.summary import write_summary
from xls_gongkai.workbook.writer import write_workbook

F = get_format("gongkai-2021")
runner = CliRunner()
S1 = "本年度，本单位认真贯彻落实《中华人民共和国政府信息公开条例》，" * 4
S5 = "存在的主要问题是信息更新不够及时、政策解读形式较为单一；下一步将加强培训，完善发布审核制度。"
TEXTS = {"s1": S1, "s5": S5, "s6": "本年度未收取信息处理费。"}
NEW = ("t3", "new", "natural")


def _report(i: int = 1, texts: dict[str, str] | None = None, **changes: int | Decimal) -> Report:
    r = random_report(F, Unit(f"41010200{i}", f"第{i}镇"), 2024, random.Random(i), texts=texts or TEXTS)
    values = dict(r.values)
    for name, v in changes.items():
        table, row, column = name.split("__")
        values[(table, row, column)] = v
    return replace(r, values=with_totals(F, {k: v for k, v in values.items() if k not in _computed()}))


def _computed() -> set[tuple[str, str, str]]:
    from xls_gongkai.rules import computed_cells

    return set(computed_cells(F))


def _codes(report: Report, previous: Report | None = None) -> list[str]:
    return [i.code for i in check_report(report, previous)]


# --------------------------------------------------------------------------- P2: a jump from last year


def _with_new(report: Report, n: int) -> Report:
    values = {k: v for k, v in report.values.items() if k not in _computed()}
    for col in ("commercial", "research", "public_interest", "legal_service", "other"):
        values[("t3", "new", col)] = 0
    values[NEW] = n
    return replace(report, values=with_totals(F, values))


def test_a_jump_from_last_year_is_a_warning_naming_both_years() -> None:
    last = replace(_with_new(_report(), 10), year=2023, texts={})
    this = _with_new(_report(), 80)
    [jump] = [i for i in check_report(this, last) if i.code == "P2" and i.row == "new"]
    assert not jump.is_error
    assert "本年为 80" in jump.message
    assert "上一年度为 10" in jump.message
    assert "8 倍" in jump.message
    assert (jump.found, jump.expected) == ("80", "上年 10")
    assert "P2" not in _codes(this)  # without last year: nothing to compare


@pytest.mark.parametrize(
    ("before", "after", "warned"),
    [(10, 49, False), (10, 50, True), (50, 10, True), (2, 15, False), (0, 25, True), (25, 0, True), (0, 0, False)],
)
def test_a_jump_needs_the_factor_and_the_floor(before: int, after: int, warned: bool) -> None:
    last = replace(_with_new(_report(), before), year=2023, texts={})
    this = _with_new(_report(), after)
    got = [i for i in check_report(this, last) if i.code == "P2" and i.row == "new"]
    assert bool(got) is warned, got


# --------------------------------------------------------------------------- P3: far from the batch


def test_a_unit_far_from_its_peers_is_named_and_only_it() -> None:
    reports = [_with_new(_report(i), 20 + i) for i in range(1, 11)]
    reports[3] = _with_new(reports[3], 900)
    found = peer_issues([(r, None) for r in reports])
    flagged = [n for n, issues in enumerate(found) if any(i.row == "new" for i in issues)]
    assert flagged == [3]
    [issue] = [i for i in found[3] if i.row == "new"]
    assert "高于同批 10 个单位" in issue.message
    assert issue.unit_name == reports[3].unit.name
    # too few units to say what is usual; a summary is not compared with units
    assert not any(peer_issues([(r, None) for r in reports[:5]]))
    summary = replace(reports[3], units=12)
    assert not peer_issues([(r, None) for r in [*reports[:3], summary, *reports[4:]]])[3]


def test_check_flags_the_outlier_of_a_folder(tmp_path: Path) -> None:
    for i in range(1, 10):
        write_workbook(tmp_path / f"{i}.xlsx", _with_new(_report(i), 30 + i if i != 5 else 3000))
    batch = check_files(sorted(tmp_path.iterdir()))
    by_unit = {item.result.report.unit.name: item.result.issues for item in batch.items if item.result.report}
    assert [name for name, issues in by_unit.items() if any(i.code == "P3" for i in issues)] == ["第5镇"]
    [p3] = [i for i in by_unit["第5镇"] if i.code == "P3" and i.row == "new"]
    assert p3.sheet == "表三"
    assert p3.cell  # named by its cell


# --------------------------------------------------------------------------- text rules


def test_a_few_words_in_five_is_a_warning_an_empty_one_is_text_missing() -> None:
    assert "T2" in _codes(_report(texts={**TEXTS, "s5": "无"}))
    assert "T2" not in _codes(_report())
    assert "T2" not in _codes(_report(texts={**TEXTS, "s5": ""}))


def test_a_fee_contradicting_six_is_a_warning() -> None:
    fee = {"t2_8__fees__fee_amount": Decimal("5.2")}
    said = {**TEXTS, "s6": "本年度未收取任何费用。"}
    [t3] = [i for i in check_report(_report(texts=said, **fee)) if i.code == "T3"]
    assert "5.2 万元" in t3.message
    assert "未收取任何费用" in t3.message
    assert "T3" not in _codes(_report(**fee))  # 未收取信息处理费 is about another fee
    assert "T3" not in _codes(_report(texts=said, t2_8__fees__fee_amount=0))


def test_a_copied_overview_is_a_warning_only_against_last_year() -> None:
    last = replace(_report(), year=2023)
    assert "T4" in _codes(_report(), last)
    other = replace(last, texts={**TEXTS, "s1": "上一年度的总体情况完全不同，" * 8})
    assert "T4" not in _codes(_report(), other)
    short = {**TEXTS, "s1": "总体情况良好。"}
    assert "T4" not in _codes(_report(texts=short), replace(last, texts=short))
    [t4] = [i for i in check_report(_report(), last) if i.code == "T4"]
    assert t4.found == "100%"


# --------------------------------------------------------------------------- indicators


def test_indicators_are_ratios_of_sums_and_a_dash_when_nothing_to_divide() -> None:
    r = _report()
    shown = {v.indicator.id: v for v in indicators(r)}
    v = r.values
    want = (
        Decimal(v[("t3", "disclosed", "total")] + v[("t3", "partial", "total")]) / v[("t3", "results_total", "total")]
    )
    assert shown["substantive"].value == want
    assert shown["substantive"].text == f"{(want * 100).quantize(Decimal('0.1'))}%"
    empty = Report(r.unit, 2024, F)
    assert {x.text for x in indicators(empty)} == {"—"}


def test_the_summary_lists_each_units_indicators_and_the_countys_from_its_sums(tmp_path: Path) -> None:
    small = _with_new(_report(1), 2)
    big = _with_new(_report(2), 400)
    for r in (small, big):
        write_workbook(tmp_path / f"{r.unit.code}.xlsx", r)
    merged = merge_batch(check_files(sorted(tmp_path.glob("*.xlsx"))), unit=Unit("", "某县"))
    out = write_summary(merged, tmp_path / "汇总.xlsx")
    ws = openpyxl.load_workbook(out)[DETAIL_SHEET]
    rows = [[c.value for c in row] for row in ws.iter_rows()]
    top = next(i for i, r in enumerate(rows) if r[0] == "单位代码")
    head = rows[top]
    col = head.index("办结率")
    assert head.index(UNITS_HEADING) < col
    body, total = rows[top + 3 : top + 5], rows[top + 5]
    assert total[1] == "合计"
    for row in (*body, total):
        assert str(row[col]).startswith("=IF(")  # a live formula over the row's cells
    cached = openpyxl.load_workbook(out, data_only=True)[DETAIL_SHEET]
    rates = [cached.cell(top + 4 + i, col + 1).value for i in range(3)]
    county = next(v for v in indicators(merged.report) if v.indicator.id == "completion").value
    assert rates[2] == pytest.approx(float(county))
    assert rates[2] != pytest.approx((rates[0] + rates[1]) / 2)  # not an average of the rates


def test_check_shows_indicators_on_request_and_always_in_its_report(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    write_workbook(folder / "1.xlsx", _report())
    res = runner.invoke(app, ["check", str(folder), "--indicators", "--report", str(tmp_path / "r.xlsx")])
    assert res.exit_code == 0, res.output
    assert "指标：办结率" in res.output
    assert "实质公开率" in res.output
    plain = runner.invoke(app, ["check", str(folder)])
    assert "指标：" not in plain.output
    ws = openpyxl.load_workbook(tmp_path / "r.xlsx")["汇总"]
    head = [c.value for c in ws[2]]
    assert head[-4:] == [x.name for x in F.indicators]
    assert str(ws.cell(3, len(head)).value).endswith("%") or ws.cell(3, len(head)).value == "—"


# --------------------------------------------------------------------------- the format file


@pytest.mark.parametrize(
    ("rule", "words"),
    [
        ("{id: X, title: x, severity: warning, kind: plausible, test: nope, message: m}", "nope"),
        ("{id: X, title: x, severity: warning, kind: plausible, test: jump, message: m}", "cells"),
        ("{id: X, title: x, severity: warning, kind: plausible, test: jump, cells: [t9.a.b], message: m}", "t9"),
        (
            "{id: X, title: x, severity: warning, kind: plausible, test: yuan, params: {most: 1}, message: m}",
            "most",
        ),
        (
            "{id: X, title: x, severity: warning, kind: text, test: contradicts, section: s6, cells: [t3.new.total], message: m}",
            "words",
        ),
    ],
)
def test_a_rule_that_cannot_work_is_refused_with_its_key(rule: str, words: str) -> None:
    text = (Path(__file__).parents[1] / "templates" / "gongkai-2021.yaml").read_text(encoding="utf-8")
    text = text.replace("\nrules:\n", f"\nrules:\n  - {rule}\n", 1)
    with pytest.raises(SpecError, match=words):
        parse_format(text, "bad.yaml")
