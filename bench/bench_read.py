"""Benchmark: read + check of many filled workbooks, against what an analyst would write by hand.

Three ways of getting the same sheets out of the same N workbooks (default 1,000), each timed
in one process and on all cores, run side by side in one invocation:

* **xls-gongkai** — ``read_many``: open, locate, parse every value, recompute totals, run every
  rule, look for unrecognised cells; a ``Result`` per file;
* **pandas/openpyxl** — ``pandas.read_excel(path, sheet_name=<the same sheets>, header=None,
  engine="openpyxl")``: only the raw grids, no checking at all (the baseline);
* **bare calamine** — ``python_calamine`` grids of the same sheets, nothing else (the floor).

Printed: seconds, files per second, and the two ratios the issue sets targets for
(≥ 10× faster than pandas/openpyxl; ≤ 1.5× the bare calamine read). Timings are the best of
``--repeat`` runs. The workbooks are generated once into ``--dir`` (with the template writer,
consistent random data, one in ten deliberately broken) and reused on the next run.

Run::

    .venv/bin/python bench/bench_read.py            # 1,000 workbooks
    .venv/bin/python bench/bench_read.py --n 200    # quicker
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import python_calamine as pc

from xls_gongkai.reader import read_many
from xls_gongkai.report import Unit
from xls_gongkai.sample import broken, random_report
from xls_gongkai.spec import get_format
from xls_gongkai.writer import write_workbook

YEAR = 2023


def make_workbooks(folder: Path, n: int) -> list[Path]:
    """``n`` filled workbooks in ``folder`` (reused when already there)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"unit{i:05d}.xlsx" for i in range(n)]
    todo = [p for p in paths if not p.exists()]
    if todo:
        print(f"生成 {len(todo)} 个填好的工作簿到 {folder} …", file=sys.stderr)
        fmt = get_format(YEAR)
        rnd = random.Random(20240131)
        key = next(iter(k for k in fmt.cells() if k[0] == "t3"))
        for i, p in enumerate(paths):
            if p.exists():
                continue
            report = random_report(fmt, Unit(f"{330100000 + i}", f"测试单位{i}"), YEAR, rnd, {"s1": "总体情况。"})
            if i % 10 == 0:
                report = broken(report, key, 3)
            write_workbook(p, report)
    return paths


def sheets_of(path: Path) -> list[str]:
    """The sheets every contender reads: all of them (the reader looks at each one)."""
    wb = pc.CalamineWorkbook.from_path(str(path))
    try:
        return list(wb.sheet_names)
    finally:
        wb.close()


def _calamine_one(path: str, sheets: Sequence[str]) -> int:
    wb = pc.CalamineWorkbook.from_path(path)
    try:
        return sum(len(wb.get_sheet_by_name(s).to_python(skip_empty_area=False)) for s in sheets)
    finally:
        wb.close()


def _pandas_one(path: str, sheets: Sequence[str]) -> int:
    import pandas as pd

    frames = pd.read_excel(path, sheet_name=list(sheets), header=None, engine="openpyxl")
    return sum(len(f) for f in frames.values())


def _chunk(args: tuple[str, list[str], list[str]]) -> int:
    which, paths, sheets = args
    fn = _calamine_one if which == "calamine" else _pandas_one
    return sum(fn(p, sheets) for p in paths)


def run_baseline(which: str, paths: Sequence[Path], sheets: Sequence[str], jobs: int) -> float:
    items = [str(p) for p in paths]
    start = time.perf_counter()
    if jobs == 1:
        _chunk((which, items, list(sheets)))
    else:
        size = max(1, min(32, len(items) // (jobs * 4) or 1))
        chunks = [(which, items[i : i + size], list(sheets)) for i in range(0, len(items), size)]
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            list(pool.map(_chunk, chunks))
    return time.perf_counter() - start


def run_ours(paths: Sequence[Path], jobs: int) -> float:
    start = time.perf_counter()
    results = read_many(paths, jobs=jobs)
    elapsed = time.perf_counter() - start
    bad = sum(1 for r in results if r.report is None)
    if bad:
        raise SystemExit(f"{bad} 个文件读取失败：{results[0].issues[:1]}")
    return elapsed


def best(fn: Callable[[], float], repeat: int) -> float:
    return min(fn() for _ in range(repeat))


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="读取+校验 与 pandas/openpyxl、裸 calamine 读取的速度对比")
    ap.add_argument("--n", type=int, default=1000, help="工作簿个数（默认 1000）")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="多核测量用的进程数（默认全部核）")
    ap.add_argument("--repeat", type=int, default=1, help="每项重复次数，取最快一次（默认 1）")
    ap.add_argument("--dir", type=Path, default=None, help="工作簿目录（默认 /tmp/xls_gongkai_bench_<n>）")
    args = ap.parse_args(argv)
    folder = args.dir or Path(f"/tmp/xls_gongkai_bench_{args.n}")
    paths = make_workbooks(folder, args.n)
    sheets = sheets_of(paths[0])
    n = len(paths)
    print(f"{n} 个工作簿（{get_format(YEAR).id}），每个读取工作表：{'、'.join(sheets)}；多核 = {args.jobs} 个进程")
    rows: list[tuple[str, float, float]] = []
    for label, one, many in (
        ("xls-gongkai 读取+校验", lambda: run_ours(paths, 1), lambda: run_ours(paths, args.jobs)),
        (
            "pandas.read_excel(openpyxl)",
            lambda: run_baseline("pandas", paths, sheets, 1),
            lambda: run_baseline("pandas", paths, sheets, args.jobs),
        ),
        (
            "裸 python-calamine",
            lambda: run_baseline("calamine", paths, sheets, 1),
            lambda: run_baseline("calamine", paths, sheets, args.jobs),
        ),
    ):
        t1 = best(one, args.repeat)
        tn = best(many, args.repeat) if args.jobs > 1 else t1
        rows.append((label, t1, tn))
        print(f"  {label:<28} 单进程 {t1:7.2f} s ({n / t1:7.0f} 个/s)   多核 {tn:7.2f} s ({n / tn:7.0f} 个/s)")
    ours, pandas_, floor = rows
    print()
    for mode, i in (("单进程", 1), ("多核", 2)):
        speedup = pandas_[i] / ours[i]
        over = ours[i] / floor[i]
        print(
            f"{mode}：比 pandas/openpyxl 快 {speedup:.1f} 倍（目标 ≥ 10），"
            f"是裸 calamine 读取耗时的 {over:.2f} 倍（目标 ≤ 1.5）"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
