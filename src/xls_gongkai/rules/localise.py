"""Which cell is probably wrong: error localisation over the format's relations.

The relation rules of a format (kind ``equation``: R1–R4) are linear equations over the cells of
one report. When some fail, the smallest set of cells whose change makes *every* one of them hold
is the most likely explanation: the principle of Fellegi and Holt (1976), which the R package
errorlocate applies with a mixed-integer solver. The official formats have a few hundred cells and
no cell is in more than three checks, so a direct search is exact here: single cells first, then
pairs (:data:`MAX_CELLS`); a report that needs more changes gets no guess.

Which cells may be wrong (*free*): every input, and a computed total only where it is data — a
total printed in an imported document, typed in a hand-made table or typed over a template's
formula. A total that is a formula follows its parts: it is replaced by them in every equation and
never named. A stored group (（六）其他处理 printed as one row) is one free cell; the sub-rows it
hides are not in the report at all.

A candidate's new values keep R5 (a count stays a whole number and not negative). Among several
smallest explanations, the only one that looks like a typical slip (:class:`Slip`) is named;
where two or more are alike, they are listed and none is named (:func:`localisation_issues`).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from functools import lru_cache
from typing import Literal

from xls_gongkai.issues import Code, Issue, issue
from xls_gongkai.numbers import Value, format_number
from xls_gongkai.report import Report
from xls_gongkai.rules.engine import NO_CELLS, Check, Engine, Locator, engine
from xls_gongkai.spec import PATH_SEP, VALUE_LIMIT, CellKey, CellKind, Node, RuleKind, Table

__all__ = [
    "MAX_CELLS",
    "MAX_LISTED",
    "Candidate",
    "Fix",
    "Localisation",
    "Slip",
    "localisation_issues",
    "localise",
]

#: The most cells an explanation may change: beyond two, a guess helps nobody.
MAX_CELLS = 2
#: The most candidates listed when none stands out; with more, the failing rules' own words
#: (请核对这一列) say as much as a list would.
MAX_LISTED = 6

Form = Mapping[CellKey, int]


class Slip(StrEnum):
    """A typical slip of the pen that explains a wrong value."""

    SWAPPED = "swapped"  # 45 for 54
    DROPPED = "dropped"  # 54 for 540 or 154 (a one-digit figure fits too many values)
    DOUBLED = "doubled"  # 554 for 54
    EXTRA = "extra"  # 504 or 54 for 5: one digit too many
    COUNTED_TWICE = "counted-twice"  # a total that added one of its parts twice
    LEFT_OUT = "left-out"  # a total that left one of its parts out
    NEIGHBOUR = "neighbour"  # a number typed into the neighbouring row or column
    STRAY = "stray"  # a number in a cell that should be empty, which its total left out
    HALVED = "halved"  # half the number, which its total counted in full


@dataclass(frozen=True)
class Fix:
    """One cell's change: from ``found`` to ``value``."""

    key: CellKey
    found: Value
    value: Value
    slip: Slip | None = None
    #: the parts of equal value a total may have counted twice or left out
    parts: tuple[CellKey, ...] = ()


@dataclass(frozen=True)
class Candidate:
    """One smallest explanation: the cells to change and their new values."""

    fixes: tuple[Fix, ...]
    neighbour: bool = False

    @property
    def rank(self) -> int:
        """How much it looks like a slip of the pen: 2 for one number typed into the neighbour's
        cell (one slip explains both cells), 1 when every cell's change is a typical slip, else 0."""
        if self.neighbour:
            return 2
        return 1 if all(f.slip is not None for f in self.fixes) else 0


@dataclass(frozen=True)
class Localisation:
    """Where the failing relations of a report most likely went wrong.

    ``candidates``: every smallest explanation (typical slips first), empty when none changes
    at most :data:`MAX_CELLS` cells; ``probable``: the one that stands out — the only one, or
    the only typical slip; ``common``: when none stands out, the changes every candidate shares;
    ``open``: some pair of cells explains the failures with any of many values (then nothing is
    named: there is no telling).
    """

    candidates: tuple[Candidate, ...] = ()
    probable: Candidate | None = None
    common: tuple[Fix, ...] = ()
    open: bool = False


