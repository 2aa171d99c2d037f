"""Planted slips and a brute-force oracle for error localisation (tests and scripts/localise_report.py).

A *case* is a consistent report with one slip planted in it, in one of two situations:

* ``import`` — every total is typed (a published report): any cell may carry the slip, and
  every cell is free to be wrong;
* ``workbook`` — our template: totals are formulas, the slip is in an input and the totals
  follow it.

The oracle knows nothing of the localiser's linear algebra: it tries every single-cell change
the failing checks' differences suggest and asks the rule engine whether every relation holds.
The typical-slip test here *generates* the slips of the true value (the localiser *recognises*
them), so the two are written independently.
"""

from __future__ import annotations

import random
from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace

from xls_gongkai.numbers import Value
from xls_gongkai.report import Report, Unit
from xls_gongkai.rules import engine
from xls_gongkai.sample import balanced
from xls_gongkai.spec import CellKey, CellKind, Format, RuleKind

IMPORT, WORKBOOK = "import", "workbook"
KINDS = ("random", "swapped", "dropped", "doubled", "extra", "counted-twice", "left-out", "neighbour")


@dataclass(frozen=True)
class Case:
    report: Report  # values with their totals, the slip planted
    typed: frozenset[CellKey]  # the cells whose values are typed (free to be wrong)
    planted: Mapping[CellKey, Value]  # the planted cells and their true values
    kind: str
    situation: str


def related(fmt: Format) -> list[CellKey]:
    """The cells some relation rule reads (a slip elsewhere breaks nothing)."""
    eng = engine(fmt)
    seen: dict[CellKey, None] = {}
    for check in eng.checks:
        if check.rule.kind is RuleKind.EQUATION:
            seen.update(dict.fromkeys(check.cells))
    return list(seen)


def random_consistent(fmt: Format, rnd: random.Random, year: int) -> Report:
    """A consistent report with numbers of every size (zeros, units, tens, hundreds)."""
    values: dict[CellKey, Value] = {}
    for key in engine(fmt).inputs:
        if fmt.table(key[0]).cell_kind(key[1], key[2]) is CellKind.COUNT:
            values[key] = rnd.choice([0, 0, rnd.randint(1, 9), rnd.randint(10, 99), rnd.randint(100, 2000)])
    return Report(Unit("330100001", "城关镇"), year, fmt, balanced(fmt, values))


def slips_of(value: int) -> dict[str, set[int]]:
    """What a clerk may type for ``value``: two neighbouring digits swapped, a digit dropped, a
    digit doubled, one digit too many (no leading zeros; a dropped digit leaves at least two: a one-digit figure
    fits too many values to tell a slip)."""
    s = str(value)
    out: dict[str, set[int]] = {"swapped": set(), "dropped": set(), "doubled": set(), "extra": set()}
    for i in range(len(s) - 1):
        t = s[:i] + s[i + 1] + s[i] + s[i + 2 :]
        if t != s and t[0] != "0":
            out["swapped"].add(int(t))
    for i in range(len(s)):
        t = s[:i] + s[i + 1 :]
        if len(t) >= 2 and t[0] != "0":
            out["dropped"].add(int(t))
        out["doubled"].add(int(s[:i] + s[i] + s[i:]))
    for i in range(len(s) + 1):
        for d in "0123456789":
            t = s[:i] + d + s[i:]
            if t[0] != "0" and int(t) not in out["doubled"]:
                out["extra"].add(int(t))
    return out


def typical(found: Value, value: Value, parts: Collection[Value] = ()) -> bool:
    """Whether typing ``found`` for ``value`` is a typical slip (a total: off by one nonzero part)."""
    if isinstance(found, int) and isinstance(value, int) and min(found, value) > 0:
        return any(found in s for s in slips_of(value).values()) or _off_by_part(found, value, parts)
    return _off_by_part(found, value, parts)


def _off_by_part(found: Value, value: Value, parts: Collection[Value]) -> bool:
    return any(p and found in (value + p, value - p) for p in parts)


