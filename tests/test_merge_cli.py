"""``xls-gongkai merge`` in-process: exit codes, outputs, messages."""

from __future__ import annotations

import random
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from typer.testing import CliRunner

from xls_gongkai.batch.export import EXPORT_COLUMNS as TIDY_EXPORT_COLUMNS
from xls_gongkai.cli import app
from xls_gongkai.report import Report, Unit
from xls_gongkai.sample import broken, random_report
from xls_gongkai.spec import get_format

F = get_format("gongkai-2021")
runner = CliRunner()


def _unit(i: int) -> Unit:
    return Unit(f"41010200{i}", f"第{i}镇")


def _write(tmp: Path, reports: list[Report]) -> Path:
    from xls_gongkai.workbook.writer import write_workbook

    folder = tmp / "收到的报表"
    folder.mkdir(parents=True, exist_ok=True)
    for r in reports:
        write_workbook(folder / f"{r.unit.code}_{r.unit.name}.xlsx", r)
    return folder


def _roster(tmp: Path, n: int) -> Path:
    path = tmp / "名册.csv"
    lines = ["代码,名称"] + [f"{u.code},{u.name}" for u in map(_unit, range(1, n + 1))]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _reports(n: int) -> list[Report]:
    return [random_report(F, _unit(i), 2024, random.Random(i), texts={"s1": "总体"}) for i in range(1, n + 1)]


def test_help_is_chinese_with_examples() -> None:
    res = runner.invoke(app, ["merge", "--help"])
    assert res.exit_code == 0
    for word in ("汇总", "--roster", "--on-error", "--prefer", "--previous", "--csv", "--parquet", "示例"):
        assert word in res.output


def test_complete_merge_exits_0_and_writes_all_outputs(tmp_path: Path) -> None:
    folder = _write(tmp_path, _reports(3))
    out = tmp_path / "县汇总.xlsx"
    res = runner.invoke(
        app,
        [
            "merge",
            str(folder),
            "--roster",
            str(_roster(tmp_path, 3)),
            "--name",
            "某某县汇总",
            "--code",
            "4101",
            "--out",
            str(out),
            "--csv",
            str(tmp_path / "明细.csv"),
            "--parquet",
            str(tmp_path / "明细.parquet"),
        ],
    )
    assert res.exit_code == 0, res.output
    assert "汇总了 3 个单位" in res.output
    assert "汇总数据校验全部通过" in res.output
    wb = openpyxl.load_workbook(out, read_only=True)
    assert {"表三", "明细", "报送情况", "问题清单", "文字材料", "图表"} <= set(wb.sheetnames)
    frame = pd.read_parquet(tmp_path / "明细.parquet")
    assert tuple(frame.columns) == TIDY_EXPORT_COLUMNS
    assert set(frame.unit_code) == {_unit(i).code for i in (1, 2, 3)}
    csv = pd.read_csv(tmp_path / "明细.csv", encoding="utf-8-sig", dtype={"unit_code": str})
    assert len(csv) == len(frame)


def test_missing_units_exit_1_and_are_named(tmp_path: Path) -> None:
    folder = _write(tmp_path, _reports(2))
    res = runner.invoke(app, ["merge", str(folder), "-r", str(_roster(tmp_path, 4)), "-o", str(tmp_path / "s.xlsx")])
    assert res.exit_code == 1
    assert "未报送：第3镇" in res.output
    assert "未报送：第4镇" in res.output
    assert (tmp_path / "s.xlsx").exists()


def test_on_error_fail_exits_1_without_writing(tmp_path: Path) -> None:
    reports = _reports(2)
    reports[1] = broken(reports[1], ("t3", "new", "natural"), 3)
    folder = _write(tmp_path, reports)
    out = tmp_path / "s.xlsx"
    res = runner.invoke(app, ["merge", str(folder), "--out", str(out), "--on-error", "fail"])
    assert res.exit_code == 1
    assert "第2镇" in res.output
    assert not out.exists()
    res = runner.invoke(app, ["merge", str(folder), "--out", str(out), "--on-error", "exclude"])
    assert res.exit_code == 1
    assert "汇总了 1 个单位" in res.output
    assert "有错误：第2镇（" in res.output
    assert "个错误，未计入汇总）" in res.output


def test_mixed_years_exit_2_naming_the_file(tmp_path: Path) -> None:
    reports = _reports(2)
    folder = _write(tmp_path, reports)
    (folder / "去年.json").write_text(random_report(F, _unit(9), 2023, random.Random(9)).to_json(), encoding="utf-8")
    res = runner.invoke(app, ["merge", str(folder), "--out", str(tmp_path / "s.xlsx")])
    assert res.exit_code == 2
    assert "去年.json" in res.output
    assert "Traceback" not in res.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--out", "s.csv"], ".xlsx"),
        (["--out", "s.xlsx", "--on-error", "maybe"], "maybe"),
        (["--out", "s.xlsx", "--roster", "nope.csv"], "nope.csv"),
    ],
)
def test_usage_errors_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    folder = _write(tmp_path, _reports(1))
    fixed = [str(tmp_path / a) if a.endswith((".csv", ".xlsx")) else a for a in args]
    res = runner.invoke(app, ["merge", str(folder), *fixed])
    assert res.exit_code == 2
    assert message in res.output


