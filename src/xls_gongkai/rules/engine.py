"""The one rule engine: every relation rule of a format, its totals, and its verdict on a report.

A rule of the format expands into *checks*: one per row or per column it holds in (R2 holds in
every row of 表三, so it has one check per row), one per table for the cell rule R5. A check is
the unit that the workbook shows as one ✔/✘ cell and that this engine counts as passed or
failed; :mod:`xls_gongkai.workbook.formulas` compiles the same check into that cell's formula,
so the two cannot disagree about what a rule means.

Everything that adds up cells goes through :class:`Engine`: the totals a template computes
(:meth:`Engine.with_totals`, group rows stored as one value included), the checks of the reader,
the importer, merge and the sample maker, and the cross-year rules. One engine is built per
format object and cached on it.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal
from functools import cache, cached_property

from xls_gongkai.issues import Issue
from xls_gongkai.numbers import Value, format_number
from xls_gongkai.report import Report, group_value
from xls_gongkai.spec import VALUE_LIMIT, CellKey, CellKind, Each, Format, Rule, RuleKind, Table

#: Where a cell is in the source: ``(sheet, A1)`` (A1 empty when the source has no cells).
Locator = Callable[[CellKey], tuple[str, str]]

NO_CELLS: Mapping[CellKey, str] = {}

#: Why a relation cannot be verified: what its check cell shows after "✘ <rule>：".
HAS_ERROR = "含错误值"
TOO_LARGE = "数值过大"


@dataclass(frozen=True)
class Term:
    """One summand of a check: a cell or a group of cells, this year's or last year's."""

    sign: int
    previous: bool
    key: CellKey


@dataclass(frozen=True, eq=False)
class Check:
    """One instance of a rule: one equation in one row or column, or R5 over one table."""

    rule: Rule
    table: Table
    index: str  # the row id (each: row) or column id (each: column); "" for R5
    equation: int = 0

    @property
    def key(self) -> tuple[str, str, str, int]:
        return (self.rule.id, self.table.id, self.index, self.equation)

    @property
    def key_text(self) -> str:
        """The check's key as one string (what a 说明 refers to): ``R1|t3|natural|0``."""
        return "|".join(map(str, self.key))

    def _terms(self, side: str) -> tuple[Term, ...]:
        eq = self.rule.equations[self.equation]
        out = []
        for t in eq.lhs if side == "lhs" else eq.rhs:
            if self.rule.each is Each.COLUMN:
                key = (self.table.id, t.id, self.index)
            else:
                key = (self.table.id, self.index, t.id)
            out.append(Term(t.sign, t.previous, key))
        return tuple(out)

    @cached_property
    def lhs(self) -> tuple[Term, ...]:
        return self._terms("lhs")

    @cached_property
    def rhs(self) -> tuple[Term, ...]:
        return self._terms("rhs")

    @property
    def name(self) -> str:
        return self.rule.equations[self.equation].name if self.rule.equations else ""

    @property
    def in_sheet(self) -> bool:
        """Whether the workbook carries a check cell for it (cross-year rules need last year's data)."""
        return self.rule.kind in (RuleKind.EQUATION, RuleKind.CELLS)

    def leaf_keys(self, side: Iterable[Term]) -> tuple[CellKey, ...]:
        """The value cells a side covers (groups expanded), this year's only."""
        keys: list[CellKey] = []
        for term in side:
            if term.previous:
                continue
            t, r, c = term.key
            for rn in self.table.row_nodes[r].leaves():
                for cn in self.table.column_nodes[c].leaves():
                    keys.append((t, rn.id, cn.id))
        return tuple(keys)

    @cached_property
    def cells(self) -> tuple[CellKey, ...]:
        """Every value cell of this year the check reads, left side first."""
        return self.leaf_keys(self.lhs) + self.leaf_keys(self.rhs)

    def _flat(self, side: tuple[Term, ...]) -> tuple[tuple[int, CellKey], ...] | None:
        if any(t.previous for t in side):
            return None
        return tuple((t.sign, key) for t in side for key in self.leaf_keys((t,)))

    @cached_property
    def flat(self) -> tuple[tuple[tuple[int, CellKey], ...], tuple[tuple[int, CellKey], ...]] | None:
        """Both sides as signed leaf cells (groups expanded once): how a report without stored
        group values is evaluated. None for a cross-year check."""
        lhs, rhs = self._flat(self.lhs), self._flat(self.rhs)
        return None if lhs is None or rhs is None else (lhs, rhs)


