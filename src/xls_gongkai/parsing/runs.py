"""Runs of digits read as a table's cells, by the format's relations.

Some sites publish the report as one line of text, and a row's numbers run together:
"801000081" is 80|1|0|0|0|0|81. :func:`split_table` finds every way to read each row's run as
one number per column — a count is a whole number without leading zeros (a "0" is one digit), a
minus sign may start only a signed cell, an amount may have decimals and end in 元 or 万元 —
that satisfies the format's relations: first each row's own (a total equals the sum of its
parts: R2, R4), then, across the rows of the table, the column relations (R1, R3) and the
numbers the text restates (R9), all evaluated by the one rule engine. A row that more than one
reading fits stays *ambiguous* with its candidates; nothing is guessed.

The search is bounded, and prunes as it goes:

* a count has at most nine digits (no cell may exceed :data:`~xls_gongkai.spec.VALUE_LIMIT`);
* when the totals stand last (R2, R4) the run is read from its end, so a total is read first
  and bounds each of its parts; the last part is not searched for but must equal what is left;
* a branch ends when the characters left cannot fill the cells left, or when the parts still
  to read cannot make up what is left of their total: not less than the digits they must take
  allow, not more than the digits they can take allow, and, when they are all that is left of
  the run, with a digit sum congruent to it modulo 9 (casting out nines), however it is split;
* each row gives up after :data:`ROW_STEPS` steps or :data:`READINGS` readings, each table
  after :data:`TABLE_STEPS` combinations of its ambiguous rows; a row given up on is reported,
  never guessed. Recursion goes one level per column, or per ambiguous row.

How long it takes: bench/bench_digits.py.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache

from xls_gongkai.numbers import Value
from xls_gongkai.parsing.values import parse_cell
from xls_gongkai.rules import Check, Engine, Restated, same
from xls_gongkai.spec import CellKey, CellKind, Each, RuleKind, Table

__all__ = ["READINGS", "ROW_STEPS", "TABLE_STEPS", "Reading", "RowRun", "TableRuns", "Why", "read_row", "split_table"]

#: Readings of one row kept at most (a row of 表二, with no relation, of a long run has many).
READINGS = 500
#: Pieces one row's search may look at before it gives up (what rows take: bench/bench_digits.py).
ROW_STEPS = 60_000
#: Readings of a table's ambiguous rows tried, in all, before giving up on telling them apart.
TABLE_STEPS = 50_000
#: Digits of a count: VALUE_LIMIT has nine.
_COUNT_DIGITS = 9
#: An amount in 元 has four more digits than in 万元; six decimals are more than any report prints.
_AMOUNT_DIGITS, _DECIMALS = 13, 6


class Why(StrEnum):
    """Why a row's run was not read."""

    NONE = "none"  # no reading satisfies the row's relations
    MANY = "many"  # too many readings to search


@dataclass(frozen=True)
class Reading:
    """One way to read a run: the cell texts as printed, and the values they stand for."""

    texts: tuple[str, ...]
    values: tuple[Value, ...]

    @property
    def text(self) -> str:
        """The reading as a clerk would write it: ``80|1|0|0|0|0|81``."""
        return "|".join(self.texts)


@dataclass(frozen=True)
class RowRun:
    """The readings of one row's run that its own relations allow (``why`` when none is kept)."""

    run: str
    readings: tuple[Reading, ...]
    why: Why | None = None


@dataclass(frozen=True)
class TableRuns:
    """What one table's runs are: rows read, rows with several candidates, rows not read."""

    table: Table
    decided: Mapping[str, Reading] = field(default_factory=dict)
    ambiguous: Mapping[str, tuple[Reading, ...]] = field(default_factory=dict)
    failed: Mapping[str, Why] = field(default_factory=dict)
    #: whether relations across rows took part (False: none applies, or they cannot all hold)
    by_columns: bool = False
    #: whether the search across rows was given up (too many combinations)
    gave_up: bool = False


# --------------------------------------------------------------------------- one cell