# --------------------------------------------------------------------------- the equations


@dataclass(frozen=True)
class _System:
    """The relation checks as linear forms over the free cells (formulas replaced by their parts)."""

    checks: tuple[Check, ...]
    forms: tuple[Form, ...]
    by_cell: Mapping[CellKey, tuple[int, ...]]
    #: checks that no free cell can change (both sides formulas of the same parts)
    fixed: tuple[Check, ...]
    #: checks each cell is in at most
    degree: int


def _add(into: dict[CellKey, int], form: Form, sign: int) -> None:
    for key, coef in form.items():
        total = into.get(key, 0) + sign * coef
        if total:
            into[key] = total
        else:
            into.pop(key, None)


class _Expander:
    """A cell or group as a linear form over the free cells, as :func:`report.group_value` and
    :meth:`Engine.with_totals` define its value."""

    def __init__(self, eng: Engine, free: frozenset[CellKey], stored: frozenset[CellKey]) -> None:
        self.eng, self.free, self.stored = eng, free, stored
        self.memo: dict[CellKey, Form] = {}

    def __call__(self, key: CellKey) -> Form:
        got = self.memo.get(key)
        if got is None:
            got = self.memo[key] = self._expand(key)
        return got

    def _expand(self, key: CellKey) -> Form:
        if key in self.free or key in self.stored:
            return {key: 1}
        out: dict[CellKey, int] = {}
        check = self.eng.computed.get(key)
        if check is not None:
            for term in check.rhs:
                _add(out, self(term.key), term.sign)
            return out
        table = self.eng.format.table(key[0])
        rnode, cnode = table.row_nodes[key[1]], table.column_nodes[key[2]]
        if rnode.is_leaf and cnode.is_leaf:
            return out  # a constant: a sub-row hidden under a group stored as one value
        children = (
            [(key[0], c.id, key[2]) for c in rnode.children]
            if not rnode.is_leaf
            else [(key[0], key[1], c.id) for c in cnode.children]
        )
        for child in children:
            _add(out, self(child), 1)
        return out


def _hidden(eng: Engine, stored: frozenset[CellKey]) -> set[tuple[str, str]]:
    hidden: set[tuple[str, str]] = set()
    for t, r, _c in stored:
        rnode = eng.format.table(t).row_nodes[r]
        if not rnode.is_leaf:
            hidden.update((t, leaf.id) for leaf in rnode.leaves())
    return hidden


@lru_cache(maxsize=64)
def _system(eng: Engine, free_totals: frozenset[CellKey], stored: frozenset[CellKey]) -> _System:
    hidden = _hidden(eng, stored) if stored else set()
    free = frozenset(k for k in eng.inputs if (k[0], k[1]) not in hidden) | free_totals | stored
    expand = _Expander(eng, free, stored)
    checks: list[Check] = []
    forms: list[Form] = []
    fixed: list[Check] = []
    for check in eng.checks:
        if check.rule.kind is not RuleKind.EQUATION:
            continue
        form: dict[CellKey, int] = {}
        for term in check.lhs:
            _add(form, expand(term.key), term.sign)
        for term in check.rhs:
            _add(form, expand(term.key), -term.sign)
        if form:
            checks.append(check)
            forms.append(form)
        else:
            fixed.append(check)
    by_cell: dict[CellKey, list[int]] = {}
    for i, each in enumerate(forms):
        for key in each:
            by_cell.setdefault(key, []).append(i)
    degree = max((len(v) for v in by_cell.values()), default=0)
    return _System(tuple(checks), tuple(forms), {k: tuple(v) for k, v in by_cell.items()}, tuple(fixed), degree)


# --------------------------------------------------------------------------- the search


