"""The summary workbook: the template filled with the sums, then 报送情况, 明细, 问题清单, 文字材料, 图表.

Each test builds the :class:`~xls_gongkai.collection.Merged` it needs from :class:`Report` objects
(the merge logic itself is tested in test_merge.py), so these prove what the workbook shows.
"""

from __future__ import annotations

import datetime as dt
import random
import zipfile
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from tests.lo import SOFFICE, convert
from xls_gongkai.collection import Entry, Merged, Status, Submission
from xls_gongkai.issues import CATALOGUE, Code
from xls_gongkai.numbers import Value
from xls_gongkai.report import CellKey, Report, Unit
from xls_gongkai.rules import check_report, engine
from xls_gongkai.sample import broken, random_report
from xls_gongkai.spec import Format, get_format, load_format
from xls_gongkai.workbook.layout import GUIDE_SHEET, ISSUES_SHEET, META_SHEET, UNITS_HEADING, layout_for
from xls_gongkai.workbook.summary import (
    CHARTS_SHEET,
    DETAIL_SHEET,
    STATUS_SHEET,
    TEXTS_SHEET,
    detail_title,
    total_rows,
    write_summary,
)

F2021 = get_format(2024)
VARIANT = load_format(Path(__file__).parent / "data" / "local-variant.yaml")
COUNTY = Unit("4101", "某某县汇总")
WHEN = dt.datetime(2025, 2, 21, 9, 30, tzinfo=dt.UTC)


def _report(i: int, fmt: Format = F2021, year: int = 2024) -> Report:
    unit = Unit(f"4101020{i:02d}", f"第{i}乡镇", "某某县")
    return random_report(fmt, unit, year, random.Random(i), texts={"s1": f"第{i}乡镇总体情况"})


def _sum(reports: Sequence[Report]) -> dict[CellKey, Value]:
    out: dict[CellKey, Value] = {}
    for r in reports:
        for k, v in r.values.items():
            out[k] = out.get(k, 0) + v
    return out


def merged_of(
    reports: Sequence[Report],
    *,
    roster: Sequence[Unit] | None = None,
    provisional: str = "",
    excluded: Sequence[int] = (),
) -> Merged:
    """What a merge of these reports gives: each one submitted and summed (but ``excluded``),
    and every roster unit without a report 未报送."""
    subs = []
    for i, r in enumerate(reports):
        issues = tuple(check_report(r, locate=layout_for(r.format).locate))
        subs.append(Submission(r.unit, r, f"/in/{r.unit.code}.json", 1_700_000_000 + i, issues, i not in excluded))
    included = [s.report for s in subs if s.included]
    fmt = reports[0].format
    total = Report(COUNTY, reports[0].year, fmt, engine(fmt).with_totals(_sum(included)), units=len(included))
    entries = [
        Entry(
            s.unit,
            Status.ERRORS if s.errors else Status.SUBMITTED,
            (s.file,),
            (s.mtime,),
            s.errors,
            s.warnings,
            s.included,
            "" if s.included else "有错误，未计入汇总",
        )
        for s in subs
    ]
    sent = {s.unit.code for s in subs}
    missing = [u for u in roster or () if u.code not in sent]
    entries += [Entry(u, Status.MISSING) for u in missing]
    # CATALOGUE[...].make: the template has a {code} field, which issue(code, ...) cannot take
    not_submitted = CATALOGUE[Code.NOT_SUBMITTED]
    merge_issues = tuple(
        not_submitted.make(name=u.name, code=u.code, unit_code=u.code, unit_name=u.name) for u in missing
    )
    return Merged(
        report=total,
        entries=tuple(entries),
        submissions=tuple(subs),
        total_issues=tuple(check_report(total, locate=layout_for(fmt).locate)),
        merge_issues=merge_issues,
        generated_at=WHEN,
        on_error="include" if not excluded else "exclude",
        roster=tuple(roster) if roster is not None else None,
        provisional=provisional,
    )


