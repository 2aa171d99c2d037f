"""Benchmark: which cell is probably wrong (``rules.localise``), time per report.

N random consistent reports per format (default 300; the 2019 format via 2020, the 2021 format
via 2024), each in two situations and two states:

* **workbook** — our template: totals are formulas, only inputs may be wrong;
* **printed** — a published report or hand-made table: every total typed, so totals may be wrong;
* **ok** — every relation holds; **slip** — one input or total changed by a random amount (the
  reports the localiser is for).

For each, side by side on the same reports (in alternating blocks, so that a busy shared machine
slows both alike):

* **baseline** — ``Engine.issues``: the relation and cell rules' verdict, what ``check_report``
  did before localisation;
* **localise** — ``localisation_issues`` alone (the search and its notice);
* **check_report** — everything, localisation included.

Printed: median and p95 per report in milliseconds and the ratio of ``check_report`` to the
baseline; and the one-off cost of building a format's equations (cached per format object).

Run::

    .venv/bin/python bench/bench_localise.py
    .venv/bin/python bench/bench_localise.py --n 100
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable, Collection
from dataclasses import replace

from xls_gongkai.report import CellKey, Report, Unit
from xls_gongkai.rules import check_report, engine, localisation_issues
from xls_gongkai.rules.localise import _system
from xls_gongkai.sample import random_report
from xls_gongkai.spec import RuleKind, get_format
from xls_gongkai.workbook.layout import layout_for

BLOCK = 20
TEXTS = {"s1": "总体情况。", "s5": "问题。", "s6": "本年度未收取信息处理费。"}

Case = tuple[Report, Collection[CellKey]]


def _slipped(report: Report, printed: bool, rnd: random.Random) -> Report:
    """One relation cell off by a random amount (an input in a workbook, any cell when printed)."""
    eng = engine(report.format)
    cells = sorted({k for c in eng.checks if c.rule.kind is RuleKind.EQUATION for k in c.cells})
    cells = [k for k in cells if printed or k not in eng.computed]
    key = rnd.choice(cells)
    values = dict(report.values)
    values[key] = int(values.get(key, 0)) + rnd.choice([-3, -1, 1, 2, 9, 40, 500])
    if values[key] < 0:
        values[key] = 0
    return replace(report, values=values if printed else eng.with_totals(values))


def cases(year: int, n: int, printed: bool, slip: bool) -> list[Case]:
    fmt = get_format(year)
    rnd = random.Random(year * 10 + printed * 2 + slip)
    out: list[Case] = []
    for i in range(n):
        report = random_report(fmt, Unit(f"{i:04d}", f"第{i}镇"), year, rnd, TEXTS)
        if slip:
            report = _slipped(report, printed, rnd)
        out.append((report, frozenset(report.values) if printed else ()))
    return out


def _contenders(year: int) -> dict[str, Callable[[Case], object]]:
    fmt = get_format(year)
    eng, lay = engine(fmt), layout_for(fmt)
    return {
        "baseline": lambda c: eng.issues(c[0], locate=lay.locate),
        "localise": lambda c: localisation_issues(c[0], lay.locate, c[1]),
        "check_report": lambda c: check_report(c[0], None, lay.locate, lay.locate_text, typed=c[1]),
    }


def timings(year: int, batch: list[Case]) -> dict[str, list[float]]:
    """Per report, in ms, each contender on the same reports, in alternating blocks."""
    contenders = _contenders(year)
    for f in contenders.values():  # warm: the format's engine, layout and equations
        f(batch[0])
    out: dict[str, list[float]] = {name: [] for name in contenders}
    for start in range(0, len(batch), BLOCK):
        block = batch[start : start + BLOCK]
        for name, f in contenders.items():
            for case in block:
                t = time.perf_counter()
                f(case)
                out[name].append((time.perf_counter() - t) * 1000)
    return out


def p95(xs: list[float]) -> float:
    return sorted(xs)[max(0, round(0.95 * len(xs)) - 1)]


def build_cost(year: int, typed: bool) -> float:
    """Building a format's equations once (ms): what the first report of a format pays."""
    fmt = get_format(year)
    eng = engine(fmt)
    free = frozenset(eng.computed) if typed else frozenset()
    _system.cache_clear()
    t = time.perf_counter()
    _system(eng, free, frozenset())
    return (time.perf_counter() - t) * 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=300, help="每种格式、每种情形的报告数")
    args = ap.parse_args()
    print(f"每种格式、每种情形 {args.n} 份报告；单位：毫秒/份（中位数 / p95）")
    head = f"{'格式':<8}{'情形':<10}{'数据':<6}{'有定位':>7}"
    head += "".join(f"{name:>22}" for name in ("baseline", "localise", "check_report")) + f"{'check÷base':>12}"
    print(head)
    for year in (2020, 2024):
        for printed in (False, True):
            for slip in (False, True):
                batch = cases(year, args.n, printed, slip)
                t = timings(year, batch)
                located = sum(1 for c in batch if localisation_issues(c[0], None, c[1]))
                row = f"{get_format(year).id[-4:]:<8}{'printed' if printed else 'workbook':<10}"
                row += f"{'slip' if slip else 'ok':<6}{located:>7}"
                row += "".join(
                    f"{statistics.median(t[k]):>12.3f} / {p95(t[k]):>7.3f}"
                    for k in ("baseline", "localise", "check_report")
                )
                ratio = statistics.median(t["check_report"]) / statistics.median(t["baseline"])
                print(row + f"{ratio:>12.2f}")
    for year in (2020, 2024):
        for typed in (False, True):
            print(
                f"{get_format(year).id}：建立方程组（每个格式对象一次，{'合计为数据' if typed else '合计为公式'}）"
                f" {build_cost(year, typed):.2f} ms"
            )


if __name__ == "__main__":
    main()