#: What one cell of a kind may look like in a run (no leading zeros; "-0" is no number).
_SHAPES = {
    CellKind.COUNT: re.compile(rf"0|[1-9]\d{{0,{_COUNT_DIGITS - 1}}}"),
    CellKind.SIGNED: re.compile(rf"0|-?[1-9]\d{{0,{_COUNT_DIGITS - 1}}}"),
    CellKind.AMOUNT: re.compile(rf"(?:0|[1-9]\d{{0,{_AMOUNT_DIGITS - 1}}})(?:\.\d{{1,{_DECIMALS}}})?(?:万元|元)?"),
}
_LONGEST = {CellKind.COUNT: _COUNT_DIGITS, CellKind.SIGNED: _COUNT_DIGITS + 1, CellKind.AMOUNT: _AMOUNT_DIGITS + 9}

Piece = tuple[int, str, Value]  # (where the next cell begins or ends, text, value)


class _Lexer:
    """The cells of each kind that can start (or end) at each place of a run, worked out once."""

    def __init__(self, run: str, backwards: bool) -> None:
        self.run, self.backwards = run, backwards
        self.memo: dict[tuple[int, CellKind, str], list[Piece]] = {}

    def pieces(self, pos: int, kind: CellKind, unit: str) -> list[Piece]:
        key = (pos, kind, unit)
        got = self.memo.get(key)
        if got is None:
            got = self.memo[key] = self._pieces(pos, kind, unit)
        return got

    def _pieces(self, pos: int, kind: CellKind, unit: str) -> list[Piece]:
        shape = _SHAPES.get(kind)
        if shape is None:
            return []
        run, out = self.run, []
        for n in range(1, _LONGEST[kind] + 1):
            start, end = (pos - n, pos) if self.backwards else (pos, pos + n)
            if start < 0 or end > len(run):
                break
            text = run[start:end]
            if shape.fullmatch(text):
                value = int(text) if kind is not CellKind.AMOUNT else parse_cell(text, kind, unit).value
                if value is not None:
                    out.append((start if self.backwards else end, text, value))
        return out


# --------------------------------------------------------------------------- one row

Equation = tuple[tuple[int, int], ...]  # (coefficient, column index): the sum is 0


def _backwards(equations: Sequence[Equation]) -> bool:
    """Whether to read the run from its end: when the totals stand last (R2, R4), reading them
    first bounds every part by what is left of its total."""
    last = first = 0
    for eq in equations:
        alone = [c for k, c in eq if sum(1 for k2, _c in eq if (k2 > 0) == (k > 0)) == 1]
        last += bool(alone) and max(alone) == max(c for _k, c in eq)
        first += bool(alone) and min(alone) == min(c for _k, c in eq)
    return last > first


@dataclass(frozen=True)
class _Open:
    """An equation still open after a step: its terms read so far and those still to read.

    When every term still to read is a count with the same coefficient (±1), ``sign`` is that
    coefficient; ``others`` is how many characters the other cells still to read can hold at
    most and ``cells`` how many there are: between them, these counts hold the rest, and their
    sum is bounded by the digits they must and can take. When they are all the cells still to
    read (``cells`` is 0) they hold exactly the characters left, whose digits are known: their
    sum is congruent to those digits' sum modulo 9 (casting out nines), however they are split.
    """

    done: tuple[tuple[int, int], ...]
    rest: tuple[tuple[int, int, bool], ...]
    sign: int = 0
    others: int = 0
    cells: int = 0


def _open_part(
    eq: Equation, step: int, order: Sequence[int], kinds: Sequence[tuple[CellKind, str]], longest: Sequence[int]
) -> _Open:
    place = {c: i for i, c in enumerate(order)}
    done = tuple((k, c) for k, c in eq if place[c] <= step)
    rest = tuple((k, c, kinds[c][0] is CellKind.SIGNED) for k, c in eq if place[c] > step)
    signs = {k for k, _c, _s in rest}
    # An amount can take any number of characters and stay 0 ("0.000"): no bound from its digits.
    if len(signs) != 1 or abs(next(iter(signs))) != 1 or any(kinds[c][0] is not CellKind.COUNT for _k, c, _s in rest):
        return _Open(done, rest)
    mine = {c for _k, c, _s in rest}
    others = [c for c in order[step + 1 :] if c not in mine]
    return _Open(done, rest, next(iter(signs)), sum(longest[c] for c in others), len(others))


@cache
def _least(cells: int, chars: int) -> int:
    """The smallest sum of ``cells`` counts printed in ``chars`` characters (no leading zeros):
    the digits spread evenly, each d-digit count at least 10^(d-1)."""
    if chars <= cells:
        return 0
    q, extra = divmod(chars, cells)
    return (cells - extra) * _smallest(q) + extra * _smallest(q + 1)


