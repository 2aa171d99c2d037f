"""``xls-gongkai generate`` in-process: roster and single unit, refusals, options, exit codes."""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from tests.conftest import consistent_reports
from xls_gongkai.batch.roster import load_roster
from xls_gongkai.cli import app
from xls_gongkai.issues import Code
from xls_gongkai.report import Report, Unit
from xls_gongkai.rules import engine
from xls_gongkai.spec import get_format, load_format
from xls_gongkai.workbook.layout import GUIDE_SHEET, META_SHEET, layout_for
from xls_gongkai.workbook.writer import META_KEYS

ROOT = Path(__file__).resolve().parents[1]
ROSTER = ROOT / "samples" / "roster.csv"
VARIANT_FILE = ROOT / "tests" / "data" / "local-variant.yaml"
runner = CliRunner()

try:
    from xls_gongkai.reading.reader import read_workbook
except ImportError:  # pragma: no cover - the reader is being ported to the new core
    read_workbook = None

needs_reader = pytest.mark.skipif(read_workbook is None, reason="reader is being rewritten on the core branch")


def _meta(path: Path) -> dict[str, str]:
    ws = openpyxl.load_workbook(path)[META_SHEET]
    return {ws.cell(r, 1).value: ws.cell(r, 2).value for r in range(2, 2 + len(META_KEYS))}


def _guide_text(path: Path) -> str:
    ws = openpyxl.load_workbook(path)[GUIDE_SHEET]
    return "\n".join(str(c.value) for row in ws.iter_rows() for c in row if c.value is not None)


def test_help_is_chinese_with_examples() -> None:
    result = runner.invoke(app, ["generate", "--help"])
    assert result.exit_code == 0
    for needle in ("--roster", "--unit", "--year", "--force", "--password", "--deadline", "--contact", "示例"):
        assert needle in result.output


@pytest.mark.parametrize(("year", "fmt_id"), [(2020, "gongkai-2019"), (2024, "gongkai-2021")])
def test_roster_gives_one_workbook_per_unit(tmp_path: Path, year: int, fmt_id: str) -> None:
    out = tmp_path / "out"
    result = runner.invoke(app, ["generate", "--year", str(year), "--roster", str(ROSTER), "--out", str(out)])
    assert result.exit_code == 0, result.output
    units = load_roster(ROSTER).units
    names = sorted(p.name for p in out.glob("*.xlsx"))
    assert names == sorted(f"{u.code}_{u.name}_{year}.xlsx" for u in units)
    assert f"{len(units)} 个模板" in result.output
    meta = _meta(out / f"{units[0].code}_{units[0].name}_{year}.xlsx")
    assert (meta["format"], meta["year"], meta["unit_code"], meta["unit_parent"]) == (
        fmt_id,
        str(year),
        units[0].code,
        units[0].parent,
    )


def test_single_unit_deadline_contact_and_no_overwrite(tmp_path: Path) -> None:
    args = ["generate", "-y", "2024", "--unit", "城关镇", "--code", "410102001", "-o", str(tmp_path)]
    args += ["--deadline", "2025年2月20日", "--contact", "县政务公开办 张三 0371-12345678"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    path = tmp_path / "410102001_城关镇_2024.xlsx"
    assert path.exists()
    text = _guide_text(path)
    assert "2025年2月20日" in text
    assert "0371-12345678" in text
    before = path.read_bytes()
    again = runner.invoke(app, args)
    assert again.exit_code == 2
    assert "--force" in again.output
    assert path.read_bytes() == before  # untouched
    forced = runner.invoke(app, [*args, "--force"])
    assert forced.exit_code == 0, forced.output


def test_existing_file_refused_before_anything_is_written(tmp_path: Path) -> None:
    units = load_roster(ROSTER).units
    last = tmp_path / f"{units[-1].code}_{units[-1].name}_2024.xlsx"
    last.write_bytes(b"keep me")
    result = runner.invoke(app, ["generate", "-y", "2024", "-r", str(ROSTER), "-o", str(tmp_path)])
    assert result.exit_code == 2
    assert last.name in result.output
    assert sorted(tmp_path.iterdir()) == [last]
    assert last.read_bytes() == b"keep me"


def test_format_option_and_password(tmp_path: Path) -> None:
    args = ["generate", "--format", "gongkai-2019", "-y", "2019", "-u", "县教育局", "--code", "9"]
    result = runner.invoke(app, [*args, "-o", str(tmp_path), "--password", "s3cret"])
    assert result.exit_code == 0, result.output
    wb = openpyxl.load_workbook(tmp_path / "9_县教育局_2019.xlsx")
    assert wb.security.lockStructure
    assert wb.security.workbookPassword
    assert all(ws.protection.password for ws in wb.worksheets)


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["-y", "2024"], "--roster"),  # neither roster nor unit
        (["-y", "2024", "-u", "城关镇", "-r", "samples/roster.csv"], "--roster"),  # both
        (["-u", "城关镇"], "--year"),  # no year, no format
        (["-y", "2017", "-u", "城关镇"], "2017"),  # no format covers it
        (["-y", "2024", "-f", "gongkai-2019", "-u", "城关镇"], "不适用"),  # format does not cover the year
        (["-y", "2024", "-f", "nope", "-u", "城关镇"], "nope"),
    ],
)
def test_usage_errors_exit_2_with_one_chinese_line(tmp_path: Path, args: list[str], needle: str) -> None:
    result = runner.invoke(app, ["generate", *args, "-o", str(tmp_path)])
    assert result.exit_code == 2
    assert needle in result.output
    assert "Traceback" not in result.output
    assert not list(tmp_path.glob("*.xlsx"))