def _rows(path: Path, sheet: str) -> list[list[Any]]:
    return [[c.value for c in r] for r in openpyxl.load_workbook(path, data_only=True)[sheet].iter_rows()]


def _charts(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as z:
        return [z.read(n).decode() for n in sorted(z.namelist()) if n.startswith("xl/charts/chart")]


def _detail_columns(rows: list[list[Any]]) -> tuple[int, dict[str, int]]:
    top = next(i for i, r in enumerate(rows) if r[0] == "单位代码")
    return top, {t: j for j, t in enumerate(rows[top]) if t and j >= 2}


def test_sheets_meta_and_the_template_part(tmp_path: Path) -> None:
    reports = [_report(i) for i in range(4)]
    m = merged_of(reports)
    out = write_summary(m, tmp_path / "汇总.xlsx")
    wb = openpyxl.load_workbook(out, data_only=True)
    lay = layout_for(F2021)
    expected = [*lay.sheets, STATUS_SHEET, DETAIL_SHEET, ISSUES_SHEET, TEXTS_SHEET, CHARTS_SHEET, META_SHEET]
    assert wb.sheetnames == expected
    meta = {r[0].value: r[1].value for r in wb[META_SHEET].iter_rows(min_row=2)}
    assert (meta["kind"], meta["units"], meta["unit_name"], meta["format"]) == ("summary", "4", "某某县汇总", F2021.id)
    # the template's cells hold the sums (totals as formulas, with the sums as cached results)
    for key, value in m.report.values.items():
        p = lay.pos(*key)
        assert wb[p.sheet].cell(p.row + 1, p.col + 1).value == pytest.approx(float(value)), key
    assert "4 个单位" in str(wb[GUIDE_SHEET]["A1"].value)


def test_detail_one_row_per_unit_every_table_side_by_side_then_the_total(tmp_path: Path) -> None:
    reports = [_report(i) for i in range(4)]
    m = merged_of(reports, excluded=[2])
    rows = _rows(write_summary(m, tmp_path / "汇总.xlsx"), DETAIL_SHEET)
    top, titles = _detail_columns(rows)
    indicators = [x.name for x in F2021.indicators]
    assert list(titles) == [*(detail_title(t) for t in F2021.tables), UNITS_HEADING, *indicators]
    t3 = titles[detail_title(F2021.table("t3"))]
    columns = [c.id for c in F2021.table("t3").leaf_columns]
    col = t3 + columns.index("total")  # 一、本年新收 × 总计
    assert rows[top + 1][t3] == F2021.table("t3").row_nodes["new"].path_text  # merged over its columns
    assert rows[top + 1][col] is None
    assert rows[top + 2][col] == F2021.table("t3").column_nodes["total"].path_text
    body = rows[top + 3 : top + 3 + 3]
    summed = [r for i, r in enumerate(reports) if i != 2]
    assert [r[0] for r in body] == [r.unit.code for r in summed]
    assert [r[col] for r in body] == [r.value("t3", "new", "total") for r in summed]
    total_row = rows[top + 6]
    assert total_row[1] == "合计"
    assert total_row[col] == sum(r.value("t3", "new", "total") for r in summed) == m.report.value("t3", "new", "total")
    # then how many units each row adds up (the total: how many in all), then the indicators
    units_col = 2 + len(F2021.cell_keys)
    assert len(total_row) == units_col + 1 + len(indicators)
    assert [r[units_col] for r in body] == [1, 1, 1]
    assert total_row[units_col] == 3 == m.report.units


def test_status_lists_every_unit_counts_and_provisional_in_red(tmp_path: Path) -> None:
    reports = [_report(i) for i in range(1, 4)]
    reports[1] = broken(reports[1], ("t3", "new", "natural"), 5)
    roster = [r.unit for r in reports] + [Unit("410102099", "未交乡")]
    note = "临时汇总：含尚未审核通过的单位"
    out = write_summary(merged_of(reports, roster=roster, provisional=note), tmp_path / "汇总.xlsx")
    wb = openpyxl.load_workbook(out, data_only=True)
    ws = wb[STATUS_SHEET]
    assert ws["A2"].value == note
    assert str(ws["A2"].font.color.rgb).endswith("C00000")
    assert note in str(wb[GUIDE_SHEET]["A2"].value)
    rows = _rows(out, STATUS_SHEET)
    counts = {r[0]: r[1] for r in rows if r[0] in {s.value for s in Status}}
    assert counts[Status.SUBMITTED.value] == 2
    assert counts[Status.ERRORS.value] == 1
    assert counts[Status.MISSING.value] == 1
    head = next(i for i, r in enumerate(rows) if r[0] == "序号")
    listed = rows[head + 1 : head + 1 + len(roster)]
    assert [r[2] for r in listed] == [u.name for u in roster]
    assert listed[1][4] == Status.ERRORS.value
    assert listed[3][4] == Status.MISSING.value
    issues = _rows(out, ISSUES_SHEET)
    assert any(r[4] == Code.NOT_SUBMITTED and r[1] == "未交乡" for r in issues)
    assert any(r[4] == "R1" and r[0] == reports[1].unit.code for r in issues)


def test_charts_come_from_the_format(tmp_path: Path) -> None:
    reports = [_report(i) for i in range(5)]
    m = merged_of(reports)
    out = write_summary(m, tmp_path / "汇总.xlsx")
    charts = _charts(out)
    assert len(charts) == len(F2021.charts)
    for chart, xml in zip(F2021.charts, charts, strict=True):
        assert chart.title in xml
        assert ("<c:barChart>" in xml) == (chart.kind == "bar")
        assert ("<c:pieChart>" in xml) == (chart.kind == "pie")
    (pie,) = [c for c in F2021.charts if c.kind == "pie"]
    table = F2021.table(pie.table)
    rows = _rows(out, CHARTS_SHEET)
    at = next((i, j) for i, r in enumerate(rows) for j, v in enumerate(r) if v == table.row_nodes[pie.row].label)
    parts = []
    for r in rows[at[0] + 1 :]:
        if r[at[1]] is None:
            break
        parts.append((r[at[1]], r[at[1] + 1]))
    # every part of the group row, less the row that totals them (a row the engine computes)
    children = table.row_nodes[pie.row].children
    totals = [n for n in children if n.id in total_rows(F2021, table.id, pie.column)]
    assert len(totals) == 1
    assert [label for label, _v in parts] == [n.label for n in children if n not in totals]
    assert [v for _l, v in parts] == [m.report.value(table.id, n.id, pie.column) for n in children if n not in totals]


def test_many_units_chart_the_largest_fifty(tmp_path: Path) -> None:
    reports = [_report(i) for i in range(70)]
    out = write_summary(merged_of(reports), tmp_path / "s.xlsx")
    (bar,) = [c for c in F2021.charts if c.kind == "bar"]
    key = (bar.table, bar.row, bar.column)
    rows = _rows(out, CHARTS_SHEET)
    head = next(i for i, r in enumerate(rows) if r[0] == "单位名称")
    shown = [(r[0], r[1]) for r in rows[head + 1 : head + 51]]
    expected = sorted(reports, key=lambda r: (-r.value(*key), r.unit))[:50]
    assert shown == [(r.unit.name, r.value(*key)) for r in expected]
    assert len(rows) == head + 51 or rows[head + 51][0] is None
    xml = next(x for x in _charts(out) if "<c:barChart>" in x)
    assert "最多的 50 个" in xml
    assert CHARTS_SHEET in xml  # the bars read the table on the chart sheet, not 明细


def test_texts_section_by_section_each_row_tall_enough_for_its_text(tmp_path: Path) -> None:
    from xls_gongkai.workbook.layout import join_text

    reports = [_report(i) for i in range(3)]
    long = "\n".join(
        f"（{n}）" + "本单位认真贯彻落实政府信息公开条例，扎实推进政务公开工作。" * 30 for n in "一二三四五"
    )
    reports[1] = replace(reports[1], texts={**reports[1].texts, "s1": long})
    path = write_summary(merged_of(reports), tmp_path / "汇总.xlsx")
    rows = _rows(path, TEXTS_SHEET)
    assert rows[1] == ["部分", "单位名称", "单位代码", "内容", "计入汇总", "文件"]
    assert rows[2] == [
        F2021.text_sections[0].label,
        reports[0].unit.name,
        reports[0].unit.code,
        "第0乡镇总体情况",
        "是",
        "410102000.json",
    ]
    # all units' 一、总体情况 first, then 五, then 六
    sections = [r[0] for r in rows[2:]]
    assert sections == sorted(sections, key=[s.label for s in F2021.text_sections].index)
    # the long text over several rows of its unit, read back whole in order
    own = [r[3] for r in rows[2:] if r[0] == F2021.text_sections[0].label and r[1] == reports[1].unit.name]
    assert len(own) > 1
    assert join_text(own) == long
    # every row is tall enough for what it holds (a row shows at most 409 points)
    ws = openpyxl.load_workbook(path)[TEXTS_SHEET]
    for row in range(3, ws.max_row + 1):
        text = ws.cell(row, 4).value
        lines = sum(-(-len(p) * 2 // 84) or 1 for p in text.split("\n"))
        assert ws.row_dimensions[row].height >= min(lines * 15, 409), (row, text[:10])
        assert ws.row_dimensions[row].height <= 409


def test_formula_injection_stays_text(tmp_path: Path) -> None:
    evil = '=HYPERLINK("http://evil.example/x","点我")'
    r = random_report(
        F2021, Unit("410102077", evil), 2024, random.Random(3), texts={"s5": evil, "s6": "+1+2", "s1": "@SUM(A1)"}
    )
    out = write_summary(merged_of([r, _report(1)]), tmp_path / "汇总.xlsx")
    wb = openpyxl.load_workbook(out)  # formulas as written, not cached values
    seen = 0
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and ("evil.example" in cell.value or cell.value in ("+1+2", "@SUM(A1)")):
                    assert cell.data_type == "s", f"{ws.title}!{cell.coordinate} became a formula"
                    seen += 1
    assert seen >= 6  # 报送情况, 明细, 问题清单, 文字材料 ×3, 图表


def test_rerun_gives_identical_bytes_and_a_failed_write_leaves_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    m = merged_of([_report(i) for i in range(3)])
    out = tmp_path / "汇总.xlsx"
    first = write_summary(m, out).read_bytes()
    assert write_summary(m, out).read_bytes() == first
    import xls_gongkai.workbook.summary as mod

    def boom(*_a: object, **_k: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(mod, "_add_sheets", boom)
    with pytest.raises(RuntimeError):
        write_summary(m, out)
    assert out.read_bytes() == first
    assert [p.name for p in tmp_path.iterdir()] == ["汇总.xlsx"], "no temporary file left behind"


def test_local_variant_summary_shows_its_extra_row_and_column(tmp_path: Path) -> None:
    reports = [_report(i, VARIANT) for i in (1, 2)]
    m = merged_of(reports)
    out = write_summary(m, tmp_path / "汇总.xlsx")
    wb = openpyxl.load_workbook(out, data_only=True)
    lay = layout_for(VARIANT)
    extra_row = lay.tables["t2_1"].rows["other_docs"]
    ws = wb[lay.tables["t2_1"].sheet]
    assert ws.cell(extra_row + 1, 1).value == "其他主动公开文件"
    for cid in ("issued", "repealed", "in_force"):
        p = lay.pos("t2_1", "other_docs", cid)
        assert ws.cell(p.row + 1, p.col + 1).value == sum(r.values[("t2_1", "other_docs", cid)] for r in reports)
    rows = _rows(out, DETAIL_SHEET)
    top, _titles = _detail_columns(rows)
    assert "其他主动公开文件" in rows[top + 1]
    assert any(str(v).endswith("个体工商户") for v in rows[top + 2])
    assert len(rows[top + 3]) == 2 + len(VARIANT.cell_keys) + 1 + len(VARIANT.indicators)  # and 汇总单位数
    meta = {r[0].value: r[1].value for r in wb[META_SHEET].iter_rows(min_row=2)}
    assert meta["format"] == "local-2021"


@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) 未安装：跳过重算比对")
@pytest.mark.soffice
def test_libreoffice_recalculation_equals_every_cached_result(tmp_path: Path) -> None:
    """Every formula of the summary (the template's totals and checks, 明细's 合计, 报送情况's
    counts) has the cached result LibreOffice computes when it recalculates on load — for a
    built-in format and for the local variant."""
    roster = [Unit(f"4101020{i:02d}", f"第{i}乡镇", "某某县") for i in range(1, 7)]
    paths = []
    for fmt in (F2021, VARIANT):
        reports = [_report(i, fmt) for i in range(1, 6)]  # the sixth unit does not report
        reports[1] = broken(reports[1], ("t3", "new", "natural"), 5)  # included with errors: checks show ✘
        paths.append(write_summary(merged_of(reports, roster=roster), tmp_path / f"汇总-{fmt.id}.xlsx"))
    recalculated = convert(paths, "xlsx", tmp_path / "lo", recalc=True)
    for out, fresh_path in zip(paths, recalculated, strict=True):
        book = openpyxl.load_workbook(out)
        cached = CalamineWorkbook.from_path(str(out))
        fresh = CalamineWorkbook.from_path(str(fresh_path))
        compared = 0
        with_formulas = set()
        for ws in book.worksheets:
            formulas = [(c.row - 1, c.column - 1) for row in ws.iter_rows() for c in row if c.data_type == "f"]
            if not formulas:
                continue
            with_formulas.add(ws.title)
            a = cached.get_sheet_by_name(ws.title).to_python(skip_empty_area=False)
            b = fresh.get_sheet_by_name(ws.title).to_python(skip_empty_area=False)
            for r, c in formulas:
                want, got = a[r][c], b[r][c]
                if isinstance(want, int | float) and isinstance(got, int | float):
                    assert got == pytest.approx(want), (out.name, ws.title, r + 1, c + 1)
                else:
                    assert str(got) == str(want), (out.name, ws.title, r + 1, c + 1)
                compared += 1
        assert {DETAIL_SHEET, STATUS_SHEET} <= with_formulas
        assert compared > 100


def test_detail_sheet_is_what_xlsxwriter_itself_writes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """明细's worksheet writes its styled numbers and IF/SUM formulas its own faster way: the
    file is byte for byte the one XlsxWriter's own cell and formula writers give — blank
    cells, amounts, a unit named like a formula and a row of a hundred units included."""
    import xlsxwriter.worksheet

    from xls_gongkai.workbook import summary

    reports = [_report(i) for i in range(1, 101)]
    odd = reports[3]
    values = {k: v for n, (k, v) in enumerate(odd.values.items()) if n % 7}  # some cells left blank
    reports[3] = replace(odd, unit=Unit("=SUM(A1)", '=HYPERLINK("x")'), values=values)
    fast = write_summary(merged_of(reports), tmp_path / "fast.xlsx")

    class Plain(summary._DetailWorksheet):  # type: ignore[misc]
        _write_cell = xlsxwriter.worksheet.Worksheet._write_cell
        _prepare_formula = xlsxwriter.worksheet.Worksheet._prepare_formula

        def write_numbers(self, row: int, numbers: Sequence[tuple[int, float | int, Any]]) -> None:
            for col, v, style in numbers:
                self.write_number(row, col, v, style)

    monkeypatch.setattr(summary, "_DetailWorksheet", Plain)
    plain = write_summary(merged_of(reports), tmp_path / "plain.xlsx")
    with zipfile.ZipFile(fast) as a, zipfile.ZipFile(plain) as b:
        assert a.namelist() == b.namelist()
        for name in a.namelist():
            assert a.read(name) == b.read(name), name