@cache
def _most(cells: int, chars: int) -> int:
    """The largest sum of ``cells`` counts printed in at most ``chars`` characters: the spare
    digits heaped on as few counts as they fit in."""
    spare, out = chars - cells, 0
    for _ in range(cells):
        take = max(0, min(spare, _COUNT_DIGITS - 1))
        out += 10 ** (take + 1) - 1
        spare -= take
    return out


def _smallest(digits: int) -> int:
    return 10 ** (digits - 1) if digits >= 2 else 0


class _RowSearch:
    """Depth-first over the columns of one row (one level per column), from the end of the run
    when the totals stand last.

    A column that closes an equation (the last of it to be read) must make it hold; before that,
    an equation still open must be able to hold with the characters left: a part larger than
    what is left of its total ends the branch.
    """

    def __init__(self, run: str, kinds: Sequence[tuple[CellKind, str]], equations: Sequence[Equation]) -> None:
        self.run, self.kinds = run, kinds
        n = len(kinds)
        backwards = _backwards(equations)
        self.lexer = _Lexer(run, backwards)
        self.order = list(range(n - 1, -1, -1) if backwards else range(n))
        place = {c: i for i, c in enumerate(self.order)}
        self.closing: list[list[Equation]] = [[] for _ in range(n)]
        #: per step, the equations still open after it: (terms set so far, terms still to set)
        self.open: list[list[_Open]] = [[] for _ in range(n)]
        longest = [_LONGEST.get(k, 0) for k, _u in kinds]
        for eq in equations:
            steps = sorted(place[c] for _k, c in eq)
            self.closing[steps[-1]].append(eq)
            for step in range(steps[0], steps[-1]):
                self.open[step].append(_open_part(eq, step, self.order, kinds, longest))
        self.most = [min(x, _AMOUNT_DIGITS) for x in longest]
        self.room = [sum(longest[c] for c in self.order[i:]) for i in range(n + 1)]
        self.values: list[Value] = [0] * n
        self.texts: list[str] = [""] * n
        self.sums = [0]
        for ch in run:
            self.sums.append(self.sums[-1] + (int(ch) if ch.isdigit() else 0))
        self.found: list[Reading] = []
        self.steps = 0
        self.stopped = False

    def _digit_sum(self, left: int) -> int:
        """The sum of the digits of the ``left`` characters still to read."""
        sums = self.sums
        return sums[left] if self.lexer.backwards else sums[-1] - sums[len(self.run) - left]

    def _holds(self, step: int) -> bool:
        """Whether the equations this step closes hold (the last part read makes the sum)."""
        values = self.values
        for eq in self.closing[step]:
            total = sum((k * values[c] for k, c in eq), start=0)
            if total if type(total) is int else not same(total, 0):
                return False
        return True

    def _may_hold(self, step: int, left: int) -> bool:
        """Whether the equations still open can hold with ``left`` characters for the steps after:
        the cells still to read can be neither larger than the characters allow nor smaller than
        the characters they must take (a short total cannot take many digits of parts)."""
        values = self.values
        for part in self.open[step]:
            partial = sum([k * values[c] for k, c in part.done])
            if part.sign:
                n = len(part.rest)
                rest = -part.sign * partial
                if rest < _least(n, left - part.others) or rest > _most(n, left - part.cells):
                    return False
                if not part.cells and (rest - self._digit_sum(left)) % 9:
                    return False
                continue
            digits = left - (len(self.order) - step - 2)  # the most one cell can take
            lo = hi = partial
            for k, c, signed in part.rest:
                top = 10 ** min(digits, self.most[c])
                if k > 0:
                    hi += k * top
                    lo -= k * top if signed else 0
                else:
                    lo += k * top
                    hi -= k * top if signed else 0
            if lo > 0 or hi < 0:
                return False
        return True

    def walk(self, step: int, pos: int) -> None:
        if step == len(self.order):
            if pos == (0 if self.lexer.backwards else len(self.run)):
                self.found.append(Reading(tuple(self.texts), tuple(self.values)))
                self.stopped = len(self.found) > READINGS
            return
        col = self.order[step]
        kind, unit = self.kinds[col]
        # The characters this cell may take: enough left for the cells after it, no more than they hold.
        have = pos if self.lexer.backwards else len(self.run) - pos
        shortest, longest = have - self.room[step + 1], have - (len(self.order) - step - 1)
        for nxt, text, value in self.lexer.pieces(pos, kind, unit):
            if len(text) < shortest:
                continue
            if len(text) > longest:
                break
            self.steps += 1
            if self.steps > ROW_STEPS:
                self.stopped = True
            if self.stopped:
                return
            self.values[col], self.texts[col] = value, text
            if self._holds(step) and self._may_hold(step, have - len(text)):
                self.walk(step + 1, nxt)


