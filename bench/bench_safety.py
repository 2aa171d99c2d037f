"""Benchmark: what the safety layer and the formula/error scan add to a bare python-calamine read.

For N filled workbooks (default 1,000), one process, run side by side:

* **bare calamine** — open each file with python-calamine and take every sheet's grid (the floor);
* **inspect + calamine, in-process** — :func:`~xls_gongkai.reading.safety.inspect_file` with the
  limits of an ordinary process (every cell reference of every worksheet looked at) first;
* **inspect + calamine, confined** — with the limits of a confined batch worker (declared used
  area only; see :func:`~xls_gongkai.reading.safety.confine`);
* **inspect + special_cells + calamine, confined** — what a batch worker does per file;
* **inspect only** / **special_cells only** — the two scans by themselves.

The contenders run interleaved, block by block (``--block`` files each), and each block counts
with the fastest of ``--repeat`` runs, so a machine busy with other work slows them alike.
Printed: seconds, µs a file and the ratio to the bare read.

The workbooks come from ``--dir`` (``*.xlsx``); when it holds none, ``--n`` filled templates are
written there first (template writer, consistent random data).

Run::

    .venv/bin/python bench/bench_safety.py --dir /tmp/bench-safety
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

import python_calamine as pc

from xls_gongkai.reading import safety
from xls_gongkai.reading.cells import special_cells


def make_workbooks(folder: Path, n: int) -> list[Path]:
    """The workbooks in ``folder``, writing ``n`` filled templates there when it has none."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = sorted(folder.glob("*.xlsx"))
    if paths:
        return paths[:n]
    from xls_gongkai.report import Unit
    from xls_gongkai.sample import random_report
    from xls_gongkai.spec import get_format
    from xls_gongkai.workbook.writer import write_workbook

    print(f"生成 {n} 个填好的工作簿到 {folder} …", file=sys.stderr)
    fmt = get_format(2023)
    rnd = random.Random(20240131)
    for i in range(n):
        report = random_report(fmt, Unit(f"{330100000 + i}", f"测试单位{i}"), 2023, rnd, {"s1": "总体情况。"})
        write_workbook(folder / f"unit{i:05d}.xlsx", report)
    return sorted(folder.glob("*.xlsx"))


def grids(path: Path) -> None:
    book = pc.CalamineWorkbook.from_path(str(path))
    for name in book.sheet_names:
        book.get_sheet_by_name(name).to_python(skip_empty_area=False)


def contenders() -> dict[str, Callable[[Path], object]]:
    free, confined = safety.DEFAULT_LIMITS, safety.CONFINED_LIMITS

    def inspect_free(p: Path) -> None:
        safety.inspect_file(p, free, scan_xml=False)
        grids(p)

    def inspect_confined(p: Path) -> None:
        safety.inspect_file(p, confined, scan_xml=False)
        grids(p)

    def worker(p: Path) -> None:
        safety.inspect_file(p, confined, scan_xml=False)
        special_cells(p)
        grids(p)

    return {
        "bare calamine": grids,
        "inspect + calamine, in-process": inspect_free,
        "inspect + calamine, confined": inspect_confined,
        "inspect + special_cells + calamine, confined": worker,
        "inspect only, in-process": lambda p: safety.inspect_file(p, free, scan_xml=False),
        "inspect only, confined": lambda p: safety.inspect_file(p, confined, scan_xml=False),
        "inspect with the DTD scan (explain_failure)": lambda p: safety.inspect_file(p, free, scan_xml=True),
        "special_cells only": special_cells,
    }


def run(paths: list[Path], block: int, repeat: int) -> dict[str, float]:
    runs = contenders()
    best = dict.fromkeys(runs, 0.0)
    for start in range(0, len(paths), block):
        chunk = paths[start : start + block]
        for name, func in runs.items():
            times = []
            for _ in range(repeat):
                t0 = time.process_time()
                for p in chunk:
                    func(p)
                times.append(time.process_time() - t0)
            best[name] += min(times)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dir", type=Path, default=Path("bench-out/safety"))
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--block", type=int, default=100)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    paths = make_workbooks(args.dir, args.n)
    best = run(paths, args.block, args.repeat)
    floor = best["bare calamine"]
    print(f"{len(paths)} 个工作簿，单进程，每块取 {args.repeat} 次中最快的一次")
    for name, seconds in best.items():
        print(f"{name:46s} {seconds:7.3f} s  {seconds / len(paths) * 1e6:7.0f} µs/个  {seconds / floor:5.2f}×")


if __name__ == "__main__":
    main()
