"""Invent reports: balanced, plausible sample data for the demo, the benchmarks and the tests.

All of it is derived from the format's rules through the rule engine (totals computed by
:meth:`~xls_gongkai.rules.Engine.with_totals`, R1 balanced by adjusting an input), not from
knowledge of a table's shape.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import replace
from decimal import Decimal

from xls_gongkai.numbers import Value
from xls_gongkai.report import Report, Unit
from xls_gongkai.rules import engine
from xls_gongkai.spec import CellKey, CellKind, Format, RuleKind


def balanced(fmt: Format, values: Mapping[CellKey, Value]) -> dict[CellKey, Value]:
    """``values`` adjusted so that every rule of the year holds (totals computed, R1 balanced).

    For each equation that is not a computed total, the difference is added to the first
    input cell on the smaller side, so every value stays non-negative.
    """
    eng = engine(fmt)
    out = eng.with_totals(values)
    for check in eng.checks:
        if check.rule.kind is not RuleKind.EQUATION or check.rule.computes:
            continue
        lhs = eng.side(out, check.lhs)
        rhs = eng.side(out, check.rhs)
        if lhs == rhs:
            continue
        side = check.lhs if lhs < rhs else check.rhs
        target = next(key for key in check.leaf_keys(t for t in side if t.sign > 0) if key not in eng.computed)
        gap: Value = lhs - rhs if lhs > rhs else rhs - lhs
        out[target] = out.get(target, 0) + gap
        out = eng.with_totals(out)
    return out


def random_values(fmt: Format, rnd: random.Random, scale: int = 50) -> dict[CellKey, Value]:
    """Plausible random input values for every input cell of a format (not yet balanced)."""
    values: dict[CellKey, Value] = {}
    for t, r, c in engine(fmt).inputs:
        kind = fmt.table(t).cell_kind(r, c)
        # Most applications come from natural persons; most outcome rows are small or zero.
        if kind is CellKind.COUNT:
            values[(t, r, c)] = rnd.choice([0, 0, 0, rnd.randint(0, scale), rnd.randint(0, scale // 5 + 1)])
        elif kind is CellKind.SIGNED:
            values[(t, r, c)] = rnd.randint(-scale // 5, scale // 5)
        elif kind is CellKind.AMOUNT:
            places = fmt.table(t).decimals(r, c)
            values[(t, r, c)] = Decimal(rnd.randint(0, scale * 10**places)).scaleb(-places)
    return values


def random_report(
    fmt: Format, unit: Unit, year: int, rnd: random.Random, texts: Mapping[str, str] | None = None
) -> Report:
    """A consistent random report — every rule of the year holds."""
    return Report(unit, year, fmt, balanced(fmt, random_values(fmt, rnd)), dict(texts or {}))


def broken(report: Report, key: CellKey, delta: int = 1) -> Report:
    """The report with one value changed by ``delta`` (for examples of failing checks)."""
    values = dict(report.values)
    values[key] = values.get(key, 0) + delta
    return replace(report, values=values)
