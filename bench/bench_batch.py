"""Benchmark: read, check and merge of a folder of filled workbooks, as the user runs them.

Whole commands, start-up and output included, each run as a subprocess side by side with its
baselines on the same files (issue "one truth inside", item 8):

* ``xls-gongkai read DIR --csv out.csv`` — target: within 2× of the floor, and at least 10×
  faster than pandas;
* ``xls-gongkai check DIR`` and ``xls-gongkai merge DIR --out x.xlsx`` — within 2× of the floor;
* **floor** — a bare script: opens each file with python-calamine, reads every sheet, writes the
  same cells with the ``csv`` module (one process);
* **pandas** — ``pandas.read_excel(path, sheet_name=None, header=None, engine="openpyxl")`` for
  each file (one process; only the grids, no checking).

xls-gongkai may use both cores (it reads in worker processes); the baselines are the scripts an
analyst would write. Each contender runs ``--repeat`` times, interleaved, and the fastest run
counts (the machine is shared). The workbooks are generated once into ``--dir`` (consistent
random data, one in ten deliberately broken) and reused.

Run::

    .venv/bin/python bench/bench_batch.py              # 1,500 workbooks
    .venv/bin/python bench/bench_batch.py --n 300      # quicker
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

YEAR = 2024
BIN = Path(sys.executable).parent

FLOOR = """
import csv, sys
from pathlib import Path
import python_calamine as pc
with open(sys.argv[2], "w", newline="", encoding="utf-8-sig") as fh:
    w = csv.writer(fh)
    for p in sorted(Path(sys.argv[1]).glob("*.xlsx")):
        book = pc.CalamineWorkbook.from_path(str(p))
        for name in book.sheet_names:
            for r, row in enumerate(book.get_sheet_by_name(name).to_python(skip_empty_area=False)):
                for c, v in enumerate(row):
                    if v != "":
                        w.writerow((p.name, name, r, c, v))
"""

PANDAS = """
import sys
from pathlib import Path
import pandas as pd
for p in sorted(Path(sys.argv[1]).glob("*.xlsx")):
    pd.read_excel(p, sheet_name=None, header=None, engine="openpyxl")
"""


def make_workbooks(folder: Path, n: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    todo = [i for i in range(n) if not (folder / f"unit{i:05d}.xlsx").exists()]
    if not todo:
        return
    from xls_gongkai.report import Unit
    from xls_gongkai.sample import broken, random_report
    from xls_gongkai.spec import get_format
    from xls_gongkai.workbook.writer import write_workbook

    print(f"生成 {len(todo)} 个填好的工作簿到 {folder} …", file=sys.stderr)
    fmt = get_format(YEAR)
    rnd = random.Random(20240131)
    key = next(k for k in fmt.cell_keys if k[0] == "t3")
    for i in todo:
        report = random_report(
            fmt,
            Unit(f"{330100000 + i}", f"测试单位{i}"),
            YEAR,
            rnd,
            {"s1": "总体情况。", "s6": "本年度未收取信息处理费。"},
        )
        write_workbook(folder / f"unit{i:05d}.xlsx", broken(report, key, 3) if i % 10 == 0 else report)


def timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode not in (0, 1):
        raise SystemExit(f"{cmd[:3]} 失败（{done.returncode}）：{done.stderr[-2000:]}")
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1500)
    ap.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "xls_gongkai_bench_books")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-pandas", action="store_true", help="跳过 pandas 基线（它很慢）")
    args = ap.parse_args()
    folder = args.dir / str(args.n)
    make_workbooks(folder, args.n)
    out = Path(tempfile.mkdtemp(prefix="xls_gongkai_bench_"))
    tool = str(BIN / "xls-gongkai")
    contenders = {
        "floor（calamine+csv）": [sys.executable, "-c", FLOOR, str(folder), str(out / "floor.csv")],
        "read --csv": [tool, "read", str(folder), "--csv", str(out / "read.csv")],
        "check": [tool, "check", str(folder)],
        "merge": [tool, "merge", str(folder), "--out", str(out / "merge.xlsx")],
    }
    best = {name: float("inf") for name in contenders}
    for _ in range(args.repeat):
        for name, cmd in contenders.items():
            best[name] = min(best[name], timed(cmd))
    if not args.no_pandas:
        best["pandas/openpyxl"] = timed([sys.executable, "-c", PANDAS, str(folder)])
    floor = best["floor（calamine+csv）"]
    print(f"{args.n} 个工作簿，每项取 {args.repeat} 次中最快的一次（pandas 1 次）")
    print(f"{'命令':<24}{'秒':>8}{'个/秒':>10}{'÷ floor':>10}")
    for name, t in best.items():
        print(f"{name:<24}{t:>8.2f}{args.n / t:>10.0f}{t / floor:>10.2f}")
    target = {"read --csv": 2.0, "check": 2.0, "merge": 2.0}
    for name, limit in target.items():
        verdict = "达到" if best[name] / floor <= limit else "未达到"
        print(f"目标 {name} ≤ {limit}× floor：{verdict}")
    if "pandas/openpyxl" in best:
        ratio = best["pandas/openpyxl"] / best["read --csv"]
        print(f"read --csv 比 pandas/openpyxl 快 {ratio:.1f} 倍（目标 ≥ 10 倍）：{'达到' if ratio >= 10 else '未达到'}")


if __name__ == "__main__":
    main()
