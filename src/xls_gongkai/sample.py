"""Complete and invent reports: computed totals, balanced equations, sample data.

Used to write the cached results of formula cells (a total's value is computed here, never
left at 0), by the demo to fill sample workbooks, and by the tests to make consistent data for
any format — all derived from the format's rules, not from knowledge of a table's shape.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import replace
from decimal import Decimal

from xls_gongkai.report import CellKey, Report, Unit, Value
from xls_gongkai.rules import Check, computed_cells, expand, side_value
from xls_gongkai.spec import CellKind, Format, RuleKind


def with_totals(fmt: Format, values: Mapping[CellKey, Value]) -> dict[CellKey, Value]:
    """``values`` with every computed total set to the sum its rule defines."""
    computed = computed_cells(fmt)
    out = {k: v for k, v in values.items() if k not in computed}
    memo: dict[CellKey, Value] = {}

    def leaf(key: CellKey) -> Value:
        if key in computed:
            if key not in memo:
                memo[key] = side(computed[key])
            return memo[key]
        return out.get(key, 0)

    def side(check: Check) -> Value:
        total: Value = 0
        for sign, _prev, t, r, c in check.rhs:
            table = fmt.table(t)
            for rn in table.row_nodes[r].leaves():
                for cn in table.column_nodes[c].leaves():
                    total += sign * leaf((t, rn.id, cn.id))
        return total

    for key in computed:
        out[key] = leaf(key)
    return out


def balanced(fmt: Format, values: Mapping[CellKey, Value]) -> dict[CellKey, Value]:
    """``values`` adjusted so that every rule of the year holds (totals computed, R1 balanced).

    For each equation that is not a computed total, the difference is added to the first
    input cell on the smaller side, so every value stays non-negative.
    """
    computed = computed_cells(fmt)
    out = with_totals(fmt, values)
    for check in expand(fmt):
        if check.rule.kind is not RuleKind.EQUATION or check.rule.computes:
            continue
        report = Report(Unit("", ""), fmt.year_from, fmt.id, out)
        lhs = side_value(report, check.lhs)
        rhs = side_value(report, check.rhs)
        if lhs == rhs:
            continue
        side = check.lhs if lhs < rhs else check.rhs
        target = next(key for key in check.leaf_keys(tuple(c for c in side if c[0] > 0)) if key not in computed)
        gap: Value = lhs - rhs if lhs > rhs else rhs - lhs
        out[target] = out.get(target, 0) + gap
        out = with_totals(fmt, out)
    return out


def random_values(fmt: Format, rnd: random.Random, scale: int = 50) -> dict[CellKey, Value]:
    """Plausible random input values for every input cell of a format (not yet balanced)."""
    computed = computed_cells(fmt)
    values: dict[CellKey, Value] = {}
    for t, r, c in fmt.cells():
        if (t, r, c) in computed:
            continue
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
    return Report(unit, year, fmt.id, balanced(fmt, random_values(fmt, rnd)), dict(texts or {}))


def broken(report: Report, key: CellKey, delta: int = 1) -> Report:
    """The report with one value changed by ``delta`` (for examples of failing checks)."""
    values = dict(report.values)
    values[key] = values.get(key, 0) + delta
    return replace(report, values=values)