@dataclass(frozen=True)
class Outcome:
    """The result of one check on one report."""

    check: Check
    passed: bool
    lhs: Value = 0
    rhs: Value = 0
    #: R5: (cell, problem) of every cell that breaks its kind
    bad_cells: tuple[tuple[CellKey, str], ...] = ()
    #: cells that make the relation unverifiable, and why (:data:`HAS_ERROR`: an error value
    #: such as #REF! in the cell or in a total it feeds; :data:`TOO_LARGE`: beyond VALUE_LIMIT)
    unknown: tuple[CellKey, ...] = ()
    reason: str = ""

    @property
    def diff(self) -> Value:
        return self.lhs - self.rhs


def same(lhs: Value, rhs: Value) -> bool:
    """Whether a relation's two sides are equal as the sheet decides it: ``ROUND(lhs-rhs,6)=0``
    (amounts are decimals; a difference below a millionth of a 万元 is no difference)."""
    if type(lhs) is int and type(rhs) is int:
        return lhs == rhs
    return Decimal(lhs - rhs).quantize(Decimal("0.000001"), ROUND_HALF_UP) == 0


def too_large(v: Value | None) -> bool:
    return v is not None and not -VALUE_LIMIT <= v <= VALUE_LIMIT


def cell_problem(kind: CellKind, v: Value) -> str | None:
    """Why a value breaks R5 for a cell of ``kind``, or None when it is fine."""
    if kind is CellKind.TEXT:
        return None
    if too_large(v):
        return f"数值 {format_number(v)} 过大，不可能正确（最多 {VALUE_LIMIT:,}），请核对"
    if kind in (CellKind.COUNT, CellKind.SIGNED) and isinstance(v, Decimal) and v != v.to_integral_value():
        return f"应为整数，填的是 {format_number(v)}"
    if kind in (CellKind.COUNT, CellKind.AMOUNT) and v < 0:
        return f"不能为负数，填的是 {format_number(v)}"
    return None