def test_bad_roster_names_the_row(tmp_path: Path) -> None:
    roster = tmp_path / "r.csv"
    roster.write_text("代码,名称\n1,城关镇\n1,东城街道\n", encoding="gbk")
    result = runner.invoke(app, ["generate", "-y", "2024", "-r", str(roster), "-o", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert "第 3 行" in result.output
    assert not (tmp_path / "o").exists()


def test_xlsx_roster(tmp_path: Path) -> None:
    import xlsxwriter

    path = tmp_path / "名册.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet()
    ws.write_row(0, 0, ["单位代码", "单位名称"])
    ws.write_row(1, 0, [410102001, "城关镇"])
    ws.write_row(2, 0, [410102002, "东城街道"])
    wb.close()
    result = runner.invoke(app, ["generate", "-y", "2024", "-r", str(path), "-o", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == [
        "410102001_城关镇_2024.xlsx",
        "410102002_东城街道_2024.xlsx",
    ]


def test_module_entry_point_subprocess(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "xls_gongkai", "generate", "-y", "2024", "-u", "城关镇", "-o", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "城关镇_2024.xlsx").exists()


# --------------------------------------------------------------------------- round trip with the reader


def _fill(template: Path, target: Path, report: Report) -> None:
    """Type a report's values into a generated template, as a clerk would (openpyxl, tests only)."""
    lay = layout_for(report.format)
    computed = engine(report.format).computed
    wb = openpyxl.load_workbook(template)
    for key, value in report.values.items():
        if key in computed:
            continue  # totals are formulas: the clerk does not type them
        p = lay.pos(*key)
        wb[p.sheet].cell(p.row + 1, p.col + 1).value = float(value) if isinstance(value, Decimal) else value
    for sid, text in report.texts.items():
        p = lay.texts[sid].cell
        wb[p.sheet].cell(p.row + 1, p.col + 1).value = text
    wb.save(target)


@needs_reader
@settings(max_examples=8, deadline=None)
@given(data=st.data())
def test_generated_template_filled_and_read_back(tmp_path_factory: pytest.TempPathFactory, data: st.DataObject) -> None:
    fmt = data.draw(st.sampled_from([get_format(2020), get_format(2024)]))
    report = data.draw(consistent_reports(fmt))
    folder = tmp_path_factory.mktemp("rt")
    result = runner.invoke(
        app,
        [
            "generate",
            "-f",
            fmt.id,
            "-y",
            str(report.year),
            "-u",
            report.unit.name,
            "--code",
            report.unit.code,
            "-o",
            str(folder),
        ],
    )
    assert result.exit_code == 0, result.output
    (template,) = folder.glob("*.xlsx")
    filled = folder / "filled.xlsx"
    _fill(template, filled, report)
    assert read_workbook is not None
    read = read_workbook(filled)
    assert read.report is not None
    assert not read.errors, read.errors[:3]
    assert read.report.unit.code == report.unit.code
    assert read.report.year == report.year
    want = engine(fmt).with_totals(report.values)
    got = read.report.values
    assert {k: float(v) for k, v in got.items()} == {k: float(v) for k, v in want.items()}
    assert dict(read.report.texts) == dict(report.texts)


@needs_reader
def test_blank_generated_template_reads_as_an_empty_submission(tmp_path: Path) -> None:
    runner.invoke(app, ["generate", "-y", "2024", "-u", "城关镇", "--code", "410102001", "-o", str(tmp_path)])
    assert read_workbook is not None
    read = read_workbook(tmp_path / "410102001_城关镇_2024.xlsx")
    assert read.report is not None
    inputs = list(engine(get_format(2024)).inputs)
    assert not any(k in read.report.values for k in inputs)
    assert [i.code for i in read.errors] == [Code.EMPTY]  # not a submission
    assert not any(i.code.startswith("R") for i in read.issues)


def test_out_that_is_a_file_is_a_usage_error(tmp_path: Path) -> None:
    target = tmp_path / "a-file"
    target.write_text("x")
    result = runner.invoke(app, ["generate", "-y", "2024", "-u", "城关镇", "-o", str(target)])
    assert result.exit_code == 2
    assert "不是目录" in result.output
    assert "Traceback" not in result.output


def test_os_error_while_writing_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import xls_gongkai.workbook.writer as writer

    def boom(*_args: object, **_kw: object) -> None:
        raise PermissionError(13, "Permission denied", str(tmp_path / "x.xlsx"))

    monkeypatch.setattr(writer, "write_workbook", boom)
    result = runner.invoke(app, ["generate", "-y", "2024", "-u", "城关镇", "-o", str(tmp_path)])
    assert result.exit_code == 2
    assert "无法写入" in result.output
    assert "Permission denied" in result.output


def test_generate_with_a_local_variant_file(tmp_path: Path) -> None:
    """``--format 文件.yaml``: the county's variant gives templates of the variant, not the built-in
    it was copied from (its _meta names it; its extra row is in the sheet)."""
    args = ["generate", "-y", "2024", "-r", str(ROSTER), "-f", str(VARIANT_FILE), "-o", str(tmp_path)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    paths = sorted(tmp_path.glob("*.xlsx"))
    assert len(paths) == len(load_roster(ROSTER).units)
    assert _meta(paths[0])["format"] == "local-2021"
    lay = layout_for(load_format(VARIANT_FILE))
    row = lay.tables["t2_1"].rows["other_docs"]
    assert openpyxl.load_workbook(paths[0])[lay.tables["t2_1"].sheet].cell(row + 1, 1).value == "其他主动公开文件"


def test_worker_processes_write_the_same_files_in_roster_order(tmp_path: Path) -> None:
    from xls_gongkai.workbook.writer import WriteOptions, generate_templates

    units = [Unit(f"4101{i:05d}", f"第{i}镇", "河洛县") for i in range(12)]
    options = WriteOptions(deadline="2025年2月20日", generated_at="2025-01-05T09:00:00+00:00")
    seen: list[str] = []
    one = generate_templates(units, 2024, tmp_path / "one", options=options, jobs=1)
    two = generate_templates(
        units, 2024, tmp_path / "two", options=options, jobs=2, progress=lambda u, _p: seen.append(u.code)
    )
    assert [p.name for p in one] == [p.name for p in two]
    assert sorted(seen) == [u.code for u in units]
    import zipfile

    for a, b in zip(one, two, strict=True):
        with zipfile.ZipFile(a) as za, zipfile.ZipFile(b) as zb:
            assert za.namelist() == zb.namelist()
            for name in za.namelist():
                if name != "docProps/core.xml":  # the time it was written
                    assert za.read(name) == zb.read(name), (a.name, name)


def test_a_future_year_warns_in_one_chinese_line_and_still_generates(tmp_path: Path) -> None:
    from datetime import date

    next_year = date.today().year + 1
    result = runner.invoke(app, ["generate", "-y", str(next_year), "-u", "城关镇", "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.stderr.splitlines() if str(next_year) in line]
    assert len(warnings) == 1
    assert warnings[0].startswith("注意：")
    assert "还没有开始" in warnings[0]
    assert [p.name for p in tmp_path.glob("*.xlsx")] == [f"城关镇_{next_year}.xlsx"]


@pytest.mark.parametrize("offset", [0, -1, -2])
def test_the_current_year_and_earlier_ones_give_no_warning(tmp_path: Path, offset: int) -> None:
    from datetime import date

    year = date.today().year + offset
    result = runner.invoke(app, ["generate", "-y", str(year), "-u", "城关镇", "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert list(tmp_path.glob(f"*_{year}.xlsx"))


def test_future_year_note_compares_with_the_given_day() -> None:
    from datetime import date

    from xls_gongkai.cli.generate import future_year_note

    assert future_year_note(2027, date(2026, 1, 15)).startswith("注意：2027 年度还没有开始（今年是 2026 年）")
    assert future_year_note(2026, date(2026, 1, 15)) == ""
    assert future_year_note(2025, date(2026, 1, 15)) == ""
