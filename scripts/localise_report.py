"""How often localisation names the planted cell: the figure behind issue 14's "≥ 95 %".

Plants one random slip (``tests/slips.py``: a random change, two digits swapped, a digit dropped
or doubled, a total that counted a part twice or left it out, a number in the neighbour's cell)
into a random consistent report — typed totals (``import``) or totals as formulas (``workbook``),
both formats — and compares :func:`xls_gongkai.rules.localise` with a brute-force oracle that
asks the rule engine about every single-cell change.

Per situation and kind it prints: cases, cases with a failing rule, cases the oracle finds
*uniquely identifiable* (exactly one cell and value makes every rule hold) and how many of those
the localiser names (the target: ≥ 95 %); ambiguous cases (two or more cells alike) and how many
are still named by a typical slip — each checked to be the *only* typical one among the oracle's
(never a guess between equals); pairs (a number in the neighbour's cell) named; and wrong names.

Usage::

    .venv/bin/python scripts/localise_report.py              # 2,000 cases
    .venv/bin/python scripts/localise_report.py --n 200 --seed 7
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.slips import IMPORT, KINDS, WORKBOOK, Case, parts_of, plant, random_consistent, single_fixes, typical

from xls_gongkai.rules import localise
from xls_gongkai.spec import get_format

YEARS = (2020, 2024)  # the 2019 format and the 2021 format


def judge(case: Case) -> list[str]:
    """What happened in one case, as counters to bump."""
    loc = localise(case.report, case.typed)
    if loc is None:
        return ["undetected"]
    out = ["detected"]
    named = {f.key: f.value for f in loc.probable.fixes} if loc.probable else {}
    truth = dict(case.planted)
    if len(truth) == 2:
        out.append("pair")
        if named == truth:
            out.append("pair named")
        elif named:
            out.append("WRONG")
        return out
    fixes = single_fixes(case)
    if len(fixes) == 1:
        out.append("unique")
        out.append("unique named" if named == truth else "unique MISSED")
        return out
    if len(fixes) >= 2:
        out.append("ambiguous")
        if named:
            out.append("ambiguous named")
            (key, _value), *_ = named.items()
            # Named among equals? Only the named one may look like a typical slip.
            others = [(k, v) for k, v in fixes if k != key]
            if any(typical(case.report.values.get(k, 0), v, parts_of(case.report, k)) for k, v in others):
                out.append("NAMED AMONG EQUALS")
            out.append("ambiguous named correctly" if named == truth else "ambiguous named wrongly")
        return out
    out.append("no single cell")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=20250214)
    args = ap.parse_args()
    rnd = random.Random(args.seed)
    tally: dict[tuple[str, str], Counter[str]] = {}
    start = time.perf_counter()
    done = 0
    while done < args.n:
        year = rnd.choice(YEARS)
        situation = rnd.choice((IMPORT, WORKBOOK))
        kind = rnd.choice(KINDS)
        case = plant(random_consistent(get_format(year), rnd, year), situation, kind, rnd)
        if case is None:
            continue
        done += 1
        tally.setdefault((situation, kind), Counter()).update(["cases", *judge(case)])
    took = time.perf_counter() - start
    cols = (
        "cases",
        "detected",
        "unique",
        "unique named",
        "ambiguous",
        "ambiguous named correctly",
        "ambiguous named wrongly",
        "pair",
        "pair named",
        "no single cell",
    )
    print(
        f"{'situation/kind':<26}"
        + "".join(
            f"{c:>12}"
            for c in ("cases", "detected", "uniq", "uniq✓", "ambig", "ambig✓", "ambig✗", "pair", "pair✓", "none")
        )
    )
    total: Counter[str] = Counter()
    for (situation, kind), c in sorted(tally.items()):
        total.update(c)
        print(f"{situation + '/' + kind:<26}" + "".join(f"{c[k]:>12}" for k in cols))
    print(f"{'total':<26}" + "".join(f"{total[k]:>12}" for k in cols))
    unique = total["unique"]
    rate = total["unique named"] / unique if unique else 1.0
    print(f"\n唯一可辨的 {unique} 例中指出了植入的单元格 {total['unique named']} 例：{rate:.1%}（目标 ≥ 95%）")
    print(
        f"几处都能解释的 {total['ambiguous']} 例中，凭典型笔误指出植入的单元格 {total['ambiguous named correctly']} 例，"
        f"指错 {total['ambiguous named wrongly']} 例（植入的是随机改动，另一格恰好像笔误）"
    )
    print(f"填到相邻格（两处）{total['pair']} 例中指出 {total['pair named']} 例")
    bad = {k: total[k] for k in ("WRONG", "NAMED AMONG EQUALS", "unique MISSED") if total[k]}
    print(f"错误指认：{bad or '无'}；{args.n} 例用时 {took:.1f} s")


if __name__ == "__main__":
    main()