class Engine:
    """Every check and total of one format, worked out once."""

    def __init__(self, fmt: Format) -> None:
        self.format = fmt
        self.checks = _expand(fmt)
        computed: dict[CellKey, Check] = {}
        for check in self.checks:
            if check.rule.computes:
                computed.setdefault(check.lhs[0].key, check)
        #: cells a ``computes: true`` rule defines as the sum of others (first rule wins)
        self.computed: Mapping[CellKey, Check] = computed
        self.total_order: tuple[CellKey, ...] = self._dependency_order()
        self.inputs: tuple[CellKey, ...] = tuple(k for k in fmt.cell_keys if k not in computed)
        kinds = fmt.cell_kinds
        #: per R5 check, the input cells it covers and their kinds
        self.typed_inputs: Mapping[Check, tuple[tuple[CellKey, CellKind], ...]] = {
            c: tuple((k, kinds[k][0]) for k in self.inputs if k[0] == c.table.id and kinds[k][0] is not CellKind.TEXT)
            for c in self.checks
            if c.rule.kind is RuleKind.CELLS
        }

    def _dependency_order(self) -> tuple[CellKey, ...]:
        # Totals that sum other totals (（七）总计 × 总计) come after the ones they use.
        order: list[CellKey] = []
        seen: set[CellKey] = set()

        def visit(key: CellKey) -> None:
            if key in seen:
                return
            seen.add(key)
            check = self.computed[key]
            for dep in check.leaf_keys(check.rhs):
                if dep in self.computed:
                    visit(dep)
            order.append(key)

        for key in self.computed:
            visit(key)
        return tuple(order)

    # ------------------------------------------------------------------ values

    def value(self, values: Mapping[CellKey, Value], key: CellKey) -> Value:
        return group_value(self.format, values, key)

    def side(
        self, values: Mapping[CellKey, Value], terms: Iterable[Term], previous: Mapping[CellKey, Value] | None = None
    ) -> Value:
        total: Value = 0
        for term in terms:
            if term.previous:
                if previous is None:
                    raise ValueError("a cross-year check needs last year's report")
                total += term.sign * self.value(previous, term.key)
            else:
                total += term.sign * self.value(values, term.key)
        return total

    def _sum(self, values: Mapping[CellKey, Value], flat: tuple[tuple[int, CellKey], ...]) -> Value:
        total: Value = 0
        for sign, key in flat:
            v = values.get(key)
            if v is not None:
                total += sign * v
        return total

    def has_groups(self, values: Mapping[CellKey, Value]) -> bool:
        """Whether some group is stored as one value (then sums go through :func:`group_value`)."""
        return not self.format.group_keys.isdisjoint(values)

    def with_totals(self, values: Mapping[CellKey, Value], keep: Iterable[CellKey] = ()) -> dict[CellKey, Value]:
        """``values`` with every computed total set to the sum its rule defines.

        Totals in ``keep`` that ``values`` holds stand as given (a total a document printed, or
        typed over in a workbook). A group stored as one value stands for its sub-rows in every
        sum, and the totals of those unknown sub-rows are left out rather than made up as 0.
        """
        kept = {k for k in keep if k in values}
        out = {k: v for k, v in values.items() if k not in self.computed or k in kept}
        grouped = self.has_groups(values)
        hidden = self._hidden(values) if grouped else set()
        for key in self.total_order:
            if key in kept or (key[0], key[1]) in hidden:
                continue
            check = self.computed[key]
            flat = check.flat
            out[key] = self.side(out, check.rhs) if grouped or flat is None else self._sum(out, flat[1])
        return out

    def _hidden(self, values: Mapping[CellKey, Value]) -> set[tuple[str, str]]:
        """(table, leaf row) of every row under a group stored as one value."""
        hidden: set[tuple[str, str]] = set()
        for key in values:
            if key in self.format.group_keys:
                rnode = self.format.table(key[0]).row_nodes[key[1]]
                if not rnode.is_leaf:
                    hidden.update((key[0], leaf.id) for leaf in rnode.leaves())
        return hidden

    # ------------------------------------------------------------------ checks

    def evaluate(
        self,
        check: Check,
        values: Mapping[CellKey, Value],
        previous: Mapping[CellKey, Value] | None = None,
        *,
        text: Mapping[CellKey, str] = NO_CELLS,
        errors: Mapping[CellKey, str] = NO_CELLS,
        large: Collection[CellKey] | None = None,
        grouped: bool | None = None,
    ) -> Outcome:
        """The verdict of one check, as the workbook's check cell gives it.

        ``text`` and ``errors`` are input cells holding text or an error value instead of a
        number, each with what to tell the clerk: both break R5. Text counts 0 in a relation,
        as a spreadsheet's SUM ignores it. An error value — in a cell the check reads, or in a
        total it feeds (see :meth:`depending`) — leaves the relation unverifiable, as does a
        value beyond VALUE_LIMIT (``large``: those cells, when the caller knows them already;
        ``grouped``: whether some group is stored as one value, likewise).
        """
        if check.rule.kind is RuleKind.CELLS:
            return self._cells(check, values, text, errors)
        flat = check.flat
        if flat is not None and not (self.has_groups(values) if grouped is None else grouped):
            lhs, rhs = self._sum(values, flat[0]), self._sum(values, flat[1])
        else:
            lhs, rhs = self.side(values, check.lhs, previous), self.side(values, check.rhs, previous)
        unknown = tuple(k for k in check.cells if k in errors) if errors else ()
        if unknown:
            return Outcome(check, False, lhs, rhs, unknown=unknown, reason=HAS_ERROR)
        big = self.large(values) if large is None else large
        unknown = tuple(k for k in check.cells if k in big) if big else ()
        if unknown:
            return Outcome(check, False, lhs, rhs, unknown=unknown, reason=TOO_LARGE)
        return Outcome(check, same(lhs, rhs), lhs, rhs)

    @staticmethod
    def large(values: Mapping[CellKey, Value]) -> frozenset[CellKey]:
        """The cells of ``values`` beyond VALUE_LIMIT (almost always none)."""
        return frozenset(k for k, v in values.items() if too_large(v))

    def depending(self, cells: Collection[CellKey], keep: Collection[CellKey] = ()) -> frozenset[CellKey]:
        """``cells`` and every computed total that adds any of them up (directly or through
        another total), except the totals in ``keep`` (typed over: constants in the sheet)."""
        out = set(cells)
        if not out:
            return frozenset()
        for key in self.total_order:
            if key in keep or key in out:
                continue
            check = self.computed[key]
            if any(d in out for d in check.leaf_keys(check.rhs)):
                out.add(key)
        return frozenset(out)

    def _cells(
        self, check: Check, values: Mapping[CellKey, Value], text: Mapping[CellKey, str], errors: Mapping[CellKey, str]
    ) -> Outcome:
        # Only the cells a clerk types: a computed total that goes negative because an input is
        # negative is the same mistake, reported once, as the sheet's R5 formula counts it.
        bad: list[tuple[CellKey, str]] = []
        for key, kind in self.typed_inputs[check]:
            if key in errors:
                bad.append((key, errors[key]))
                continue
            if key in text:
                bad.append((key, text[key]))
                continue
            v = values.get(key)
            # Whole non-negative numbers, almost every cell, need no further look.
            problem = None if v is None or (type(v) is int and 0 <= v <= VALUE_LIMIT) else cell_problem(kind, v)
            if problem:
                bad.append((key, problem))
        return Outcome(check, not bad, bad_cells=tuple(bad))

    def outcomes(
        self,
        values: Mapping[CellKey, Value],
        previous: Mapping[CellKey, Value] | None = None,
        *,
        text: Mapping[CellKey, str] = NO_CELLS,
        errors: Mapping[CellKey, str] = NO_CELLS,
    ) -> list[Outcome]:
        """Every check of the format; cross-year checks only when ``previous`` is given."""
        large, grouped = self.large(values), self.has_groups(values)
        return [
            self.evaluate(check, values, previous, text=text, errors=errors, large=large, grouped=grouped)
            for check in self.checks
            if check.rule.kind is not RuleKind.PREVIOUS or previous is not None
        ]

    def failing(self, values: Mapping[CellKey, Value]) -> int:
        """How many in-sheet check cells show ✘ for these values (the workbook's CHECK_FAILURES)."""
        full = self.with_totals(values)
        return sum(1 for o in self.outcomes(full) if o.check.in_sheet and not o.passed)

    def issues(
        self,
        report: Report,
        previous: Report | None = None,
        locate: Locator | None = None,
        *,
        text: Mapping[CellKey, str] = NO_CELLS,
        errors: Mapping[CellKey, str] = NO_CELLS,
    ) -> list[Issue]:
        """The issues of every failing relation check (R1–R8) of a report, in check order.

        ``previous`` must already be in this report's format (see :meth:`carried_over`).
        """
        where = locate or self.sheet_only
        out: list[Issue] = []
        prev_values = previous.values if previous is not None else None
        for outcome in self.outcomes(report.values, prev_values, text=text, errors=errors):
            if not outcome.passed:
                out.extend(outcome_issues(outcome, report, where))
        return out

    def sheet_only(self, key: CellKey) -> tuple[str, str]:
        return self.format.table(key[0]).sheet, ""

    # ------------------------------------------------------------------ cross-year

    def carried_over(self, previous: Report) -> tuple[Report, frozenset[str]]:
        """Last year's report in this format, and the cross-year rules it can serve.

        Last year may be of the other format (2020 reports use the 2019 format, 2021 the 2021
        one): a cross-year rule is checked only when every cell it needs from last year exists
        in last year's format; last year's values are then carried over by their ids.
        """
        pfmt = previous.format
        usable: set[str] = set()
        unusable: set[str] = set()
        for check in self.checks:
            if check.rule.kind is not RuleKind.PREVIOUS:
                continue
            ok = all(pfmt.has(t.key) for t in (*check.lhs, *check.rhs) if t.previous)
            (usable if ok else unusable).add(check.rule.id)
        if pfmt is not self.format:
            values = {k: v for k, v in previous.values.items() if self.format.has(k)}
            previous = replace(previous, format=self.format, values=values)
        return previous, frozenset(usable - unusable)

    def cross_year_issues(self, report: Report, previous: Report, locate: Locator | None = None) -> list[Issue]:
        """The cross-year warnings (R6–R8) of ``report`` against last year's ``previous``."""
        prev, usable = self.carried_over(previous)
        if not usable:
            return []
        where = locate or self.sheet_only
        out: list[Issue] = []
        for check in self.checks:
            if check.rule.kind is RuleKind.PREVIOUS and check.rule.id in usable:
                outcome = self.evaluate(check, report.values, prev.values)
                if not outcome.passed:
                    out.extend(outcome_issues(outcome, report, where))
        return out