def read_row(run: str, kinds: Sequence[tuple[CellKind, str]], equations: Sequence[Equation] = ()) -> RowRun:
    """Every reading of ``run`` as one cell per column of ``kinds`` ((kind, unit) each) that
    satisfies ``equations`` (each a sum of coefficient × column that must be 0).

    >>> r = read_row("801000081", [(CellKind.COUNT, "")] * 7, [((-1, 6), *((1, c) for c in range(6)))])
    >>> [x.text for x in r.readings]
    ['80|1|0|0|0|0|81']
    """
    if not kinds or any(k not in _SHAPES for k, _u in kinds):
        return RowRun(run, (), Why.NONE)
    search = _RowSearch(run, kinds, equations)
    search.walk(0, len(run) if search.lexer.backwards else 0)
    if search.stopped:
        return RowRun(run, (), Why.MANY)
    return RowRun(run, tuple(search.found), None if search.found else Why.NONE)


# --------------------------------------------------------------------------- one table


@cache
def _row_equations(eng: Engine, table: Table, leaf: str) -> tuple[Equation, ...]:
    """The format's equations that hold within one row of ``table`` (R2, R4), as column indices."""
    index = {c.id: i for i, c in enumerate(table.leaf_columns)}
    out: list[Equation] = []
    for check in eng.checks:
        if check.table is not table or check.rule.kind is not RuleKind.EQUATION or check.index != leaf:
            continue
        if check.rule.each is not Each.ROW or check.flat is None:
            continue
        lhs, rhs = check.flat
        terms = [(s, index[k[2]]) for s, k in lhs] + [(-s, index[k[2]]) for s, k in rhs]
        out.append(tuple(terms))
    return tuple(out)


@dataclass(frozen=True, eq=False)
class _Constraint:
    """A relation across a table's rows: a column check of the engine, or a number the text
    restates (R9). ``rows`` are the rows it names (groups stand for their sub-rows)."""

    rows: frozenset[str]
    check: Check | None = None
    fact: Restated | None = None

    def holds(self, eng: Engine, values: Mapping[CellKey, Value]) -> bool:
        if self.check is not None:
            return eng.evaluate(self.check, values).passed
        assert self.fact is not None
        return same(sum((eng.value(values, k) for k in self.fact.cells), start=0), self.fact.value)


def _constraints(eng: Engine, table: Table, facts: Sequence[Restated]) -> list[_Constraint]:
    out = [
        _Constraint(frozenset(t.key[1] for t in (*c.lhs, *c.rhs)), check=c)
        for c in eng.checks
        if c.table is table and c.rule.kind is RuleKind.EQUATION and c.rule.each is Each.COLUMN
    ]
    out += [
        _Constraint(frozenset(k[1] for k in f.cells), fact=f) for f in facts if {k[0] for k in f.cells} == {table.id}
    ]
    return out


def _covered(table: Table, row: str, read: Mapping[str, object]) -> bool:
    """Whether a row's values are known from the rows read (itself, or all its sub-rows)."""
    node = table.row_nodes[row]
    if row in read:
        return True
    return not node.is_leaf and all(_covered(table, c.id, read) for c in node.children)


def _reads(table: Table, constraint: _Constraint, row: str) -> bool:
    """Whether a constraint reads a row's values (the row itself, a group holding it, or its sub-rows)."""
    leaves = {n.id for n in table.row_nodes[row].leaves()}
    return any(r == row or leaves & {n.id for n in table.row_nodes[r].leaves()} for r in constraint.rows)


def _keys(table: Table, row: str, reading: Reading) -> dict[CellKey, Value]:
    return {(table.id, row, c.id): v for c, v in zip(table.leaf_columns, reading.values, strict=True)}


@dataclass
class _Budget:
    """Steps a table's searches may still take, shared by all of them."""

    left: int = TABLE_STEPS


