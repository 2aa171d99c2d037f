"""The ``read`` and ``check`` commands, in-process: exit codes, outputs, messages, marked-up copies."""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path

import pandas as pd
import pytest
from python_calamine import CalamineWorkbook
from typer.testing import CliRunner

from xls_gongkai.cli import app
from xls_gongkai.issues import Code
from xls_gongkai.report import TIDY_COLUMNS, Report, Unit
from xls_gongkai.sample import broken, random_report
from xls_gongkai.spec import get_format
from xls_gongkai.workbook.writer import write_workbook

FMT = get_format(2024)
TEXTS = {
    "s1": "总体情况",
    "s5": "存在的主要问题是信息更新不够及时、政策解读形式较为单一；下一步将加强培训，完善发布审核制度。",
    "s6": "本年度未收取信息处理费。",
}
runner = CliRunner()


def unit(i: int) -> Unit:
    return Unit(f"33010{i}", f"第{i}街道")


def filled(folder: Path, i: int, *, bad: bool = False) -> Path:
    report = random_report(FMT, unit(i), 2024, random.Random(i), TEXTS)
    if bad:
        report = broken(report, ("t3", "new", "natural"), 4)
    return write_workbook(folder / f"u{i}.xlsx", report)


@pytest.fixture
def batch(tmp_path: Path) -> Path:
    folder = tmp_path / "回收"
    folder.mkdir()
    for i in range(3):
        filled(folder, i, bad=(i == 1))
    return folder


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("command", ["read", "check"])
def test_help(command: str) -> None:
    result = runner.invoke(app, [command, "--help"])
    assert result.exit_code == 0
    assert "示例" in result.output
    assert "退出码" in result.output


