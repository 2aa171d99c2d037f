"""Hard edges: odd names, odd files, full disks and hostile text never cost a batch.

Each case here is one the issue names: a documented result (one Chinese line, the documented exit
code, no traceback, nothing half-written, the rest of the batch processed) asserted for it.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from xls_gongkai.cli import app, main
from xls_gongkai.report import Report, Unit
from xls_gongkai.sample import random_report
from xls_gongkai.spec import get_format
from xls_gongkai.workbook.writer import write_workbook

FMT = get_format(2024)
TEXTS = {
    "s1": "总体情况",
    "s5": "存在的主要问题是信息更新不够及时、政策解读形式较为单一；下一步将加强培训，完善发布审核制度。",
    "s6": "本年度未收取信息处理费。",
}
runner = CliRunner()
ROOT = os.geteuid() == 0 if hasattr(os, "geteuid") else False
GBK_NAME = "城关镇.xlsx".encode("gbk").decode("utf-8", "surrogateescape")  # as unzipped from a Windows zip


def book(path: Path, i: int = 0, unit: Unit | None = None) -> Path:
    report = random_report(FMT, unit or Unit(f"00{i}", f"第{i}镇"), 2024, random.Random(i), TEXTS)
    return write_workbook(path, report)


def no_english(text: str) -> None:
    for word in ("Traceback", "Error:", "Usage:", "Try '", "No such", "Missing", "Invalid value"):
        assert word not in text, text


# --------------------------------------------------------------------------- 1. names


def test_file_names_that_are_not_utf8_go_through_every_output(tmp_path: Path) -> None:
    inbox = tmp_path / "交回"
    inbox.mkdir()
    book(inbox / GBK_NAME, 0)
    book(inbox / "第1镇\n换行.xlsx", 1)
    out = tmp_path / "out"
    res = runner.invoke(app, ["read", str(inbox), "--csv", str(out / "a.csv"), "--json", str(out / "a.json")])
    assert res.exit_code == 0, res.output
    assert "城关镇.xlsx" in res.output  # shown as the GBK name it is
    frame = pd.read_csv(out / "a.csv", encoding="utf-8-sig", dtype=str)
    assert {Path(f).name for f in frame.file} == {"城关镇.xlsx", "第1镇\n换行.xlsx"}
    assert len(json.loads((out / "a.json").read_text(encoding="utf-8"))["files"]) == 2
    for report in ("r.xlsx", "r.json", "r.csv"):
        res = runner.invoke(app, ["check", str(inbox), "--report", str(out / report)])
        assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["merge", str(inbox), "--out", str(out / "m.xlsx"), "--csv", str(out / "m.csv")])
    assert res.exit_code == 0, res.output
    assert (out / "m.xlsx").stat().st_size > 0


def test_control_characters_in_a_unit_name_never_reach_the_terminal_raw(tmp_path: Path) -> None:
    evil = "镇\x1b[31m红\x01\u202e反"
    path = book(tmp_path / "a.xlsx", 0, Unit("001", evil))
    res = runner.invoke(app, ["check", str(path)])
    assert "\x1b" not in res.output
    assert "\x01" not in res.output
    assert "\u202e" not in res.output
    assert "\\x1b" in res.output  # shown, visibly
    docx = tmp_path / "a.docx"
    res = runner.invoke(app, ["render", str(path), "--to", "docx", "--out", str(docx)])
    assert res.exit_code == 0, res.output
    assert docx.stat().st_size > 0


# --------------------------------------------------------------------------- 2. not regular files


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="没有命名管道的系统")
@pytest.mark.parametrize("command", ["read", "check", "merge"])
def test_a_fifo_never_hangs(tmp_path: Path, command: str) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    book(folder / "ok.xlsx")
    os.mkfifo(folder / "pipe.xlsx")
    extra = ["--out", str(tmp_path / "m.xlsx")] if command == "merge" else []
    for target in (folder, folder / "pipe.xlsx"):
        args = [sys.executable, "-m", "xls_gongkai", command, str(target), *extra]
        done = subprocess.run(args, capture_output=True, text=True, timeout=60)
        no_english(done.stderr)
        assert "命名管道" in done.stdout + done.stderr


def test_odd_things_in_a_folder_are_named_and_the_rest_is_read(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    book(folder / "ok.xlsx")
    (folder / "目录.xlsx").mkdir()  # a folder with a workbook's name: walked, not read
    outside = book(tmp_path / "outside.xlsx", 1)
    (folder / "link.xlsx").symlink_to(outside)
    (folder / "dangling.xlsx").symlink_to(tmp_path / "nowhere.xlsx")
    (folder / "报告.docx").write_bytes(b"PK\x03\x04")
    (folder / "打包.zip").write_bytes(b"PK\x05\x06" + b"\0" * 18)
    sock = socket.socket(socket.AF_UNIX)
    short = Path(tempfile.mkdtemp(dir="/tmp")) / "s.xlsx"  # a socket's path must be short
    try:
        sock.bind(str(short))
        res = runner.invoke(app, ["check", str(folder), str(short), "/dev/null"])
    finally:
        sock.close()
        shutil.rmtree(short.parent, ignore_errors=True)
    assert res.exit_code == 0, res.output
    out = res.output
    assert "通过 " in out
    assert "指向文件夹以外的链接" in out
    assert "失效的链接" in out
    assert "收到但不是工作簿（Word 文档）" in out
    assert "是压缩包，请解压" in out
    assert "套接字" in out
    assert "设备文件" in out
    assert "outside.xlsx" not in out.replace("link.xlsx", "")


@pytest.mark.skipif(ROOT, reason="以 root 运行时文件权限不起作用")
def test_an_unreadable_file_is_one_chinese_line(tmp_path: Path) -> None:
    path = book(tmp_path / "a.xlsx")
    path.chmod(0)
    res = runner.invoke(app, ["check", str(path)])
    assert res.exit_code == 2
    assert "无法打开" in res.output


# --------------------------------------------------------------------------- 3. outputs


def test_an_output_that_cannot_be_written_is_one_line_before_the_work(tmp_path: Path) -> None:
    inbox = tmp_path / "in"
    inbox.mkdir()
    book(inbox / "a.xlsx")
    blocker = tmp_path / "file"
    blocker.write_text("x")
    for args in (
        ["check", str(inbox), "--report", str(blocker / "r.xlsx")],
        ["read", str(inbox), "--csv", str(blocker / "r.csv")],
        ["merge", str(inbox), "--out", str(blocker / "m.xlsx")],
        ["check", str(inbox), "--report", str(tmp_path / "r.txt")],
    ):
        res = runner.invoke(app, args)
        assert res.exit_code == 2, (args, res.output)
        assert "Traceback" not in res.output
        assert len(res.stderr.strip().splitlines()) == 1
    assert {p.name for p in tmp_path.iterdir()} == {"in", "file"}


def test_an_output_equal_to_an_input_is_refused(tmp_path: Path) -> None:
    a = book(tmp_path / "a.xlsx")
    before = a.read_bytes()
    res = runner.invoke(app, ["merge", str(a), str(book(tmp_path / "b.xlsx", 1)), "--out", str(a)])
    assert res.exit_code == 2
    assert "也是输入之一" in res.stderr
    assert a.read_bytes() == before


def test_merge_writes_all_its_outputs_or_none(tmp_path: Path) -> None:
    inbox = tmp_path / "in"
    inbox.mkdir()
    book(inbox / "a.xlsx")
    (tmp_path / "m.csv").mkdir()  # the CSV cannot be written: a folder has its name
    res = runner.invoke(app, ["merge", str(inbox), "--out", str(tmp_path / "m.xlsx"), "--csv", str(tmp_path / "m.csv")])
    assert res.exit_code == 2
    assert not (tmp_path / "m.xlsx").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


@pytest.mark.skipif(
    not (ROOT and sys.platform.startswith("linux") and shutil.which("mount")), reason="需要 root 在 Linux 上挂载 tmpfs"
)
def test_a_full_disk_leaves_nothing_behind(tmp_path: Path) -> None:
    inbox = tmp_path / "in"
    inbox.mkdir()
    for i in range(3):
        book(inbox / f"{i}.xlsx", i)
    disk = tmp_path / "disk"
    disk.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4k", "tmpfs", str(disk)], capture_output=True).returncode:
        pytest.skip("无法挂载 tmpfs（容器不允许）")
    system_temp = set(Path(tempfile.gettempdir()).iterdir())
    try:
        for args in (
            ["check", str(inbox), "--report", str(disk / "r.xlsx")],
            ["read", str(inbox), "--csv", str(disk / "r.csv")],
            ["merge", str(inbox), "--out", str(disk / "m.xlsx"), "--csv", str(disk / "m.csv")],
        ):
            res = runner.invoke(app, args)
            assert res.exit_code == 2, (args, res.output)
            assert "Traceback" not in res.output
            assert "无法写入" in res.stderr
            assert list(disk.iterdir()) == [], "nothing half-written"
    finally:
        subprocess.run(["umount", str(disk)], check=False)
    leftovers = {p for p in set(Path(tempfile.gettempdir()).iterdir()) - system_temp if "xlsx" in p.name.lower()}
    assert not leftovers, leftovers


# --------------------------------------------------------------------------- 4. text


def test_text_over_a_cells_limit_is_flagged_not_cut_silently(tmp_path: Path) -> None:
    from python_calamine import CalamineWorkbook

    long = "很长的总体情况。" * 5000  # 40,000 characters
    report = Report(
        Unit("1", "甲"),
        2024,
        FMT,
        random_report(FMT, Unit("1", "甲"), 2024, random.Random(1)).values,
        {**TEXTS, "s1": long},
    )
    path = write_workbook(tmp_path / "a.xlsx", report)
    grid = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("文字说明").to_python()
    # the section's cells: its first ones full, the last holding the rest up to Excel's limit
    cells = [v for row in grid for v in row if isinstance(v, str) and v.startswith("很长")]
    assert all(len(c) <= 32767 for c in cells)
    assert ["超出 Excel 单元格上限" in c for c in cells] == [False] * (len(cells) - 1) + [True]
    kept = sum(len(c) for c in cells[:-1]) + len(cells[-1].split("……【")[0])
    assert str(40000 - kept) in cells[-1]


# --------------------------------------------------------------------------- 7. the CLI speaks Chinese


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["check", "x", "--rooster", "r"], "没有 --rooster 这个选项，是否想用 --roster"),
        (["chek"], "没有 chek 这个命令，是否想用 check"),
        (["render", "x.json", "--to", "pdf"], "可用：docx、md、html"),
        (["merge"], "缺少参数"),
        (["generate", "--year", "abc"], "应为整数"),
        (["check", "--year"], "后面要写一个值"),
    ],
)
def test_usage_errors_are_one_chinese_line(args: list[str], words: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(args)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert words in err
    assert len(err.strip().splitlines()) == 1
    no_english(err)


def test_help_is_chinese() -> None:
    res = runner.invoke(app, ["check", "--help"])
    assert "用法：" in res.output
    assert "显示本帮助并退出。" in res.output
    assert "Show this message" not in res.output


# --------------------------------------------------------------------------- 8. dependencies


def test_every_documented_command_needs_only_the_installed_dependencies() -> None:
    import importlib.metadata as md

    # A requirement's name is what comes before its version bounds ("xlsxwriter<3.4,>=3.3").
    required = {
        re.match(r"[A-Za-z0-9_.-]+", r).group().lower()  # type: ignore[union-attr]
        for r in md.requires("xls-gongkai") or []
        if "extra ==" not in r
    }
    assert {"python-docx", "python-calamine", "xlsxwriter", "openpyxl", "pandas", "typer", "rich", "pyyaml"} <= required