@dataclass
class _Joint:
    """Depth-first over a table's ambiguous rows (one level per row), each constraint evaluated
    as soon as every row it reads is set; which readings of each row take part in a solution."""

    eng: Engine
    table: Table
    order: list[str]
    options: Mapping[str, tuple[Reading, ...]]
    stage: list[list[_Constraint]]
    values: dict[CellKey, Value]
    budget: _Budget
    seen: dict[str, set[int]] = field(default_factory=dict)
    solutions: int = 0
    stopped: bool = False

    def walk(self, depth: int) -> None:
        if depth == len(self.order):
            self.solutions += 1
            return
        row = self.order[depth]
        for i, reading in enumerate(self.options[row]):
            self.budget.left -= 1
            self.stopped = self.stopped or self.budget.left < 0
            if self.stopped:
                return
            self.values.update(_keys(self.table, row, reading))
            if all(c.holds(self.eng, self.values) for c in self.stage[depth]):
                before = self.solutions
                self.walk(depth + 1)
                if self.solutions > before:
                    self.seen.setdefault(row, set()).add(i)


def _rows(table: Table, runs: Mapping[str, str], eng: Engine) -> dict[str, RowRun]:
    out: dict[str, RowRun] = {}
    for row, run in runs.items():
        kinds = [(table.cell_kind(row, c.id), table.unit(row, c.id)) for c in table.leaf_columns]
        out[row] = read_row(run, kinds, _row_equations(eng, table, table.row_nodes[row].leaves()[0].id))
    return out


def _search(
    eng: Engine,
    table: Table,
    free: Mapping[str, tuple[Reading, ...]],
    constraints: Sequence[_Constraint],
    values: dict[CellKey, Value],
    budget: _Budget,
) -> _Joint:
    """The combinations of the free rows' readings that satisfy ``constraints`` (rows read by
    none are left out), fewest readings first."""
    order = [r for r in sorted(free, key=lambda r: len(free[r])) if any(_reads(table, c, r) for c in constraints)]
    stage: list[list[_Constraint]] = [[] for _ in order]
    for c in constraints:
        places = [i for i, r in enumerate(order) if _reads(table, c, r)]
        if places:
            stage[max(places)].append(c)
    joint = _Joint(eng, table, order, free, stage, dict(values), budget)
    joint.walk(0)
    return joint


def split_table(table: Table, runs: Mapping[str, str], eng: Engine, facts: Sequence[Restated] = ()) -> TableRuns:
    """Each row's run of ``table`` (row id → run) read under the format's relations.

    Rows whose own relations leave one reading are read. The others are decided by the
    relations across rows — the column checks, and the numbers the text restates (``facts``,
    R9) — that the rows read let one check: each reading is kept that takes part in some
    combination satisfying all of them; a row left with several stays ambiguous. A relation
    that no reading can satisfy (published reports break R1–R4, and their text R9) tells
    nothing and is left out; when the rest cannot all hold together either, every reading its
    row's own relations allow is kept.
    """
    rows = _rows(table, runs, eng)
    failed = {r: rr.why for r, rr in rows.items() if rr.why is not None}
    read = {r: rr.readings for r, rr in rows.items() if rr.why is None}
    decided = {r: rs[0] for r, rs in read.items() if len(rs) == 1}
    free = {r: rs for r, rs in read.items() if len(rs) > 1}
    values: dict[CellKey, Value] = {}
    for row, reading in decided.items():
        values.update(_keys(table, row, reading))
    constraints = [
        c
        for c in _constraints(eng, table, facts)
        if all(_covered(table, r, read) for r in c.rows) and any(_reads(table, c, r) for r in free)
    ]
    budget = _Budget()
    usable = [
        c for c in constraints if (one := _search(eng, table, free, [c], values, budget)).solutions or one.stopped
    ]
    joint = _search(eng, table, free, usable, values, budget)
    ambiguous = {r: rs for r, rs in free.items() if r not in joint.order}
    if joint.stopped or not joint.solutions:
        # Given up, or the relations cannot all hold together: they cannot tell the readings apart.
        return TableRuns(table, decided, dict(free), failed, False, joint.stopped)
    for row in joint.order:
        kept = tuple(free[row][i] for i in sorted(joint.seen[row]))
        if len(kept) == 1:
            decided[row] = kept[0]
        else:
            ambiguous[row] = kept
    return TableRuns(table, decided, ambiguous, failed, bool(joint.order))