def parts_of(report: Report, key: CellKey) -> list[Value]:
    """The current values of the parts a computed total adds up (empty for an input)."""
    eng = engine(report.format)
    out: list[Value] = []
    for check in eng.checks:
        if check.rule.computes and check.lhs[0].key == key:
            out += [report.values.get(k, 0) for k in check.leaf_keys(check.rhs)]
    return out


def _neighbours(fmt: Format, key: CellKey) -> list[CellKey]:
    table = fmt.table(key[0])
    rows = [n.id for n in table.leaf_rows]
    cols = [n.id for n in table.leaf_columns]
    r, c = rows.index(key[1]), cols.index(key[2])
    near = [(r, c - 1), (r, c + 1), (r - 1, c), (r + 1, c)]
    return [(key[0], rows[i], cols[j]) for i, j in near if 0 <= i < len(rows) and 0 <= j < len(cols)]


def _digit_slip(kind: str, value: int, rnd: random.Random) -> int | None:
    options = sorted(slips_of(value)[kind]) if value > 0 else []
    return rnd.choice(options) if options else None


def plant(report: Report, situation: str, kind: str, rnd: random.Random) -> Case | None:
    """One slip of ``kind`` in a random cell that can carry it; None when no cell can."""
    fmt = report.format
    eng = engine(fmt)
    values = dict(report.values)
    inputs = set(eng.inputs)
    cells = [k for k in related(fmt) if situation == IMPORT or k in inputs]
    rnd.shuffle(cells)
    planted: dict[CellKey, Value] = {}
    for key in cells:
        found = values.get(key, 0)
        if not isinstance(found, int):
            continue
        new: int | None = None
        if kind == "random":
            new = rnd.randint(0, found + 50)
        elif kind in ("swapped", "dropped", "doubled", "extra"):
            new = _digit_slip(kind, found, rnd)
        elif kind in ("counted-twice", "left-out") and situation == IMPORT and key in eng.computed:
            parts = [p for p in parts_of(report, key) if isinstance(p, int) and p]
            if parts:
                p = rnd.choice(parts)
                new = found + p if kind == "counted-twice" else found - p
        elif kind == "neighbour" and key in inputs and found > 0:
            empty = [n for n in _neighbours(fmt, key) if n in inputs and not values.get(n)]
            if empty:
                other = rnd.choice(empty)
                planted = {key: found, other: values.get(other, 0)}
                values[key], values[other] = 0, found
                break
        if new is not None and new != found and new >= 0:
            planted = {key: found}
            values[key] = new
            break
    if not planted:
        return None
    typed = frozenset(values) if situation == IMPORT else frozenset()
    full = values if situation == IMPORT else eng.with_totals(values)
    return Case(replace(report, values=full), typed, planted, kind, situation)


def failing(report: Report) -> list[object]:
    eng = engine(report.format)
    return [
        o
        for o in (eng.evaluate(c, report.values) for c in eng.checks if c.rule.kind is RuleKind.EQUATION)
        if not o.passed
    ]


def single_fixes(case: Case) -> list[tuple[CellKey, Value]]:
    """Every (cell, value) that alone makes every relation hold, by brute force through the engine.

    A cell can only help if a failing check reads it or a total it feeds; its change is then
    plus or minus one failing check's difference (every coefficient of the official formats is
    ±1); the value must keep R5 (a whole number, not negative)."""
    report = case.report
    eng = engine(report.format)
    bad = failing(report)
    read = {k for o in bad for k in o.check.cells}  # type: ignore[attr-defined]
    deltas = {d for o in bad for d in (o.diff, -o.diff)}  # type: ignore[attr-defined]
    free = set(eng.inputs) | (set(case.typed) & set(eng.computed))
    out: list[tuple[CellKey, Value]] = []
    for key in sorted(free, key=report.format.key_order):
        if not eng.depending([key], keep=case.typed) & read:
            continue
        found = report.values.get(key, 0)
        for d in deltas:
            new = found + d
            if new < 0:
                continue
            values = {**report.values, key: new}
            full = eng.with_totals(values, keep=[k for k in case.typed if k in values])
            if all(eng.evaluate(c, full).passed for c in eng.checks if c.rule.kind is RuleKind.EQUATION):
                out.append((key, new))
    return out