def _singles(sys: _System, targets: Sequence[Fraction], failing: Sequence[int]) -> Iterator[dict[CellKey, Fraction]]:
    """Every cell that alone makes every check hold, with its change: it is in every failing
    check, in no passing one, and one change fits them all."""
    first = min(failing, key=lambda c: len(sys.forms[c]))
    for key, coef in sys.forms[first].items():
        rows = sys.by_cell[key]
        if len(rows) != len(failing) or any(not targets[c] for c in rows):
            continue
        delta = targets[first] / coef
        if all(sys.forms[c][key] * delta == targets[c] for c in rows):
            yield {key: delta}


def _partners(sys: _System, targets: Sequence[Fraction], failing: Sequence[int], x: CellKey) -> set[CellKey]:
    """The cells that may pair with ``x``: each failing check without ``x`` needs the other cell,
    and so does each passing check with ``x`` (or ``x``'s change would break it); when neither
    constrains, the other cell must share a check with ``x`` (a change elsewhere fixes nothing)."""
    rows = sys.by_cell[x]
    ys: set[CellKey] | None = None
    needs = [c for c in failing if x not in sys.forms[c]] + [c for c in rows if not targets[c]]
    for c in needs:
        ys = set(sys.forms[c]) if ys is None else ys & sys.forms[c].keys()
        if not ys:
            return set()
    if ys is None:
        ys = {k for c in rows for k in sys.forms[c]}
    ys.discard(x)
    return ys


def _solve_pair(
    sys: _System, targets: Sequence[Fraction], covered: int, x: CellKey, y: CellKey
) -> tuple[Fraction, Fraction] | Literal[True] | None:
    """The changes of ``x`` and ``y`` that make every check hold; None when there are none;
    True when there are many (every check sees the two cells alike, so one change could be split
    between them in many ways: either cell alone would do, but for R5)."""
    rows = sorted(set(sys.by_cell[x]) | set(sys.by_cell[y]))
    if sum(1 for c in rows if targets[c]) != covered:
        return None  # some failing check has neither cell
    eqs = [(sys.forms[c].get(x, 0), sys.forms[c].get(y, 0), targets[c]) for c in rows]
    a1, b1, t1 = eqs[0]
    for a2, b2, t2 in eqs[1:]:
        det = a1 * b2 - a2 * b1
        if det:
            dx, dy = (t1 * b2 - t2 * b1) / det, (a1 * t2 - a2 * t1) / det
            if dx and dy and all(a * dx + b * dy == t for a, b, t in eqs):
                return dx, dy
            return None
    return True if all(t * a1 == t1 * a and t * b1 == t1 * b for a, b, t in eqs) else None


def _pairs(
    sys: _System, targets: Sequence[Fraction], failing: Sequence[int]
) -> tuple[list[dict[CellKey, Fraction]], bool]:
    """Every pair of cells that together make every check hold (and whether some pair does so
    with many values)."""
    if len(failing) > 2 * sys.degree:
        return [], False
    first = min(failing, key=lambda c: len(sys.forms[c]))
    seen: set[frozenset[CellKey]] = set()
    found: list[dict[CellKey, Fraction]] = []
    many = False
    for x in sys.forms[first]:
        for y in _partners(sys, targets, failing, x):
            pair = frozenset((x, y))
            if pair in seen:
                continue
            seen.add(pair)
            solved = _solve_pair(sys, targets, len(failing), x, y)
            if solved is True:
                many = True
            elif isinstance(solved, tuple):
                found.append({x: solved[0], y: solved[1]})
    return found, many


# --------------------------------------------------------------------------- values and slips


def _new_value(kind: CellKind, found: Value, delta: Fraction) -> Value | None:
    """``found`` changed by ``delta`` if the result keeps R5 for the cell's kind, else None."""
    new = Fraction(found) + delta
    if kind in (CellKind.COUNT, CellKind.SIGNED):
        if new.denominator != 1:
            return None
        value: Value = int(new)
    else:
        value = Decimal(new.numerator) / Decimal(new.denominator)
    if kind in (CellKind.COUNT, CellKind.AMOUNT) and value < 0:
        return None
    return value if -VALUE_LIMIT <= value <= VALUE_LIMIT else None