def _expand(fmt: Format) -> tuple[Check, ...]:
    """All checks of a format, in a stable order (rule order, then table, row/column order)."""
    checks: list[Check] = []
    for rule in fmt.rules:
        if rule.kind not in (RuleKind.EQUATION, RuleKind.PREVIOUS, RuleKind.CELLS):
            continue  # narrative rules (R9, T1) read the texts: see rules.narrative
        tables = [fmt.table(t) for t in rule.tables] if rule.tables else list(fmt.tables)
        for table in tables:
            if rule.kind is RuleKind.CELLS:
                if any(table.cell_kind(r, c) is not CellKind.TEXT for r, c in table.cells()):
                    checks.append(Check(rule, table, ""))
                continue
            indices = table.leaf_rows if rule.each is Each.ROW else table.leaf_columns
            for node in indices:
                for i in range(len(rule.equations)):
                    checks.append(Check(rule, table, node.id, i))
    return tuple(checks)


@cache
def engine(fmt: Format) -> Engine:
    """The rule engine of a format (one per format object)."""
    return Engine(fmt)


# --------------------------------------------------------------------------- issues


def outcome_issues(o: Outcome, report: Report, locate: Locator) -> list[Issue]:
    """The issues of one failed check: one for an equation, one per bad cell for R5."""
    if o.check.rule.kind is RuleKind.CELLS:
        return [_cell_issue(o, key, problem, report, locate) for key, problem in o.bad_cells]
    return [_relation_issue(o, report, locate)]