def test_check_all_good_exits_0(tmp_path: Path) -> None:
    for i in range(2):
        filled(tmp_path, i)
    result = runner.invoke(app, ["check", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "通过" in result.output


def test_check_errors_exit_1_and_name_the_cell(batch: Path, tmp_path: Path) -> None:
    before = {p: digest(p) for p in batch.iterdir()}
    report = tmp_path / "out" / "检查结果.json"
    ann = tmp_path / "退回"
    result = runner.invoke(app, ["check", str(batch), "--report", str(report), "--annotate", str(ann)])
    assert result.exit_code == 1, result.output
    assert "表三!D7" in result.output  # the cell of the broken value, on screen
    data = json.loads(report.read_text(encoding="utf-8"))
    files = data["files"]
    assert [Path(f["file"]).name for f in files] == ["u0.xlsx", "u1.xlsx", "u2.xlsx"]
    assert [f["errors"] > 0 for f in files] == [False, True, False]
    r1 = [i for i in files[1]["issues"] if i["code"] == "R1"]
    assert {i["cell"] for i in r1} == {"D7", "J7"}
    # one marked-up copy, for the unit with issues, built fresh (their file untouched)
    copies = sorted(ann.iterdir())
    assert len(copies) == 1
    book = CalamineWorkbook.from_path(str(copies[0]))
    assert "问题清单" in book.sheet_names
    assert {p: digest(p) for p in batch.iterdir()} == before


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_check_report_formats(batch: Path, tmp_path: Path, suffix: str) -> None:
    out = tmp_path / f"r{suffix}"
    result = runner.invoke(app, ["check", str(batch), "--report", str(out)])
    assert result.exit_code == 1
    if suffix == ".csv":
        frame = pd.read_csv(out, encoding="utf-8-sig", dtype=str)
        assert set(frame["code"]) >= {"R1"}
        assert set(frame.loc[frame["code"] == "R1", "cell"]) == {"D7", "J7"}
    else:
        book = CalamineWorkbook.from_path(str(out))
        assert book.sheet_names[:2] == ["汇总", "问题清单"]
        rows = book.get_sheet_by_name("汇总").to_python()
        # status first, the files with errors first
        assert [(r[0], r[3]) for r in rows[2:]] == [("有错误", "u1.xlsx"), ("通过", "u0.xlsx"), ("通过", "u2.xlsx")]


def test_unreadable_file_exits_2_with_one_line(batch: Path) -> None:
    (batch / "坏.xlsx").write_bytes(b"PK\x03\x04 truncated")
    result = runner.invoke(app, ["check", str(batch)])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert "坏.xlsx" in result.output
    assert "损坏" in result.output


def test_missing_path_is_a_usage_error(tmp_path: Path) -> None:
    for command in ("check", "read"):
        result = runner.invoke(app, [command, str(tmp_path / "没有")])
        assert result.exit_code == 2
        assert "找不到" in result.stderr
        assert "Traceback" not in result.output


def test_roster_not_listed_duplicate_and_missing(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    filled(folder, 0)
    filled(folder, 1)
    dup = folder / "u0_again.xlsx"
    dup.write_bytes((folder / "u0.xlsx").read_bytes())
    roster = tmp_path / "名册.csv"
    roster.write_text("代码,名称\n330100,第0街道\n330102,第2街道\n", encoding="gbk")
    out = tmp_path / "r.json"
    result = runner.invoke(app, ["check", str(folder), "--roster", str(roster), "--report", str(out)])
    assert result.exit_code == 1
    data = json.loads(out.read_text(encoding="utf-8"))
    codes = {Path(f["file"]).name: {i["code"] for i in f["issues"]} for f in data["files"]}
    assert Code.NOT_IN_ROSTER in codes["u1.xlsx"]
    assert Code.DUPLICATE in codes["u0_again.xlsx"]
    assert Code.DUPLICATE in codes["u0.xlsx"]  # every file of a unit that sent two is flagged
    assert data["missing_units"] == [{"code": "330102", "name": "第2街道"}]
    assert "未报送" in result.output


def test_strict_turns_blanks_into_errors(tmp_path: Path) -> None:
    values = {k: v for k, v in random_report(FMT, unit(5), 2024, random.Random(5), TEXTS).values.items() if v}
    zeros_blank = write_workbook(tmp_path / "zeros.xlsx", Report(unit(5), 2024, FMT, values, TEXTS))
    relaxed = runner.invoke(app, ["check", str(zeros_blank), "--warnings"])
    assert relaxed.exit_code == 0, relaxed.output  # blanks count 0: one notice per table
    assert "空白的填报格" in relaxed.output
    strict = runner.invoke(app, ["check", str(zeros_blank), "--strict"])
    assert strict.exit_code == 1
    assert "missing-value" in strict.output


def test_an_untouched_template_is_not_a_submission(tmp_path: Path) -> None:
    blank = write_workbook(tmp_path / "blank.xlsx", Report(unit(5), 2024, FMT))
    result = runner.invoke(app, ["check", str(blank)])
    assert result.exit_code == 1
    assert "空表" in result.output


def test_year_option_checks_the_file(batch: Path) -> None:
    result = runner.invoke(app, ["check", str(batch / "u0.xlsx"), "--year", "2023"])
    assert result.exit_code == 1
    assert "2024" in result.output


def test_read_csv_has_tidy_columns_and_cells(batch: Path, tmp_path: Path) -> None:
    out = tmp_path / "全县.csv"
    result = runner.invoke(app, ["read", str(batch), "--csv", str(out)])
    assert result.exit_code == 1  # u1 has errors; the data is written all the same
    frame = pd.read_csv(out, encoding="utf-8-sig", dtype={"unit_code": str})
    assert list(frame.columns) == [*TIDY_COLUMNS, "file", "sheet", "cell"]
    row = frame[(frame.unit_code == "330100") & (frame.table == "t3") & (frame.row == "new")]
    natural = row[row.column == "natural"].iloc[0]
    assert (natural.sheet, natural.cell) == ("表三", "D7")
    report = random_report(FMT, unit(0), 2024, random.Random(0), TEXTS)
    assert natural.value == report.values[("t3", "new", "natural")]
    assert len(frame) == 3 * sum(1 for _ in FMT.cells())


def test_read_parquet_and_json(batch: Path, tmp_path: Path) -> None:
    pq = tmp_path / "a.parquet"
    assert runner.invoke(app, ["read", str(batch / "u0.xlsx"), "--parquet", str(pq)]).exit_code == 0
    frame = pd.read_parquet(pq)
    assert {"file", "sheet", "cell"} <= set(frame.columns)
    js = tmp_path / "a.json"
    assert runner.invoke(app, ["read", str(batch / "u0.xlsx"), "--json", str(js)]).exit_code == 0
    data = json.loads(js.read_text(encoding="utf-8"))
    [f] = data["files"]
    assert f["report"]["unit"]["name"] == "第0街道"
    assert all(v["sheet"] and v["cell"] for v in f["values"])
    assert f["unrecognised"] == []
    # the same values in every form
    assert len(frame) == len(f["values"])
    assert [v["value"] for v in f["values"]] == [None if pd.isna(v) else v for v in frame["value"]]


def test_read_keeps_unrecognised_content_in_json(tmp_path: Path) -> None:
    from tests.test_reader import grids_of, set_cell, write_grids

    src = filled(tmp_path, 0)
    grids = grids_of(src)
    set_cell(grids, "表四", "B20", "另有复议 2 件未计入")
    path = write_grids(tmp_path / "odd.xlsx", grids)
    js = tmp_path / "odd.json"
    result = runner.invoke(app, ["read", str(path), "--json", str(js)])
    assert result.exit_code == 0
    [f] = json.loads(js.read_text(encoding="utf-8"))["files"]
    assert f["unrecognised"] == [{"sheet": "表四", "cell": "B20", "text": "另有复议 2 件未计入"}]


def test_read_with_a_roster_fills_in_codes_and_names_the_missing(tmp_path: Path) -> None:
    # read takes --roster as check does: a hand-made workbook with only a unit name gets the
    # roster's code in the data, a unit not on the roster is an error, a missing unit named.
    from tests.test_reader import hand_made

    folder = tmp_path / "回收"
    folder.mkdir()
    filled(folder, 0)
    hand = random_report(FMT, Unit("", "第1街道"), 2024, random.Random(1), TEXTS)
    hand_made(FMT, hand, folder, "手工表.xlsx")
    (folder / "src.xlsx").unlink()  # hand_made's scratch copy
    roster = tmp_path / "名册.csv"
    roster.write_text("代码,名称\n330100,第0街道\n330101,第1街道\n330102,第2街道\n", encoding="utf-8")
    out = tmp_path / "全县.csv"
    result = runner.invoke(app, ["read", str(folder), "--roster", str(roster), "--year", "2024", "--csv", str(out)])
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(out, encoding="utf-8-sig", dtype={"unit_code": str})
    assert set(frame.unit_code) == {"330100", "330101"}  # the hand-made one found by its name
    assert "名册中 1 个单位未报送：第2街道" in result.output
    stranger = tmp_path / "外来.csv"
    stranger.write_text("代码,名称\n330100,第0街道\n", encoding="utf-8")
    result = runner.invoke(app, ["read", str(folder), "--roster", str(stranger), "--year", "2024"])
    assert result.exit_code == 1  # 第1街道 is not on that roster


def test_read_writes_several_outputs_with_the_same_values(batch: Path, tmp_path: Path) -> None:
    csv_out, json_out = tmp_path / "a.csv", tmp_path / "a.json"
    result = runner.invoke(app, ["read", str(batch), "--csv", str(csv_out), "--json", str(json_out)])
    assert result.exit_code == 1  # u1 has errors; the data is written all the same
    frame = pd.read_csv(csv_out, encoding="utf-8-sig", dtype={"unit_code": str})
    rows = [v for f in json.loads(json_out.read_text(encoding="utf-8"))["files"] for v in f["values"]]
    assert len(rows) == len(frame)
    assert [r["cell"] for r in rows] == list(frame["cell"])
    bad = runner.invoke(app, ["read", str(batch), "--csv", str(tmp_path / "a.txt")])
    assert bad.exit_code == 2
    assert "不支持的输出格式" in bad.stderr


def test_hand_made_with_unit_options(tmp_path: Path) -> None:
    from tests.test_reader import hand_made

    report = random_report(FMT, unit(7), 2024, random.Random(7), TEXTS)
    path = hand_made(FMT, report, tmp_path)
    out = tmp_path / "h.json"
    result = runner.invoke(
        app, ["read", str(path), "--unit", "第7街道", "--code", "330107", "--year", "2024", "--json", str(out)]
    )
    assert result.exit_code == 0, result.output
    [f] = json.loads(out.read_text(encoding="utf-8"))["files"]
    assert f["report"]["unit"] == {"code": "330107", "name": "第7街道", "parent": ""}
    assert f["report"]["year"] == 2024


def test_clerk_text_is_printed_verbatim(tmp_path: Path) -> None:
    """Brackets in a clerk's text are not console markup (and never crash the command)."""
    from tests.test_reader import grids_of, set_cell, write_grids

    grids = grids_of(filled(tmp_path, 0))
    set_cell(grids, "表三", "D7", "[red]十二[/]")
    path = write_grids(tmp_path / "odd.xlsx", grids)
    result = runner.invoke(app, ["check", str(path), "--warnings"])
    assert result.exit_code == 1
    assert "[red]十二[/]" in result.output


def test_previous_year_checks_each_unit(tmp_path: Path) -> None:
    """R6: this year's 上年结转 must equal last year's 结转下年度, unit by unit (a warning)."""
    last, this = tmp_path / "2023", tmp_path / "2024"
    last.mkdir()
    this.mkdir()
    prev = random_report(FMT, unit(0), 2023, random.Random(10), TEXTS)
    write_workbook(last / "u0.xlsx", prev)
    values = dict(random_report(FMT, unit(0), 2024, random.Random(11), TEXTS).values)
    carried = {k: v for k, v in prev.values.items() if k[0] == "t3" and k[1] == "carry_next"}
    for (t, _r, c), v in carried.items():
        values[(t, "carried_over", c)] = v
    from xls_gongkai.sample import balanced

    report = Report(unit(0), 2024, FMT, balanced(FMT, values), TEXTS)
    # balanced() fixes R1 on the 一/（一） side, never on 二、上年结转
    assert report.values[("t3", "carried_over", "natural")] == prev.values[("t3", "carry_next", "natural")]
    write_workbook(this / "u0.xlsx", broken(report, ("t3", "carried_over", "natural"), 3))
    out = tmp_path / "r.json"
    result = runner.invoke(app, ["check", str(this), "--previous", str(last), "--report", str(out), "--warnings"])
    data = json.loads(out.read_text(encoding="utf-8"))
    r6 = [i for i in data["files"][0]["issues"] if i["code"] == "R6"]
    assert [(i["column"], i["severity"], i["cell"]) for i in r6] == [
        ("natural", "warning", "D8"),
        ("total", "warning", "J8"),  # the total it feeds
    ]
    assert "R6" in result.output
    without = runner.invoke(app, ["check", str(this), "--report", str(out)])
    assert without.exit_code == result.exit_code
    assert not [i for i in json.loads(out.read_text(encoding="utf-8"))["files"][0]["issues"] if i["code"] == "R6"]


@pytest.mark.parametrize("command", ["read", "check"])
def test_unknown_format_is_one_usage_error(batch: Path, command: str) -> None:
    result = runner.invoke(app, [command, str(batch), "--format", "gongkai-1999"])
    assert result.exit_code == 2
    assert result.stderr.count("错误") == 1
    assert "Traceback" not in result.output


def test_a_year_without_format_is_one_usage_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from typer.testing import CliRunner

    from xls_gongkai.cli import app

    (tmp_path / "a.xlsx").write_bytes(b"not a workbook")
    for command in ("check", "read"):
        result = CliRunner().invoke(app, [command, str(tmp_path), "--year", "1990"])
        assert result.exit_code == 2
        assert "没有适用于 1990 年度报告的格式" in result.output
        assert "a.xlsx" not in result.output
