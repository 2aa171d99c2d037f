"""Benchmark: merge 1,000 and 10,000 unit workbooks, against a bare python-calamine read.

Run::

    .venv/bin/python bench/bench_merge.py                  # 1,000 and 10,000 units
    .venv/bin/python bench/bench_merge.py --sizes 1000,5000 --jobs 2

The unit workbooks are written once by the writer (filled with ``sample.random_report``,
consistent data) into a cache folder under /tmp and reused by later runs; the N-unit run
merges the first N of them. Every size is measured in a fresh subprocess, so that its peak
memory is its own: the main process (ru_maxrss of the merge process) and the reader's worker
processes (ru_maxrss of its children) are reported separately. In the same run, the same files
are read bare with python-calamine (every sheet to Python lists, one core, no checks) and the
ratio of the merge's wall time to that bare read is printed.

Output: one line per size — wall time of the whole merge (read + check + sum + write the
summary workbook), its parts, units per second, peak memory — then the growth from the
smallest to the largest size (time ratio / unit ratio; 1.0 means linear).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

CACHE = Path(tempfile.gettempdir()) / "xls_gongkai_bench_merge"
YEAR = 2024
TEXTS = {
    "s1": "本年度，本单位认真贯彻落实《中华人民共和国政府信息公开条例》，主动公开各类政府信息。",
    "s5": "存在的主要问题：公开内容不够全面。改进措施：加强培训，规范流程。",
    "s6": "本年度未收取信息处理费。",
}


def _write_chunk(args: tuple[str, list[int]]) -> int:
    from xls_gongkai.report import Unit
    from xls_gongkai.sample import random_report
    from xls_gongkai.spec import get_format
    from xls_gongkai.workbook.writer import write_workbook

    folder, indices = args
    fmt = get_format(YEAR)
    for i in indices:
        path = Path(folder) / f"{i:05d}.xlsx"
        if path.exists():
            continue
        report = random_report(fmt, Unit(f"B{i:05d}", f"测试单位{i:05d}", "基准县"), YEAR, random.Random(i), TEXTS)
        tmp = path.with_suffix(".tmp.xlsx")
        write_workbook(tmp, report)
        os.replace(tmp, path)
    return len(indices)


def ensure_inputs(n: int, jobs: int) -> list[Path]:
    """The first ``n`` cached unit workbooks, writing the ones missing (in parallel)."""
    folder = CACHE / "units"
    folder.mkdir(parents=True, exist_ok=True)
    missing = [i for i in range(n) if not (folder / f"{i:05d}.xlsx").exists()]
    if missing:
        t = time.perf_counter()
        print(f"正在生成 {len(missing)} 个单位工作簿到 {folder}（只需一次）……", file=sys.stderr, flush=True)
        chunks = [(str(folder), missing[k : k + 100]) for k in range(0, len(missing), 100)]
        done = 0
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            for count in pool.map(_write_chunk, chunks):
                done += count
                print(f"\r  {done}/{len(missing)}", end="", file=sys.stderr, flush=True)
        print(f"\n  用时 {time.perf_counter() - t:.1f} s", file=sys.stderr, flush=True)
    return [folder / f"{i:05d}.xlsx" for i in range(n)]


# --------------------------------------------------------------------------- measured in a subprocess


def _child_merge(n: int, jobs: int, out: str) -> dict[str, float]:
    from xls_gongkai.batch.merge import collect_inputs, load_reports, merge_results, write_summary
    from xls_gongkai.report import Unit

    paths = [CACHE / "units" / f"{i:05d}.xlsx" for i in range(n)]
    t0 = time.perf_counter()
    paths = collect_inputs(paths)
    results = load_reports(paths, jobs=jobs)
    t1 = time.perf_counter()
    merged = merge_results(results, unit=Unit("BENCH", "基准县汇总"))
    t2 = time.perf_counter()
    write_summary(merged, out)
    t3 = time.perf_counter()
    assert merged.report.units == n, (merged.report.units, n)
    return {
        "read": t1 - t0,
        "merge": t2 - t1,
        "write": t3 - t2,
        "wall": t3 - t0,
        "rss_main_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "rss_workers_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
        "out_mb": Path(out).stat().st_size / 1e6,
    }


def _child_bare(n: int) -> dict[str, float]:
    from python_calamine import CalamineWorkbook

    paths = [CACHE / "units" / f"{i:05d}.xlsx" for i in range(n)]
    t0 = time.perf_counter()
    cells = 0
    for p in paths:
        wb = CalamineWorkbook.from_path(str(p))
        for name in wb.sheet_names:
            cells += sum(len(row) for row in wb.get_sheet_by_name(name).to_python())
    return {"wall": time.perf_counter() - t0, "cells": cells}


def run_child(*args: str) -> dict[str, float]:
    proc = subprocess.run(
        [sys.executable, __file__, "--child", *args], check=True, capture_output=True, text=True, env=os.environ
    )
    result: dict[str, float] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="1000,10000", help="unit counts, comma-separated (default 1000,10000)")
    ap.add_argument(
        "--jobs", type=int, default=os.cpu_count() or 1, help="reader worker processes (default: all cores)"
    )
    ap.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    ns = ap.parse_args()
    if ns.child:
        kind, *rest = ns.child
        if kind == "merge":
            print(json.dumps(_child_merge(int(rest[0]), int(rest[1]), rest[2])))
        else:
            print(json.dumps(_child_bare(int(rest[0]))))
        return

    sizes = sorted(int(s) for s in ns.sizes.split(","))
    ensure_inputs(max(sizes), ns.jobs)
    # The machine is shared: the load average says how far the absolute times are inflated;
    # the ratio to the bare read (measured alongside) is the figure that survives it.
    load = "/".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"merge benchmark — {os.cpu_count()} cores, load average {load}, reader jobs={ns.jobs}, "
        f"format {YEAR}, python {sys.version.split()[0]}"
    )
    print(
        f"{'units':>6} {'wall s':>7} {'read s':>7} {'merge s':>7} {'write s':>7} {'units/s':>8} "
        f"{'main MB':>8} {'workers MB':>10} {'out MB':>7} {'bare calamine s':>15} {'merge/bare':>10}"
    )
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            m = run_child("merge", str(n), str(ns.jobs), str(Path(tmp) / f"sum{n}.xlsx"))
            b = run_child("bare", str(n))
            rows.append((n, m, b))
            print(
                f"{n:>6} {m['wall']:>7.1f} {m['read']:>7.1f} {m['merge']:>7.1f} {m['write']:>7.1f} "
                f"{n / m['wall']:>8.0f} {m['rss_main_mb']:>8.0f} {m['rss_workers_mb']:>10.0f} {m['out_mb']:>7.1f} "
                f"{b['wall']:>15.1f} {m['wall'] / b['wall']:>10.2f}",
                flush=True,
            )
    if len(rows) > 1:
        (n0, m0, b0), (n1, m1, b1) = rows[0], rows[-1]
        k = n1 / n0
        print(
            f"growth {n0}→{n1} (×{k:g} units): merge wall ×{m1['wall'] / m0['wall']:.2f} "
            f"(per unit ×{m1['wall'] / m0['wall'] / k:.2f}; 1.00 = linear), "
            f"main memory ×{m1['rss_main_mb'] / m0['rss_main_mb']:.2f}, bare read ×{b1['wall'] / b0['wall']:.2f}"
        )
        print(f"target: {n1} units in < 60 s → {'met' if m1['wall'] < 60 else 'NOT met'} ({m1['wall']:.1f} s)")
        # The brief's reference: a bare calamine read of 10,000 such files takes about 10 s here when idle.
        print(
            f"scaled to an idle machine (bare read of {n1} files = {n1 / 1000:g} s): "
            f"≈ {m1['wall'] / b1['wall'] * n1 / 1000:.0f} s; load average now "
            + "/".join(f"{x:.1f}" for x in os.getloadavg())
        )


if __name__ == "__main__":
    main()