def _cell_issue(o: Outcome, key: CellKey, problem: str, report: Report, locate: Locator) -> Issue:
    check, rule, table = o.check, o.check.rule, o.check.table
    rnode, cnode = table.row_nodes[key[1]], table.column_nodes[key[2]]
    v = report.values.get(key)
    message = rule.message.format(table=table.name, row=rnode.path_text or "数据", column=cnode.label, problem=problem)
    found = format_number(v) if v is not None else ""
    expected = table.cell_kind(key[1], key[2]).label
    return cell_rule_issue(rule, report, key, message, locate, found=found, expected=expected, key=check.key_text)


def cell_rule_issue(
    rule: Rule,
    report: Report,
    cell_key: CellKey,
    message: str,
    locate: Locator | None,
    *,
    found: str,
    expected: str,
    key: str,
) -> Issue:
    """An issue of a rule about one cell: named by its table, row and column, located by
    ``locate`` (else by its table's sheet), filed under ``key`` (what a 说明 refers to)."""
    table = report.format.table(cell_key[0])
    sheet, a1 = locate(cell_key) if locate else (table.sheet, "")
    return Issue(
        code=rule.id,
        severity=rule.severity,
        message=message,
        unit_code=report.unit.code,
        unit_name=report.unit.name,
        sheet=sheet,
        cell=a1,
        cells=(a1,) if a1 else (),
        table=table.id,
        row=cell_key[1],
        column=cell_key[2],
        row_label=table.row_nodes[cell_key[1]].path_text,
        column_label=table.column_nodes[cell_key[2]].path_text,
        found=found,
        expected=expected,
        key=key,
    )