def digit_slip(found: Value, value: Value) -> Slip | None:
    """Whether ``found`` is ``value`` with two neighbouring digits swapped, one digit dropped, one
    digit doubled or one digit too many (whole numbers; a blank or 0 is no slip of a digit)."""
    if not (isinstance(found, int) and isinstance(value, int)) or found <= 0 or value < 0:
        return None
    s, t = str(found), str(value)
    if len(s) == len(t) >= 2:
        diff = [i for i in range(len(s)) if s[i] != t[i]]
        if len(diff) == 2 and diff[1] == diff[0] + 1 and s[diff[0]] == t[diff[1]] and s[diff[1]] == t[diff[0]]:
            return Slip.SWAPPED
    # A one-digit figure is too common to count as a dropped digit (5 fits 15, 25, 50, 51 …).
    if len(t) == len(s) + 1 >= 3 and any(t[:i] + t[i + 1 :] == s for i in range(len(t))):
        return Slip.DROPPED
    if len(s) == len(t) + 1 and value > 0:
        if any(s[i] == s[i + 1] and s[:i] + s[i + 1 :] == t for i in range(len(t))):
            return Slip.DOUBLED
        if any(s[:i] + s[i + 1 :] == t for i in range(len(s))):
            return Slip.EXTRA
    return None


def _total_slip(eng: Engine, values: Mapping[CellKey, Value], fix: Fix) -> tuple[Slip, tuple[CellKey, ...]] | None:
    """Whether a typed total is off by exactly one of its parts (added twice or left out)."""
    if fix.key not in eng.computed:
        return None
    change = Fraction(fix.value) - Fraction(fix.found)
    for check in eng.checks:
        if not check.rule.computes or check.lhs[0].key != fix.key:
            continue
        parts = [k for k in check.leaf_keys(check.rhs) if values.get(k)]
        for slip, wanted in ((Slip.COUNTED_TWICE, -change), (Slip.LEFT_OUT, change)):
            same = tuple(k for k in parts if Fraction(values[k]) == wanted)
            if same:
                return slip, same
    return None


def _fix(eng: Engine, values: Mapping[CellKey, Value], key: CellKey, delta: Fraction) -> Fix | None:
    found = values.get(key, 0)
    kind = eng.format.table(key[0]).cell_kind(key[1], key[2])
    value = _new_value(kind, found, delta)
    if value is None:
        return None
    fix = Fix(key, found, value, digit_slip(found, value))
    if fix.slip is None:
        total = _total_slip(eng, values, fix)
        if total is not None:
            fix = Fix(key, found, value, total[0], total[1])
    return fix


def _neighbours(eng: Engine, a: Fix, b: Fix) -> bool:
    """Whether one number sits in the cell next to its own: one cell holds x and should be
    empty, its neighbour in the row or column is empty and should hold x."""
    if a.key[0] != b.key[0] or not (
        (a.found == 0 and b.value == 0 and a.value == b.found != 0)
        or (b.found == 0 and a.value == 0 and b.value == a.found != 0)
    ):
        return False
    table = eng.format.table(a.key[0])
    rows = [n.id for n in table.leaf_rows]
    cols = [n.id for n in table.leaf_columns]
    (_, ra, ca), (_, rb, cb) = a.key, b.key
    if ra == rb and ca in cols and cb in cols:
        return abs(cols.index(ca) - cols.index(cb)) == 1
    if ca == cb and ra in rows and rb in rows:
        return abs(rows.index(ra) - rows.index(rb)) == 1
    return False


def _candidate(eng: Engine, values: Mapping[CellKey, Value], deltas: Mapping[CellKey, Fraction]) -> Candidate | None:
    fixes: list[Fix] = []
    for key, delta in sorted(deltas.items(), key=lambda kv: eng.format.key_order(kv[0])):
        fix = _fix(eng, values, key, delta)
        if fix is None:
            return None
        fixes.append(fix)
    return Candidate(tuple(fixes), len(fixes) == 2 and _neighbours(eng, fixes[0], fixes[1]))


# --------------------------------------------------------------------------- localise