def test_nonexistent_input_exit_2(tmp_path: Path) -> None:
    res = runner.invoke(app, ["merge", str(tmp_path / "没有"), "--out", str(tmp_path / "s.xlsx")])
    assert res.exit_code == 2
    assert "找不到" in res.output


def test_summary_of_summaries_city_level(tmp_path: Path) -> None:
    reports = _reports(4)
    a = _write(tmp_path / "甲县", reports[:2])
    b = _write(tmp_path / "乙县", reports[2:])
    for folder, name, code in ((a, "甲县汇总", "4101"), (b, "乙县汇总", "4102")):
        res = runner.invoke(
            app, ["merge", str(folder), "--name", name, "--code", code, "-o", str(tmp_path / f"{name}.xlsx")]
        )
        assert res.exit_code == 0, res.output
    city = tmp_path / "市汇总.xlsx"
    res = runner.invoke(
        app,
        [
            "merge",
            str(tmp_path / "甲县汇总.xlsx"),
            str(tmp_path / "乙县汇总.xlsx"),
            "--name",
            "某某市汇总",
            "-o",
            str(city),
        ],
    )
    assert res.exit_code == 0, res.output
    assert "汇总了 4 个单位" in res.output
    from xls_gongkai.batch.merge import sum_reports
    from xls_gongkai.reading.reader import read_workbook

    back = read_workbook(city).report
    assert back is not None
    assert back.values == sum_reports(reports, back.unit).values
    assert back.units == 4


def test_names_and_paths_are_printed_verbatim(tmp_path: Path) -> None:
    """A unit named like console markup is printed as typed, not interpreted."""
    odd = Unit("410102777", "[bold]某镇[/bold][/]")
    folder = _write(tmp_path / "[x]", _reports(1))
    res = runner.invoke(
        app, ["merge", str(folder), "-r", str(_roster_of(tmp_path, [_unit(1), odd])), "-o", str(tmp_path / "s.xlsx")]
    )
    assert res.exit_code == 1, res.output
    assert "未报送：[bold]某镇[/bold][/]" in res.output
    assert f"已写出 {tmp_path / 's.xlsx'}" in res.output


def _roster_of(tmp: Path, units: list[Unit]) -> Path:
    path = tmp / "名册2.csv"
    path.write_text("代码,名称\n" + "".join(f"{u.code},{u.name}\n" for u in units), encoding="utf-8")
    return path


def test_prefer_newest_and_previous_year(tmp_path: Path) -> None:
    import os

    reports = _reports(2)
    folder = _write(tmp_path, reports)
    newer = folder / "重报" / "第1镇_更正.xlsx"
    newer.parent.mkdir()
    from xls_gongkai.workbook.writer import write_workbook

    write_workbook(newer, reports[0])
    os.utime(newer, (2_000_000_000, 2_000_000_000))
    out = tmp_path / "s.xlsx"
    res = runner.invoke(app, ["merge", str(folder), "-o", str(out)])
    assert res.exit_code == 1
    assert "汇总了 1 个单位" in res.output
    assert "重复：第1镇" in res.output
    last = tmp_path / "2023"
    last.mkdir()
    for r in reports:
        (last / f"{r.unit.code}.json").write_text(
            random_report(F, r.unit, 2023, random.Random(int(r.unit.code))).to_json(), encoding="utf-8"
        )
    res = runner.invoke(app, ["merge", str(folder), "-o", str(out), "--prefer", "newest", "--previous", str(last)])
    assert res.exit_code == 1, res.output  # still flagged as a duplicate
    assert "汇总了 2 个单位" in res.output
    assert "采用最新保存的 第1镇_更正.xlsx" in res.output
    issues = openpyxl.load_workbook(out, read_only=True)["问题清单"]
    codes = {row[4] for row in issues.iter_rows(min_row=2, values_only=True)}
    assert "R6" in codes


def test_nothing_readable_exit_2_naming_the_files(tmp_path: Path) -> None:
    folder = tmp_path / "收件箱"
    folder.mkdir()
    (folder / "坏文件.xlsx").write_bytes(b"PK\x03\x04 not really")
    res = runner.invoke(app, ["merge", str(folder), "-o", str(tmp_path / "s.xlsx")])
    assert res.exit_code == 2
    assert "坏文件.xlsx" in res.output
    assert not (tmp_path / "s.xlsx").exists()


def test_default_name_comes_from_the_rosters_parent(tmp_path: Path) -> None:
    folder = _write(tmp_path, _reports(2))
    roster = tmp_path / "名册.csv"
    roster.write_text(
        "代码,名称,上级\n" + "".join(f"{_unit(i).code},{_unit(i).name},河洛县\n" for i in (1, 2)), encoding="utf-8"
    )
    out = tmp_path / "s.xlsx"
    res = runner.invoke(app, ["merge", str(folder), "-r", str(roster), "-o", str(out)])
    assert res.exit_code == 0, res.output
    meta = {r[0]: r[1] for r in openpyxl.load_workbook(out, read_only=True)["_meta"].iter_rows(values_only=True)}
    assert meta["unit_name"] == "河洛县汇总"
    res = runner.invoke(app, ["merge", str(folder), "-o", str(out)])
    meta = {r[0]: r[1] for r in openpyxl.load_workbook(out, read_only=True)["_meta"].iter_rows(values_only=True)}
    assert meta["unit_name"] == "汇总"
