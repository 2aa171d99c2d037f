"""Merge: the exact sum, completeness against a roster, duplicates, errors, the summary workbook."""

from __future__ import annotations

import csv
import os
import random
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import consistent_reports
from xls_gongkai.batch.export import EXPORT_COLUMNS as TIDY_EXPORT_COLUMNS
from xls_gongkai.batch.export import escape_text as escape_csv_text
from xls_gongkai.batch.export import merged_sources, write_tidy
from xls_gongkai.batch.inputs import collect
from xls_gongkai.batch.merge import MergeRefusedError, merge, sum_reports
from xls_gongkai.batch.roster import Roster
from xls_gongkai.collection import Merged, Status
from xls_gongkai.errors import UsageError
from xls_gongkai.issues import Code
from xls_gongkai.report import Report, Unit
from xls_gongkai.rules import check_report
from xls_gongkai.sample import broken, random_report
from xls_gongkai.spec import get_format
from xls_gongkai.workbook.layout import layout_for
from xls_gongkai.workbook.summary import write_summary

F2021 = get_format("gongkai-2021")
F2019 = get_format("gongkai-2019")
COUNTY = Unit("4101", "某某县汇总")


def _at_year(report: Report, year: int) -> Report:
    return replace(report, year=year)


NOT_SUBMITTED = Code.NOT_SUBMITTED


def _report(i: int, year: int = 2024, fmt: str = "gongkai-2021", **kw: object) -> Report:
    unit = Unit(f"4101020{i:02d}", f"第{i}乡镇")
    texts = {
        "s1": f"第{i}乡镇总体情况",
        "s5": "存在的主要问题是信息更新不够及时、政策解读形式较为单一；下一步将加强培训，完善发布审核制度。",
        "s6": "本年度未收取信息处理费。",
    }
    return random_report(get_format(fmt), unit, year, random.Random(i), texts=texts, **kw)  # type: ignore[arg-type]


def _roster(units: list[Unit]) -> Roster:
    return Roster(tuple(units), "名册.csv")


def tidy_frame(merged: Merged):  # type: ignore[no-untyped-def]
    """The merge's tidy export, as pandas reads it back."""
    import tempfile

    import pandas as pd

    out = Path(tempfile.mkdtemp()) / "t.csv"
    write_tidy(merged_sources(merged), out)
    return pd.read_csv(
        out,
        encoding="utf-8-sig",
        dtype={"unit_code": str, "sheet": str, "cell": str},
        keep_default_na=False,
        na_values=[""],
    )