def _targets(
    eng: Engine, sys: _System, values: Mapping[CellKey, Value], errors: Mapping[CellKey, str]
) -> list[Fraction] | None:
    """What each check's linear form must change by (minus its difference), or None when some
    relation cannot be verified (an error value, a value too large) or no free cell can fix it."""
    large = eng.large(values)
    out: list[Fraction] = []
    for check in (*sys.checks, *sys.fixed):
        outcome = eng.evaluate(check, values, errors=errors, large=large)
        if outcome.unknown:
            return None
        out.append(-Fraction(outcome.diff))
    if any(out[len(sys.checks) :]):
        return None
    return out[: len(sys.checks)]


def localise(
    report: Report,
    typed: Collection[CellKey] = (),
    *,
    errors: Mapping[CellKey, str] = NO_CELLS,
    max_cells: int = MAX_CELLS,
) -> Localisation | None:
    """The smallest changes that make every relation of ``report`` hold (see the module's words).

    ``report.values`` must hold its totals (:meth:`Engine.with_totals`). ``typed`` are the cells
    whose values were typed or printed: a computed total among them is data, free to be wrong;
    every other computed total is a formula. ``errors`` are cells holding an error value (the
    relations over them cannot be verified: then, as when nothing fails, None).
    """
    eng = engine(report.format)
    values = report.values
    stored = frozenset(k for k in values if k in report.format.group_keys)
    free_totals = frozenset(k for k in typed if k in eng.computed and k in values)
    sys = _system(eng, free_totals, stored)
    targets = _targets(eng, sys, values, errors)
    if targets is None:
        return None
    failing = [i for i, t in enumerate(targets) if t]
    if not failing:
        return None
    found: list[Candidate] = []
    many = False
    for size in range(1, max_cells + 1):
        if size == 1:
            solutions: Iterable[dict[CellKey, Fraction]] = _singles(sys, targets, failing)
        else:
            solutions, many = _pairs(sys, targets, failing)
        found = [c for c in (_candidate(eng, values, d) for d in solutions) if c is not None]
        if found or many:
            break
    return _judge(eng, found, many)


def _judge(eng: Engine, found: list[Candidate], many: bool) -> Localisation:
    """Which of the smallest explanations stands out: the only one, or the only one that looks
    most like a slip of the pen (:attr:`Candidate.rank`)."""
    # "The total left this part out" and "this part should be empty" are one story told from
    # either side, as are "the total counted it twice" and "it should be twice as much": the
    # part's change is as typical as the total's, so neither is named over the other.
    mirrors = {
        (k, -(Fraction(f.value) - Fraction(f.found))): f.slip
        for c in found
        for f in c.fixes
        if f.slip in (Slip.LEFT_OUT, Slip.COUNTED_TWICE)
        for k in f.parts
    }
    if mirrors:
        found = [replace(c, fixes=tuple(_mirror(f, mirrors) for f in c.fixes)) for c in found]
    found.sort(key=lambda c: (-c.rank, [eng.format.key_order(f.key) for f in c.fixes]))
    candidates = tuple(found)
    if many:
        return Localisation(candidates, open=True)
    if len(candidates) == 1:
        return Localisation(candidates, candidates[0])
    if candidates and candidates[0].rank > 0 and candidates[1].rank < candidates[0].rank:
        return Localisation(candidates, candidates[0])
    common = tuple(f for f in candidates[0].fixes if all(f in c.fixes for c in candidates[1:])) if candidates else ()
    return Localisation(candidates, None, common)


def _mirror(fix: Fix, mirrors: Mapping[tuple[CellKey, Fraction], Slip | None]) -> Fix:
    """The part's side of a total's slip (see :func:`_judge`)."""
    told = mirrors.get((fix.key, Fraction(fix.value) - Fraction(fix.found)))
    if fix.slip is not None or told is None:
        return fix
    return replace(fix, slip=Slip.STRAY if told is Slip.LEFT_OUT else Slip.HALVED)


# --------------------------------------------------------------------------- issues