def side_names(rule: Rule) -> tuple[str, str]:
    """The names of a relation's two sides from its short text (``一+二≠（七）+四`` gives
    ``一+二`` and ``（七）+四``); empty when the short text does not name them."""
    left, sep, right = rule.short.partition("≠")
    return (left.strip(), right.strip()) if sep else ("", "")


def _relation_issue(o: Outcome, report: Report, locate: Locator) -> Issue:
    check, rule, table = o.check, o.check.rule, o.check.table
    cells = check.cells
    located = [locate(k) for k in cells]
    _t, first_r, first_c = cells[0]
    row_label = table.row_nodes[check.index].path_text if rule.each is Each.ROW else ""
    column_label = table.column_nodes[check.index].path_text if rule.each is Each.COLUMN else ""
    column = table.column_nodes[check.index].label if rule.each is Each.COLUMN else ""
    lhs_name, rhs_name = side_names(rule)
    if o.unknown:
        # The sides cannot be computed: say which cells stand in the way, not a made-up difference.
        blocking = "、".join(dict.fromkeys(a1 for _s, a1 in map(locate, o.unknown) if a1)) or "有的单元格"
        where = f"“{column}”列" if column else f"“{row_label or check.name or '数据'}”"
        relation = rule.short.replace("≠", "=") or rule.title
        message = f"{table.name}{where}：无法校验 {relation}，因为 {blocking} {o.reason}。请先改正这些单元格。"
        expected = found = ""
    else:
        message = rule.message.format(
            table=table.name,
            row=row_label or "数据",
            column=column,
            name=check.name,
            lhs=format_number(o.lhs),
            rhs=format_number(o.rhs),
            diff=format_number(o.diff),
        )
        # 应为/实为 of a relation are its two sides, each with its name when the rule gives one.
        expected = f"{rhs_name}={format_number(o.rhs)}" if rhs_name else format_number(o.rhs)
        found = f"{lhs_name}={format_number(o.lhs)}" if lhs_name else format_number(o.lhs)
    return Issue(
        code=rule.id,
        severity=rule.severity,
        message=message,
        unit_code=report.unit.code,
        unit_name=report.unit.name,
        sheet=located[0][0],
        cell=located[0][1],
        cells=tuple(a1 for _s, a1 in located if a1),
        table=table.id,
        row=first_r if rule.each is Each.COLUMN else check.index,
        column=check.index if rule.each is Each.COLUMN else first_c,
        row_label=row_label or table.row_nodes[first_r].path_text,
        column_label=column_label or table.column_nodes[first_c].path_text,
        expected=expected,
        found=found,
        key=check.key_text,
    )


# --------------------------------------------------------------------------- shortcuts


def expand(fmt: Format) -> tuple[Check, ...]:
    """All checks of a format (see :class:`Engine`)."""
    return engine(fmt).checks


def computed_cells(fmt: Format) -> Mapping[CellKey, Check]:
    """Cells that a ``computes: true`` rule defines as the sum of others."""
    return engine(fmt).computed


def with_totals(fmt: Format, values: Mapping[CellKey, Value], keep: Iterable[CellKey] = ()) -> dict[CellKey, Value]:
    """``values`` with every computed total set (see :meth:`Engine.with_totals`)."""
    return engine(fmt).with_totals(values, keep)


def evaluate(check: Check, report: Report, previous: Report | None = None) -> Outcome:
    return engine(report.format).evaluate(check, report.values, previous.values if previous is not None else None)