def _save(report: Report, path: Path, mtime: float | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(report.to_json(), encoding="utf-8")
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


# --------------------------------------------------------------------------- the sum (pure)


@given(st.lists(consistent_reports(F2021), min_size=1, max_size=5))
def test_sum_of_consistent_reports_is_consistent(reports: list[Report]) -> None:
    reports = [_at_year(r, 2024) for r in reports]
    total = sum_reports(reports, COUNTY)
    assert check_report(total) == []
    assert total.units == len(reports)
    assert total.texts == {}
    for key in total.values:
        assert total.values[key] == sum(r.values.get(key, 0) for r in reports)


@given(st.lists(consistent_reports(F2019), min_size=3, max_size=5), st.randoms(use_true_random=False))
def test_sum_is_associative_and_order_independent(reports: list[Report], rnd: random.Random) -> None:
    reports = [_at_year(r, 2020) for r in reports]
    a, b, rest = reports[0], reports[1], reports[2:]
    flat = sum_reports(reports, COUNTY)
    nested = sum_reports([sum_reports([a, b], Unit("x", "甲乙")), *rest], COUNTY)
    shuffled = list(reports)
    rnd.shuffle(shuffled)
    assert nested == flat
    assert sum_reports(shuffled, COUNTY) == flat
    assert nested.units == len(reports)


def test_sum_is_exact_for_amounts_and_keeps_blanks_blank() -> None:
    key = ("t2_8", "fees", "amount")
    row, col = F2021.table("t2_8").leaf_rows[0].id, F2021.table("t2_8").leaf_columns[0].id
    key = ("t2_8", row, col)
    reports = [Report(Unit(str(i), str(i)), 2024, F2021, {key: Decimal("0.1")}) for i in range(10)]
    total = sum_reports(reports, COUNTY)
    assert total.values == {key: Decimal("1.0")}
    assert isinstance(total.values[key], Decimal)
    assert ("t3", "new", "total") not in total.values


def test_sum_refuses_mixed_years_and_needs_a_format() -> None:
    with pytest.raises(UsageError, match="不同年度"):
        sum_reports([_report(1, 2023), _report(2, 2024)], COUNTY)
    with pytest.raises(UsageError, match="没有可汇总"):
        sum_reports([], COUNTY)
    empty = sum_reports([], COUNTY, 2024, fmt=F2021)
    assert empty.values == {}
    assert empty.units == 0


# --------------------------------------------------------------------------- inputs


def test_collect_inputs_recurses_and_skips_lock_hidden_and_output(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    for name in ("a/1.xlsx", "a/b/2.json", "a/~$1.xlsx", "a/.hidden.xlsx", "a/notes.txt", "a/b/out.xlsx"):
        (tmp_path / name).write_text("x")
    found = collect([tmp_path / "a"], suffixes=(".xlsx", ".json"), exclude=[tmp_path / "a" / "b" / "out.xlsx"])
    assert [p.relative_to(tmp_path).as_posix() for p in found.files] == ["a/1.xlsx", "a/b/2.json"]
    assert [(s.path.name, "不是工作簿" in s.reason) for s in found.skipped] == [("notes.txt", True)]
    with pytest.raises(UsageError, match="找不到"):
        collect([tmp_path / "nope"])


def test_mixed_years_are_refused_naming_the_odd_files(tmp_path: Path) -> None:
    for i in range(3):
        _save(_report(i), tmp_path / f"u{i}.json")
    _save(_report(7, 2023), tmp_path / "odd.json")
    with pytest.raises(UsageError) as exc:
        merge([tmp_path])
    assert "odd.json" in str(exc.value)
    assert "2023" in str(exc.value)
    assert "u1.json" not in str(exc.value)


def test_mixed_format_family_is_refused(tmp_path: Path) -> None:
    _save(_report(1, 2024), tmp_path / "a.json")
    _save(_report(2, 2024), tmp_path / "b.json")
    _save(_report(3, 2020, "gongkai-2019"), tmp_path / "old.json")
    with pytest.raises(UsageError, match=r"old\.json（2020 年度，2019 试行）"):
        merge([tmp_path])


# --------------------------------------------------------------------------- completeness


def _status_sheet(path: Path) -> tuple[dict[str, int], list[dict[str, object]]]:
    wb = openpyxl.load_workbook(path)
    ws = wb["报送情况"]
    rows = [[c.value for c in r] for r in ws.iter_rows()]
    counts: dict[str, int] = {}
    i = 4
    while rows[i][0] != "序号":
        if rows[i][0] in {s.value for s in Status}:
            formula = str(rows[i][1])
            assert formula.startswith("=COUNTIF(")
            counts[str(rows[i][0])] = -1
        i += 1
    head = rows[i]
    table = [dict(zip(head, r, strict=True)) for r in rows[i + 1 :] if r[0] is not None]
    # the counts' cached results (what pandas, calamine and LibreOffice show)
    wb_values = openpyxl.load_workbook(path, data_only=True)["报送情况"]
    for r in wb_values.iter_rows(min_row=5, max_row=i):
        if r[0].value in counts:
            counts[str(r[0].value)] = int(r[1].value)
    return counts, table


@pytest.mark.parametrize(("roster_size", "files"), [(30, 30), (26, 26)])
def test_completeness_roster_missing_duplicate_unknown(tmp_path: Path, roster_size: int, files: int) -> None:
    """A roster, 2 units missing, 1 unit with two files, 1 file of a unit not on the roster.

    The issue's "30-unit roster and 26 files" cannot both hold with only these four cases
    (28 units reporting need 28 files at least), so both consistent readings are tested.
    """
    roster = [Unit(f"4101020{i:02d}", f"第{i}乡镇") for i in range(roster_size)]
    missing = {roster[3].code, roster[17].code}
    dup = roster[5]
    inbox = tmp_path / "收件箱"
    base = 1_700_000_000.0
    written = 0
    for i, u in enumerate(roster):
        if u.code in missing:
            continue
        _save(_report(i), inbox / f"{i:02d}_{u.name}.json", base + i)
        written += 1
    newer = _save(broken(_report(5), ("t3", "new", "natural"), 0), inbox / "重报" / "05_再次报送.json", base + 1000)
    unknown = _save(
        random_report(F2021, Unit("999999", "外县某镇"), 2024, random.Random(99)), inbox / "外县某镇.json", base + 7
    )
    written += 2
    assert written == files

    merged = merge([inbox], roster=_roster(roster), unit=COUNTY)
    by_code = {e.unit.code: e for e in merged.entries}
    assert [e.unit.code for e in merged.entries[:roster_size]] == [u.code for u in roster]
    assert {c for c, e in by_code.items() if e.status is Status.MISSING} == missing
    assert by_code[dup.code].status is Status.DUPLICATE
    assert by_code[dup.code].files == (str(inbox / f"05_{dup.name}.json"), str(newer))
    assert not by_code[dup.code].included
    assert by_code["999999"].status is Status.UNKNOWN
    assert not by_code["999999"].included
    submitted = {c for c, e in by_code.items() if e.status is Status.SUBMITTED}
    assert len(submitted) == roster_size - 3
    assert merged.report.units == roster_size - 3
    assert merged.report == sum_reports([_report(i) for i, u in enumerate(roster) if u.code in submitted], COUNTY), (
        "only the units that reported once, on the roster, are summed"
    )
    codes = {(i.code, i.unit_code) for i in merged.issues}
    assert {(NOT_SUBMITTED, c) for c in missing} <= codes
    assert (Code.DUPLICATE, dup.code) in codes
    assert (Code.NOT_IN_ROSTER, "999999") in codes

    out = write_summary(merged, tmp_path / "汇总" / "汇总.xlsx")
    counts, table = _status_sheet(out)
    assert {k: v for k, v in counts.items() if v or k in ("有错误",)} == {
        "通过": roster_size - 3,
        "未报送": 2,
        "有错误": 0,
        "重复": 1,
        "不在名单": 1,
    }
    assert len(table) == roster_size + 1
    status = {str(r["单位代码"]): r for r in table}
    for u in roster:
        row = status[u.code]
        assert row["单位名称"] == u.name
        if u.code in missing:
            assert (row["状态"], row["文件"], row["错误数"], row["计入汇总"]) == ("未报送", "", "", "否")
        elif u == dup:
            assert row["状态"] == "重复"
            assert row["计入汇总"] == "否"
            assert str(row["文件"]).split("\n") == ["05_第5乡镇.json", "重报/05_再次报送.json"]
            assert len(str(row["文件时间"]).split("\n")) == 2
        else:
            assert (row["状态"], row["错误数"], row["警告数"], row["计入汇总"]) == ("通过", 0, 0, "是")
            assert row["文件"] == f"{roster.index(u):02d}_{u.name}.json"
    assert status["999999"]["状态"] == "不在名单"
    assert status["999999"]["文件"] == unknown.name


def test_prefer_newest_sums_the_newer_duplicate(tmp_path: Path) -> None:
    old = _report(1)
    new = broken(old, ("t3", "new", "natural"), 0)
    new = replace(new, values={**new.values, ("t2_1", "regulations", "issued"): 77})
    _save(old, tmp_path / "old.json", 1_700_000_000)
    _save(new, tmp_path / "new.json", 1_700_000_500)
    _save(_report(2), tmp_path / "other.json")
    m = merge([tmp_path], prefer="newest")
    entry = next(e for e in m.entries if e.unit == old.unit)
    assert entry.status is Status.DUPLICATE
    assert entry.included
    assert m.report.get("t2_1", "regulations", "issued") == 77 + _report(2).values[("t2_1", "regulations", "issued")]
    assert m.report.units == 2


# --------------------------------------------------------------------------- units with errors


def _with_error(tmp_path: Path) -> tuple[Report, Report]:
    good, bad = _report(1), broken(_report(2), ("t3", "new", "natural"), 5)
    _save(good, tmp_path / "in" / "good.json")
    _save(bad, tmp_path / "in" / "bad.json")
    return good, bad


def test_on_error_include_sums_and_flags(tmp_path: Path) -> None:
    good, bad = _with_error(tmp_path)
    m = merge([tmp_path / "in"])
    entry = next(e for e in m.entries if e.unit == bad.unit)
    assert entry.status is Status.ERRORS
    assert entry.included
    assert entry.errors >= 1
    assert m.report == sum_reports([good, bad], m.report.unit)
    assert any(i.code == "R1" and i.unit_code == bad.unit.code for i in m.issues)
    assert all(i.file for i in m.issues if i.unit_code == bad.unit.code)


def test_a_units_typed_over_total_is_not_carried_into_the_summary(tmp_path: Path) -> None:
    """The summary's totals are the sums of its parts, in memory as in its workbook's formulas:
    what merge says of the summary is what the summary workbook says of itself."""
    from xls_gongkai import read_workbook

    key = ("t4", "cases", "review_total")
    good, bad = _report(1), _report(2)
    bad = replace(bad, values={**bad.values, key: bad.value(*key) + 1})
    _save(good, tmp_path / "in" / "good.json")
    _save(bad, tmp_path / "in" / "bad.json")
    m = merge([tmp_path / "in"])
    parts = ("review_upheld", "review_corrected", "review_other", "review_pending")
    assert m.report.value(*key) == sum(m.report.value("t4", "cases", c) for c in parts)
    assert any(i.code == "R4" and i.unit_code == bad.unit.code for i in m.issues)
    assert not any(i.code == "R4" for i in m.total_issues)
    back = read_workbook(write_summary(m, tmp_path / "汇总.xlsx"))
    assert back.report is not None
    assert back.report.value(*key) == m.report.value(*key)
    assert sorted(i.code for i in back.issues if i.is_error) == sorted(i.code for i in m.total_issues if i.is_error)


def test_the_summary_names_the_input_folder_not_its_full_path(tmp_path: Path) -> None:
    """The summary travels to the city: 报送情况 names the folder, not the officer's account."""
    from python_calamine import CalamineWorkbook

    _with_error(tmp_path)
    book = write_summary(merge([tmp_path / "in"]), tmp_path / "汇总.xlsx")
    cells = [
        str(v) for row in CalamineWorkbook.from_path(str(book)).get_sheet_by_name("报送情况").to_python() for v in row
    ]
    assert "文件所在文件夹：in" in cells
    assert not any(str(tmp_path) in c for c in cells)


def test_on_error_exclude_leaves_the_unit_out(tmp_path: Path) -> None:
    good, bad = _with_error(tmp_path)
    m = merge([tmp_path / "in"], on_error="exclude")
    entry = next(e for e in m.entries if e.unit == bad.unit)
    assert entry.status is Status.ERRORS
    assert not entry.included
    assert m.report == sum_reports([good], m.report.unit)


def test_on_error_fail_stops_before_writing(tmp_path: Path) -> None:
    _with_error(tmp_path)
    with pytest.raises(MergeRefusedError, match="第2乡镇") as exc:
        merge([tmp_path / "in"], on_error="fail")
    assert exc.value.exit_code == 1


def test_unreadable_json_is_listed_not_fatal(tmp_path: Path) -> None:
    _save(_report(1), tmp_path / "ok.json")
    (tmp_path / "broken.json").write_text("{not json", encoding="utf-8")
    m = merge([tmp_path])
    assert m.report.units == 1
    bad = [e for e in m.entries if e.status is Status.UNREADABLE]
    assert len(bad) == 1
    assert bad[0].files == (str(tmp_path / "broken.json"),)
    assert any(i.code == Code.FILE_UNREADABLE for i in m.issues)


# --------------------------------------------------------------------------- previous year


def test_previous_year_warnings_per_unit_and_for_the_total(tmp_path: Path) -> None:
    this = [_report(1), _report(2)]
    last = [replace(_report(i + 10, 2023), unit=r.unit) for i, r in enumerate(this)]
    # unit 1 carried over exactly what it said last year it would; unit 2 did not
    cols = [c.id for c in F2021.table("t3").leaf_columns]
    fixed = {("t3", "carry_next", c): this[0].value("t3", "carried_over", c) for c in cols}
    last[0] = replace(last[0], values={**last[0].values, **fixed})
    assert any(this[1].value("t3", "carried_over", c) != last[1].value("t3", "carry_next", c) for c in cols)
    for i, r in enumerate(this):
        _save(r, tmp_path / "now" / f"{i}.json")
        _save(last[i], tmp_path / "last" / f"{i}.json")
    m = merge([tmp_path / "now"], previous=[tmp_path / "last"])
    r6_units = {i.unit_code for i in m.issues if i.code == "R6" and i not in m.total_issues}
    assert r6_units == {this[1].unit.code}
    assert any(i.code == "R6" and i.unit_name == "汇总" for i in m.total_issues)
    assert all(i.severity.value == "warning" for i in m.issues if i.code in ("R6", "R7"))
    # last year's summary works as well as its unit reports
    last_total = sum_reports(last, Unit("4101", "上年汇总"))
    _save(last_total, tmp_path / "last_summary.json")
    m2 = merge([tmp_path / "now"], previous=[tmp_path / "last_summary.json"])
    assert [i for i in m2.total_issues if i.code == "R6"] == [i for i in m.total_issues if i.code == "R6"]
    with pytest.raises(UsageError, match="2023 年度"):
        merge([tmp_path / "now"], previous=[tmp_path / "now"])


# --------------------------------------------------------------------------- exports (the summary workbook: tests/test_summary.py)


def test_formula_injection_stays_text(tmp_path: Path) -> None:
    evil = '=HYPERLINK("http://evil.example/x","点我")'
    r = random_report(
        F2021, Unit("410102077", evil), 2024, random.Random(3), texts={"s5": evil, "s6": "+1+2", "s1": "@SUM(A1)"}
    )
    _save(r, tmp_path / "in" / "evil.json")
    m = merge([tmp_path / "in"], unit=COUNTY)
    write_tidy(merged_sources(m), tmp_path / "tidy.csv")  # the summary workbook's side: tests/test_summary.py
    with (tmp_path / "tidy.csv").open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert rows
    assert all(row["unit_name"] == "'" + evil for row in rows)
    assert escape_csv_text("-3") == "'-3"
    assert escape_csv_text("城关镇") == "城关镇"


def test_tidy_export_columns_and_parquet(tmp_path: Path) -> None:
    import pandas as pd

    _save(_report(0), tmp_path / "in" / "0.json")
    _workbook(_report(1), tmp_path / "in" / "1.xlsx")
    m = merge([tmp_path / "in"], jobs=1)
    frame = tidy_frame(m)
    assert tuple(frame.columns) == TIDY_EXPORT_COLUMNS
    assert len(frame) == 2 * len(list(F2021.cells()))
    new = frame[(frame.table == "t3") & (frame.row == "new") & (frame.column == "total")]
    by_file = {Path(f).name: (sh, c) for f, sh, c in zip(new.file, new.sheet, new.cell, strict=True)}
    pos = layout_for(F2021).pos("t3", "new", "total")
    assert {k: tuple("" if pd.isna(x) else x for x in v) for k, v in by_file.items()} == {
        "0.json": ("", ""),
        "1.xlsx": ("表三", pos.a1),
    }
    assert new.value.tolist() == [float(_report(i).value("t3", "new", "total")) for i in (0, 1)]
    pq = write_tidy(merged_sources(m), tmp_path / "out" / "tidy.parquet")
    back = pd.read_parquet(pq)
    assert back["value"].sum() == pytest.approx(frame["value"].sum())
    assert back.shape == frame.shape


def test_rerun_gives_identical_bytes_and_inputs_untouched(tmp_path: Path) -> None:
    paths = [_save(_report(i), tmp_path / "in" / f"{i}.json", 1_700_000_000 + i) for i in range(3)]
    before = [(p.read_bytes(), p.stat().st_mtime) for p in paths]
    out = tmp_path / "in" / "汇总.xlsx"  # inside the input folder: never read back as an input
    write_summary(merge([tmp_path / "in"], exclude=[out]), out)
    first = out.read_bytes()
    m2 = merge([tmp_path / "in"], exclude=[out])
    assert m2.report.units == 3
    write_summary(m2, out)
    assert out.read_bytes() == first
    assert [(p.read_bytes(), p.stat().st_mtime) for p in paths] == before
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")], "no temporary file left behind"


# --------------------------------------------------------------------------- workbooks (writer + reader)


def _workbook(report: Report, path: Path) -> Path:
    from xls_gongkai.workbook.writer import write_workbook

    path.parent.mkdir(parents=True, exist_ok=True)
    return write_workbook(path, report)


@settings(max_examples=8)
@given(st.lists(consistent_reports(F2021), min_size=2, max_size=4, unique_by=lambda r: r.unit.code))
def test_summary_read_back_equals_the_sum_and_merges_again(
    tmp_path_factory: pytest.TempPathFactory, reports: list[Report]
) -> None:
    from xls_gongkai.reading.reader import read_workbook

    tmp = tmp_path_factory.mktemp("wb")
    reports = [_at_year(r, 2024) for r in reports]
    for i, r in enumerate(reports):
        _workbook(r, tmp / "units" / f"{i}.xlsx")
    ab = merge([tmp / "units" / "0.xlsx", tmp / "units" / "1.xlsx"], unit=Unit("41", "甲乙"), jobs=1)
    assert ab.report == sum_reports(reports[:2], Unit("41", "甲乙"))
    write_summary(ab, tmp / "ab.xlsx")
    back = read_workbook(tmp / "ab.xlsx")
    assert back.report is not None
    assert back.report.values == ab.report.values
    assert back.report.units == 2
    assert back.report.unit == Unit("41", "甲乙")
    assert back.errors == []
    # merge(merge(A, B), C…) == merge(A, B, C…)
    rest = [tmp / "units" / f"{i}.xlsx" for i in range(2, len(reports))]
    nested = merge([tmp / "ab.xlsx", *rest], unit=COUNTY, jobs=1)
    flat = merge([tmp / "units"], unit=COUNTY, jobs=1)
    assert nested.report == flat.report == sum_reports(reports, COUNTY)
    assert nested.report.units == flat.report.units == len(reports)
    assert [i for i in nested.issues if i.is_error] == []


def test_workbooks_and_json_mix_and_parallel_reading(tmp_path: Path) -> None:
    reports = [_report(i) for i in range(12)]
    for i, r in enumerate(reports[:11]):
        _workbook(r, tmp_path / "in" / f"sub{i % 2}" / f"{i}.xlsx")
    _save(reports[11], tmp_path / "in" / "11.json")
    (tmp_path / "in" / "garbage.xlsx").write_bytes(b"not a workbook at all")
    seen: list[tuple[int, int]] = []
    m = merge([tmp_path / "in"], unit=COUNTY, jobs=2, progress=lambda done, total: seen.append((done, total)))
    assert m.report == sum_reports(reports, COUNTY)
    assert seen[-1] == (13, 13)
    assert [d for d, _t in seen] == sorted(d for d, _t in seen)
    bad = [e for e in m.entries if e.status is Status.UNREADABLE]
    assert [Path(e.files[0]).name for e in bad] == ["garbage.xlsx"]
    texts = {s.unit.code: s.report.texts.get("s1") for s in m.submissions}
    assert texts == {r.unit.code: r.texts["s1"] for r in reports}
    # the same as reading every file in this process
    one = merge([tmp_path / "in"], unit=COUNTY, jobs=1)
    assert one.report == m.report
    assert one.entries == m.entries
    assert [s.issues for s in one.submissions] == [s.issues for s in m.submissions]


# --------------------------------------------------------------------------- group rows and formats across years


def test_group_row_stored_as_one_row_is_summed_as_the_group() -> None:
    # A 2021 table that printed （六）其他处理 as one row stores the group; another unit has the leaves.
    group = ("t3", "other_handling", "natural")
    as_group = Report(Unit("1", "甲"), 2024, F2021, {group: 5})
    as_leaves = Report(
        Unit("2", "乙"), 2024, F2021, {("t3", "oh_no_fee", "natural"): 2, ("t3", "oh_other", "natural"): 1}
    )
    total = sum_reports([as_group, as_leaves], COUNTY)
    assert total.value(*group) == 8
    assert total.value("t3", "oh_other", "natural") == 1
    # still associative and order-independent with a stored group
    assert sum_reports([sum_reports([as_leaves], Unit("x", "x")), as_group], COUNTY) == total
    assert sum_reports([as_leaves, as_group], COUNTY) == total


def test_cross_year_across_formats_checks_only_what_last_year_has() -> None:
    from xls_gongkai.rules import engine

    def cross_year_issues(this: Report, last: Report) -> list:  # type: ignore[type-arg]
        return engine(this.format).cross_year_issues(this, last)

    # 2021 (2021 format) against 2020 (2019 format): R6 (表三) applies; R7 needs 2021's 表二 columns.
    this = _report(1, 2021, "gongkai-2021")
    last = _report(2, 2020, "gongkai-2019")
    issues = cross_year_issues(this, last)
    assert issues, "R6 should compare 二、上年结转 with last year's 四、结转下年度继续办理"
    assert {i.code for i in issues} == {"R6"}
    carried = {
        ("t3", "carried_over", c.id): last.value("t3", "carry_next", c.id) for c in F2021.table("t3").leaf_columns
    }
    assert cross_year_issues(replace(this, values={**this.values, **carried}), last) == []


def test_previous_summary_gives_per_unit_warnings_from_its_detail_sheet(tmp_path: Path) -> None:
    from xls_gongkai.reading.detail import read_detail

    last = [_report(i, 2023) for i in range(1, 4)]
    this = [_report(i + 10, 2024) for i in range(1, 4)]
    this = [replace(r, unit=old.unit) for r, old in zip(this, last, strict=True)]
    for r in last:
        _save(r, tmp_path / "2023" / f"{r.unit.code}.json")
    for r in this:
        _save(r, tmp_path / "2024" / f"{r.unit.code}.json")
    last_summary = write_summary(merge([tmp_path / "2023"], unit=COUNTY), tmp_path / "2023汇总.xlsx")
    back = read_detail(last_summary, F2021, 2023)
    assert [(b.unit, dict(b.values)) for b in back] == [(r.unit, dict(r.values)) for r in last]

    from_summary = merge([tmp_path / "2024"], previous=[last_summary], unit=COUNTY)
    from_reports = merge([tmp_path / "2024"], previous=[tmp_path / "2023"], unit=COUNTY)
    per_unit = [(i.unit_code, i.code, i.column) for s in from_summary.submissions for i in s.issues if i.code == "R6"]
    assert per_unit
    assert per_unit == [
        (i.unit_code, i.code, i.column) for s in from_reports.submissions for i in s.issues if i.code == "R6"
    ]
    assert [i.message for i in from_summary.total_issues if i.code == "R6"] == [
        i.message for i in from_reports.total_issues if i.code == "R6"
    ]


def test_a_summary_left_among_its_units_is_not_counted_twice(tmp_path: Path) -> None:
    reports = [_report(i) for i in range(3)]
    for i, r in enumerate(reports):
        _workbook(r, tmp_path / "in" / f"{i}.xlsx")
    first = merge([tmp_path / "in"], unit=COUNTY)
    # last run's summary written into the inputs' folder, then the folder merged again
    write_summary(first, tmp_path / "in" / "旧汇总.xlsx")
    again = merge([tmp_path / "in"], unit=COUNTY)
    assert again.report == first.report
    old = next(e for e in again.entries if e.files and e.files[0].endswith("旧汇总.xlsx"))
    assert old.status is Status.DUPLICATE
    assert not old.included
    assert any(i.code == Code.SUMMARY_OVERLAP and "旧汇总.xlsx" in i.message for i in again.merge_issues)
    # the summary with one of its own units: the unit's file counts, the summary does not
    solo = merge([tmp_path / "in" / "旧汇总.xlsx", tmp_path / "in" / "0.xlsx"], unit=COUNTY)
    assert solo.report == sum_reports([reports[0]], COUNTY)
    # a summary with a unit that is not in it (a city department reporting directly) is summed
    _workbook(_report(7), tmp_path / "city" / "7.xlsx")
    city = merge([tmp_path / "in" / "旧汇总.xlsx", tmp_path / "city"], unit=COUNTY)
    assert city.report == sum_reports([*reports, _report(7)], COUNTY)
    assert city.report.units == 4


def test_tidy_cells_follow_moved_rows(tmp_path: Path) -> None:
    """A workbook whose 表三 gained a row: the tidy export names the cells where the values are."""
    import xlsxwriter
    from python_calamine import CalamineWorkbook

    from xls_gongkai.workbook.layout import META_SHEET, layout_for

    report = _report(1)
    src = _workbook(report, tmp_path / "src" / "a.xlsx")
    book = CalamineWorkbook.from_path(str(src))
    grids = {n: book.get_sheet_by_name(n).to_python(skip_empty_area=False) for n in book.sheet_names}
    grids["表三"].insert(layout_for(F2021).tables["t3"].data_top, ["（插入的说明行）"])
    (tmp_path / "in").mkdir()
    wb = xlsxwriter.Workbook(str(tmp_path / "in" / "moved.xlsx"))
    for name, grid in grids.items():
        ws = wb.add_worksheet(name)
        for r, line in enumerate(grid):
            for c, v in enumerate(line):
                if v not in (None, ""):
                    ws.write(r, c, v)
        if name == META_SHEET:
            ws.very_hidden()
    wb.close()
    m = merge([tmp_path / "in"], jobs=1)
    assert m.report == sum_reports([report], m.report.unit)
    frame = tidy_frame(m)
    row = frame[(frame.table == "t3") & (frame.row == "new") & (frame.column == "total")].iloc[0]
    pos = layout_for(F2021).pos("t3", "new", "total")
    assert (row.sheet, row.cell) == ("表三", replace(pos, row=pos.row + 1).a1)
    assert m.submissions[0].cells is not None
    assert "t2_1|regulations|issued" not in m.submissions[0].cells  # only the moved cells are kept


def _other_as_one_row(report: Report) -> Report:
    """The report as a unit that printed （六）其他处理 as one row: the group stored, its sub-rows unknown."""
    t3 = F2021.table("t3")
    leaves = {n.id for n in t3.row_nodes["other_handling"].children}
    values = {k: v for k, v in report.values.items() if not (k[0] == "t3" and k[1] in leaves)}
    for c in t3.leaf_columns:
        values[("t3", "other_handling", c.id)] = report.value("t3", "other_handling", c.id)
    return replace(report, values=values)


@given(
    st.lists(st.tuples(consistent_reports(F2021), st.booleans()), min_size=3, max_size=5),
    st.randoms(use_true_random=False),
)
def test_sum_with_group_rows_stored_is_associative_and_consistent(
    items: list[tuple[Report, bool]], rnd: random.Random
) -> None:
    reports = [_at_year(_other_as_one_row(r) if one_row else r, 2024) for r, one_row in items]
    flat = sum_reports(reports, COUNTY)
    nested = sum_reports([sum_reports(reports[:2], Unit("x", "甲乙")), *reports[2:]], COUNTY)
    shuffled = list(reports)
    rnd.shuffle(shuffled)
    assert nested == flat
    assert sum_reports(shuffled, COUNTY) == flat
    for c in F2021.table("t3").leaf_columns:
        assert flat.value("t3", "other_handling", c.id) == sum(r.value("t3", "other_handling", c.id) for r in reports)
    assert check_report(flat) == []


def merge_results_of(reports: list[Report]) -> Merged:
    from xls_gongkai.batch.merge import merge_batch
    from xls_gongkai.batch.pipeline import check_batch
    from xls_gongkai.issues import Result

    return merge_batch(check_batch([Result(r, (), f"{r.unit.code}.json") for r in reports]), unit=COUNTY)


def test_roster_matches_by_name_when_the_code_is_missing_or_unknown(tmp_path: Path) -> None:
    roster = [Unit("410102001", "城关镇"), Unit("410102002", "东城街道"), Unit("410102003", "西城街道")]
    a = random_report(F2021, Unit("", "城关镇"), 2024, random.Random(1))
    b = random_report(F2021, Unit("410102099", "东城街道"), 2024, random.Random(2))  # code typed wrong
    c = random_report(F2021, Unit("410102003", "西城街道办"), 2024, random.Random(3))  # name differs, code right
    for i, r in enumerate((a, b, c)):
        _save(r, tmp_path / f"{i}.json")
    m = merge([tmp_path], roster=_roster(roster))
    # matched: 城关镇 by name (the roster gives its code); the other two with a warning to check
    assert [(e.unit, e.status) for e in m.entries] == [
        (roster[0], Status.SUBMITTED),
        (roster[1], Status.WARNINGS),
        (roster[2], Status.WARNINGS),
    ]
    assert m.report.units == 3
    mismatch = [i for i in m.issues if i.code == Code.ROSTER_MISMATCH]
    assert [(i.unit_code, i.found, i.severity.value) for i in mismatch] == [
        ("410102002", "410102099", "warning"),
        ("410102003", "西城街道办", "warning"),
    ]


def test_unwritable_output_is_a_usage_error_and_leaves_nothing(tmp_path: Path) -> None:
    _save(_report(1), tmp_path / "in" / "1.json")
    m = merge([tmp_path / "in"])
    blocker = tmp_path / "汇总.xlsx"
    blocker.mkdir()  # a folder where the summary should go: os.replace cannot put a file there
    with pytest.raises(UsageError, match=r"汇总\.xlsx"):
        write_summary(m, blocker)
    assert {p.name for p in tmp_path.iterdir()} == {"in", "汇总.xlsx"}  # no temporary file left
    (tmp_path / "file").write_text("x")
    with pytest.raises(UsageError, match="无法"):
        write_tidy(merged_sources(m), tmp_path / "file" / "tidy.csv")


def test_merge_does_not_depend_on_the_order_of_its_inputs(tmp_path: Path) -> None:
    paths = [_save(_report(i), tmp_path / f"{'zyx'[i]}.json", 1_700_000_000 + i) for i in range(3)]
    forward = merge(paths, unit=COUNTY)
    backward = merge(list(reversed(paths)), unit=COUNTY)
    assert forward == backward
    assert [s.unit for s in forward.submissions] == sorted(s.unit for s in forward.submissions)


@settings(max_examples=40)
@given(
    st.lists(st.sampled_from(["missing", "once", "twice", "error"]), min_size=1, max_size=12),
    st.integers(0, 3),
    st.sampled_from(["include", "exclude"]),
    st.booleans(),
)
def test_status_counts_add_up_for_any_roster(states: list[str], unknown: int, on_error: str, newest: bool) -> None:
    from xls_gongkai.batch.merge import merge_batch
    from xls_gongkai.batch.pipeline import check_batch
    from xls_gongkai.issues import Result

    def merge_results(results: list[Result], **kw: object) -> Merged:
        roster_ = kw.pop("roster")
        return merge_batch(check_batch(results, roster=roster_), **kw)  # type: ignore[arg-type]

    base = _report(0)
    bad = broken(base, ("t3", "new", "natural"), 1)
    roster = [Unit(f"R{i:03d}", f"单位{i}") for i in range(len(states))]
    results: list[Result] = []
    for u, state in zip(roster, states, strict=True):
        copies = {"missing": 0, "once": 1, "twice": 2, "error": 1}[state]
        for k in range(copies):
            report = replace(bad if state == "error" else base, unit=u)
            results.append(Result(report, tuple(check_report(report)), f"{u.code}-{k}.json"))
    for j in range(unknown):
        results.append(Result(replace(base, unit=Unit(f"X{j}", f"外单位{j}")), (), f"X{j}.json"))
    if not results:
        with pytest.raises(UsageError, match="没有可汇总的报告"):
            merge_results(results, roster=_roster(roster))
        return
    mtimes = {r.source: float(i) for i, r in enumerate(results)}
    m = merge_results(
        results,
        roster=_roster(roster),
        on_error=on_error,
        prefer="newest" if newest else None,
        times=mtimes,
    )
    counts = m.counts()
    assert counts[Status.MISSING] == states.count("missing")
    assert counts[Status.SUBMITTED] == states.count("once")
    assert counts[Status.DUPLICATE] == states.count("twice")
    assert counts[Status.ERRORS] == states.count("error")
    assert counts[Status.UNKNOWN] == unknown
    assert [e.unit for e in m.entries[: len(roster)]] == roster
    summed = states.count("once") + (states.count("twice") if newest else 0)
    summed += states.count("error") if on_error == "include" else 0
    assert m.report.units == summed == len(m.included)
    assert m.report == sum_reports([s.report for s in m.included], m.report.unit, 2024, fmt=F2021)