def _label(node: Node, leaves: Sequence[Node]) -> str:
    """A row's or column's name: its label, with its group where that helps (（三）不予公开 ›
    1.属于国家秘密), its whole path where the label repeats (表四's three 结果维持)."""
    if sum(1 for n in leaves if n.label == node.label) > 1:
        return node.path_text
    parts = [p for p in node.path if p]
    return PATH_SEP.join(parts[1:] if len(parts) >= 3 else parts[-1:])


def _words(table: Table, key: CellKey) -> str:
    """A cell in a few words: ``（一）予以公开 / 自然人``."""
    rnode, cnode = table.row_nodes[key[1]], table.column_nodes[key[2]]
    row = _label(rnode, table.leaf_rows) if rnode.path_text else ""
    column = _label(cnode, table.leaf_columns)
    return f"{row} / {column}" if row else column


def _part_words(table: Table, total: CellKey, part: CellKey) -> str:
    """A part of a total in the fewest words: its column in the total's row, its row in its column."""
    if part[1] == total[1]:
        return _label(table.column_nodes[part[2]], table.leaf_columns)
    if part[2] == total[2]:
        return _label(table.row_nodes[part[1]], table.leaf_rows)
    return _words(table, part)


def _place(table: Table, key: CellKey, locate: Locator) -> str:
    """``表三!D9（（一）予以公开 / 自然人）``, or ``表三（…）`` where the source has no cells."""
    sheet, a1 = locate(key)
    return f"{sheet}!{a1}（{_words(table, key)}）" if a1 else f"{table.name}（{_words(table, key)}）"


def _shown(values: Mapping[CellKey, Value], key: CellKey) -> str:
    v = values.get(key)
    return "空白" if v is None else format_number(v)


def _slip_words(fix: Fix, table: Table) -> str:
    if fix.slip is Slip.SWAPPED:
        return "像是两位数字颠倒了"
    if fix.slip is Slip.DROPPED:
        return "像是漏了一位数字"
    if fix.slip is Slip.DOUBLED:
        return "像是一位数字打了两遍"
    if fix.slip is Slip.EXTRA:
        return "像是多打了一位数字"
    part = f"“{_part_words(table, fix.key, fix.parts[0])}”" if len(fix.parts) == 1 else "其中一项"
    amount = format_number(abs(Fraction(fix.value) - Fraction(fix.found)).numerator)
    if fix.slip is Slip.COUNTED_TWICE:
        return f"像是合计把{part}的 {amount} 多算了一次"
    if fix.slip is Slip.LEFT_OUT:
        return f"像是合计漏算了{part}的 {amount}"
    if fix.slip is Slip.STRAY:
        return "像是本应空着的格子填了数（合计没有算它）"
    return "像是只填了一半（合计按全数算了它）"


def _change(c: Candidate, values: Mapping[CellKey, Value], table: Table) -> str:
    """How the candidate changes its cells, in words (the slip it looks like, if any)."""
    fixes = c.fixes
    if len(fixes) == 1:
        f = fixes[0]
        if f.slip is None:
            return f"若为 {format_number(f.value)}"
        return f"填的是 {_shown(values, f.key)}，若为 {format_number(f.value)}（{_slip_words(f, table)}）"
    new = " 和 ".join(format_number(f.value) for f in fixes)
    if c.neighbour:
        a, b = fixes
        moved = format_number(a.found or b.found)
        way = "列" if a.key[1] == b.key[1] else "行"
        return f"若分别为 {new}（像是把 {moved} 填到了相邻的{way}）"
    return f"若分别为 {new}"


def _located(eng: Engine, report: Report, keys: Sequence[CellKey], locate: Locator) -> dict[str, object]:
    """The Issue fields that say where: the first cell, and every cell named."""
    first = keys[0]
    table = eng.format.table(first[0])
    sheet, a1 = locate(first)
    return {
        "unit_code": report.unit.code,
        "unit_name": report.unit.name,
        "sheet": sheet,
        "cell": a1,
        "cells": tuple(dict.fromkeys(a for a in (locate(k)[1] for k in keys) if a)),
        "table": first[0],
        "row": first[1],
        "column": first[2],
        "row_label": table.row_nodes[first[1]].path_text,
        "column_label": table.column_nodes[first[2]].path_text,
    }


