"""The main job on the bundled sample data (``make demo``).

Runs what a county officer does, step by step, through the library and the CLI, writing into
the folder given on the command line (default ``demo-out``). Each step prints what it did.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from typer.testing import CliRunner

from xls_gongkai.cli import app

ROOT = Path(__file__).resolve().parents[1]


def step(title: str, args: list[str], ok_codes: tuple[int, ...] = (0,)) -> None:
    print(f"\n=== {title}\n$ xls-gongkai {' '.join(args)}")
    result = CliRunner().invoke(app, args)
    print(result.output.rstrip())
    if result.exit_code not in ok_codes:
        sys.exit(f"演示中止：命令返回 {result.exit_code}")


def main() -> None:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "demo-out").resolve()
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    step("内置格式", ["formats"])
    step("2024 年度适用格式的表格与勾稽关系（节选）", ["formats", "show", "2024"])
    print(f"\n演示完成，结果在 {out}")


if __name__ == "__main__":
    main()
