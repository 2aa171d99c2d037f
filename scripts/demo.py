"""The main job on the bundled sample data (``make demo``).

What a county officer does in January, step by step, with the bundled roster
(``samples/roster.csv``): generate one template per unit; the townships "fill" them (simulated
here: consistent random figures, a few deliberately wrong, one typed as a real clerk would, with
text numbers and a blank); check everything and make marked-up copies to send back; merge the
county summary; render the county's report document. Output goes to the folder given on the
command line (default ``demo-out``).
"""

from __future__ import annotations

import random
import shutil
import sys
from pathlib import Path

import openpyxl
from realistic import realistic  # scripts/realistic.py
from typer.testing import CliRunner

from xls_gongkai.batch.roster import load_roster
from xls_gongkai.cli import app
from xls_gongkai.sample import broken
from xls_gongkai.spec import get_format
from xls_gongkai.workbook.layout import layout_for
from xls_gongkai.workbook.writer import write_workbook

ROOT = Path(__file__).resolve().parents[1]
YEAR = 2024
TEXTS = {
    "s1": "{name}认真贯彻落实《中华人民共和国政府信息公开条例》，围绕主动公开、依申请公开、政府信息管理、平台建设、监督保障等方面扎实推进政务公开工作。",
    "s5": "存在的主要问题：公开内容的规范性有待提高。改进措施：加强业务培训，完善公开目录。",
    "s6": "本年度未收取信息处理费。",
}


def step(title: str, args: list[str], ok_codes: tuple[int, ...] = (0,)) -> None:
    print(f"\n=== {title}\n$ xls-gongkai {' '.join(args)}", flush=True)
    result = CliRunner().invoke(app, args)
    print(result.output.rstrip())
    if result.exit_code not in ok_codes:
        sys.exit(f"演示中止：命令返回 {result.exit_code}")


def fill(templates: Path, returned: Path) -> None:
    """Simulate the townships: fill each template, some with mistakes, as files come back."""
    fmt = get_format(YEAR)
    lay = layout_for(fmt)
    rnd = random.Random(2024)
    units = load_roster(ROOT / "samples" / "roster.csv").units
    returned.mkdir(parents=True, exist_ok=True)
    for i, unit in enumerate(units):
        if i == len(units) - 1:
            print(f"  {unit.name}：未报送")
            continue
        texts = {k: v.format(name=unit.name) for k, v in TEXTS.items()}
        report = realistic(fmt, unit, YEAR, rnd, texts)
        note = "数据一致"
        if i in (1, 4):
            report = broken(report, ("t3", "carry_next", "natural"), 2)
            note = "故意写错：四、结转下年度 多填 2"
        path = returned / f"{unit.code}_{unit.name}_{YEAR}.xlsx"
        write_workbook(path, report)
        if i == 6:
            # the clerk removed the protection and typed over a total
            wb = openpyxl.load_workbook(path)
            pos = lay.pos("t4", "cases", "review_total")
            wb[pos.sheet].cell(pos.row + 1, pos.col + 1).value = int(report.value("t4", "cases", "review_total")) + 1
            wb.save(path)
            note = "故意写错：撤销保护后把表四 行政复议 总计 手改为多 1"
        if i == 2:
            # a clerk typing in a spreadsheet program: a number typed as text, full-width digits, a blank
            wb = openpyxl.load_workbook(path)
            pos = lay.pos("t3", "np_repeat", "natural")
            wb[pos.sheet].cell(pos.row + 1, pos.col + 1).value = "１２"
            blank = lay.pos("t2_1", "regulations", "issued")
            wb[blank.sheet].cell(blank.row + 1, blank.col + 1).value = None
            wb.save(path)
            note = "按真实填报习惯：全角数字“１２”、一个空格未填"
        print(f"  {unit.name}：{note}")


def main() -> None:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "demo-out").resolve()
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    roster = str(ROOT / "samples" / "roster.csv")
    step("内置格式", ["formats"])
    step(
        "1. 生成填报模板（名册中的每个单位一个）",
        [
            "generate",
            "--year",
            str(YEAR),
            "--roster",
            roster,
            "--out",
            str(out / "1-模板"),
            "--deadline",
            "2025年2月20日",
            "--contact",
            "县政务公开办 0000-1234567",
        ],
    )
    print(f"\n=== 2. 各单位填报后交回（模拟）→ {out / '2-交回'}")
    fill(out / "1-模板", out / "2-交回")
    step(
        "3. 读取并校验交回的工作簿，生成问题清单和退回件（有错误时退出码为 1）",
        [
            "check",
            str(out / "2-交回"),
            "--roster",
            roster,
            "--report",
            str(out / "3-校验结果.xlsx"),
            "--annotate",
            str(out / "3-退回件"),
        ],
        ok_codes=(0, 1),
    )
    step(
        "4. 汇总为全县数据（含报送情况、明细、问题清单、文字材料）",
        [
            "merge",
            str(out / "2-交回"),
            "--roster",
            roster,
            "--name",
            "示范县汇总",
            "--code",
            "410102",
            "--out",
            str(out / "4-全县汇总.xlsx"),
            "--csv",
            str(out / "4-全县明细.csv"),
        ],
        ok_codes=(0, 1),
    )
    step(
        "5. 由汇总数据生成年度报告文稿",
        ["render", str(out / "4-全县汇总.xlsx"), "--to", "docx", "--out", str(out / "5-年度报告.docx")],
        ok_codes=(0, 1),  # the sample county still carries the units' deliberate mistakes
    )
    print(f"\n演示完成，全部结果在 {out}")


if __name__ == "__main__":
    main()