def _probable_issue(
    eng: Engine, report: Report, fixes: tuple[Fix, ...], locate: Locator, change: str, rest: str = ""
) -> Issue:
    fmt = eng.format
    places = " 和 ".join(_place(fmt.table(f.key[0]), f.key, locate) for f in fixes)
    if len(fixes) == 1:
        expected, found = format_number(fixes[0].value), _shown(report.values, fixes[0].key)
    else:
        expected = "，".join(format_number(f.value) for f in fixes)
        found = "，".join(_shown(report.values, f.key) for f in fixes)
    where = _located(eng, report, [f.key for f in fixes], locate)
    return issue(Code.PROBABLE_CELL, place=places, change=change, rest=rest, expected=expected, found=found, **where)


def _common_change(eng: Engine, report: Report, loc: Localisation, locate: Locator) -> str:
    """The change of the cells every candidate shares, and where the one more change may be."""
    shared = set(loc.common)
    rest = [f for c in loc.candidates for f in c.fixes if f not in shared]
    values = ", ".join(format_number(f.value) for f in loc.common)
    if len(rest) > MAX_LISTED:
        return f"若为 {values}，再改动另一处（有 {len(rest)} 种可能，无法确定是哪一处）"
    fmt = eng.format
    listed = "、".join(f"{_place(fmt.table(f.key[0]), f.key, locate)}为 {format_number(f.value)}" for f in rest)
    return f"若为 {values}，再改动另一处（{listed}，这几处之一）"


def _candidates_issue(eng: Engine, report: Report, loc: Localisation, locate: Locator) -> Issue:
    fmt = eng.format
    parts = []
    for c in loc.candidates:
        places = " 和 ".join(_place(fmt.table(f.key[0]), f.key, locate) for f in c.fixes)
        parts.append(
            f"{places}{'分别' if len(c.fixes) > 1 else ''}为 {' 和 '.join(format_number(f.value) for f in c.fixes)}"
        )
    keys = [f.key for c in loc.candidates for f in c.fixes]
    where = _located(eng, report, keys, locate)
    return issue(Code.CANDIDATE_CELLS, count=len(loc.candidates), places="；".join(parts), **where)


def _holds(eng: Engine, report: Report, typed: Collection[CellKey], c: Candidate) -> bool:
    """Whether the candidate's values make every relation hold, as the engine decides it (the
    search's linear forms and the engine cannot disagree unnoticed)."""
    values = dict(report.values)
    values.update((f.key, f.value) for f in c.fixes)
    full = eng.with_totals(values, keep=[k for k in typed if k in values])
    large = eng.large(full)
    return all(
        eng.evaluate(check, full, large=large).passed for check in eng.checks if check.rule.kind is RuleKind.EQUATION
    )


def localisation_issues(
    report: Report,
    locate: Locator | None = None,
    typed: Collection[CellKey] = (),
    *,
    errors: Mapping[CellKey, str] = NO_CELLS,
) -> list[Issue]:
    """The notice that says which cell is probably wrong (``probable-cell``) or which few cells
    might be (``candidate-cells``); none when nothing fails, when more than :data:`MAX_CELLS`
    cells would have to change, or when the candidates are too many to help."""
    loc = localise(report, typed, errors=errors)
    if loc is None or not loc.candidates or loc.open:
        return []
    eng = engine(report.format)
    where = locate or eng.sheet_only
    if loc.probable is not None and _holds(eng, report, typed, loc.probable):
        fixes = loc.probable.fixes
        change = _change(loc.probable, report.values, report.format.table(fixes[0].key[0]))
        others = len(loc.candidates) - 1
        rest = f"（另有 {others} 处改动也能使全部校验通过，但都不如这一处像常见的笔误）" if others else ""
        return [_probable_issue(eng, report, fixes, where, change, rest)]
    if loc.common:
        return [_probable_issue(eng, report, loc.common, where, _common_change(eng, report, loc, where))]
    if len(loc.candidates) <= MAX_LISTED:
        return [_candidates_issue(eng, report, loc, where)]
    return []
