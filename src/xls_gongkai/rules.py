"""The rule engine: every cross-check rule (勾稽关系) of a format, as Python checks.

A rule of the format expands into *checks*: one per row or per column it holds in (R2 holds in
every row of 表三, so it has one check per row), one per table for the cell rule R5. A check is
the unit that the workbook shows as one ✔/✘ cell and that the Python engine counts as passed or
failed; :mod:`xls_gongkai.workbook.formulas` compiles the same check into that cell's formula, so the two
cannot disagree about what a rule means.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import cache

from xls_gongkai.issues import Issue
from xls_gongkai.report import CellKey, Report, Value
from xls_gongkai.spec import CellKind, Each, Format, Node, Rule, RuleKind, Severity, Table, Term

#: ``(sign, previous, table, row, column)`` — one term of an equation; row or column may be a group.
Cell = tuple[int, bool, str, str, str]


@dataclass(frozen=True)
class Check:
    """One instance of a rule: one equation in one row or column, or R5 over one table."""

    rule: Rule
    table: Table
    index: str  # the row id (each: row) or column id (each: column); "" for R5
    equation: int = 0

    @property
    def key(self) -> tuple[str, str, str, int]:
        return (self.rule.id, self.table.id, self.index, self.equation)

    def _cells(self, terms: tuple[Term, ...]) -> tuple[Cell, ...]:
        out: list[Cell] = []
        for term in terms:
            if self.rule.each is Each.COLUMN:
                out.append((term.sign, term.previous, self.table.id, term.id, self.index))
            else:
                out.append((term.sign, term.previous, self.table.id, self.index, term.id))
        return tuple(out)

    @property
    def lhs(self) -> tuple[Cell, ...]:
        return self._cells(self.rule.equations[self.equation].lhs)

    @property
    def rhs(self) -> tuple[Cell, ...]:
        return self._cells(self.rule.equations[self.equation].rhs)

    @property
    def name(self) -> str:
        return self.rule.equations[self.equation].name if self.rule.equations else ""

    @property
    def in_sheet(self) -> bool:
        """Whether the workbook carries a check cell for it (cross-year rules need last year's data)."""
        return self.rule.kind is not RuleKind.PREVIOUS

    @property
    def index_label(self) -> str:
        if self.rule.each is Each.COLUMN:
            return self.table.column_nodes[self.index].path_text
        if self.rule.each is Each.ROW:
            return self.table.row_nodes[self.index].path_text
        return ""

    def leaf_keys(self, side: tuple[Cell, ...]) -> tuple[CellKey, ...]:
        """The value cells a side of the equation covers (groups expanded), this year only."""
        keys: list[CellKey] = []
        for _sign, previous, t, r, c in side:
            if previous:
                continue
            for rn in self.table.row_nodes[r].leaves():
                for cn in self.table.column_nodes[c].leaves():
                    keys.append((t, rn.id, cn.id))
        return tuple(keys)


@cache
def expand(fmt: Format) -> tuple[Check, ...]:
    """All checks of a format, in a stable order (rule order, then table, row/column order)."""
    checks: list[Check] = []
    for rule in fmt.rules:
        tables = [fmt.table(t) for t in rule.tables] if rule.tables else list(fmt.tables)
        for table in tables:
            if rule.kind is RuleKind.CELLS:
                if any(table.cell_kind(r, c) is not CellKind.TEXT for r, c in table.cells()):
                    checks.append(Check(rule, table, ""))
                continue
            indices: tuple[Node, ...] = table.leaf_rows if rule.each is Each.ROW else table.leaf_columns
            for node in indices:
                for i in range(len(rule.equations)):
                    checks.append(Check(rule, table, node.id, i))
    return tuple(checks)


@cache
def computed_cells(fmt: Format) -> Mapping[CellKey, Check]:
    """Cells that a ``computes: true`` rule defines as the sum of others (first rule wins)."""
    out: dict[CellKey, Check] = {}
    for check in expand(fmt):
        if check.rule.computes:
            _sign, _prev, t, r, c = check.lhs[0]
            out.setdefault((t, r, c), check)
    return out


# --------------------------------------------------------------------------- evaluation


def side_value(report: Report, side: tuple[Cell, ...], previous: Report | None = None) -> Value:
    total: Value = 0
    for sign, prev, t, r, c in side:
        source = previous if prev else report
        if source is None:
            raise ValueError("a cross-year check needs last year's report")
        total += sign * source.value(t, r, c)
    return total


def cell_problem(kind: CellKind, v: Value) -> str | None:
    """Why a value breaks R5 for a cell of ``kind``, or None when it is fine."""
    if kind is CellKind.TEXT:
        return None
    if kind in (CellKind.COUNT, CellKind.SIGNED) and isinstance(v, Decimal) and v != v.to_integral_value():
        return f"应为整数，填的是 {format_number(v)}"
    if kind in (CellKind.COUNT, CellKind.AMOUNT) and v < 0:
        return f"不能为负数，填的是 {format_number(v)}"
    return None


@dataclass(frozen=True)
class Outcome:
    """The result of one check on one report."""

    check: Check
    passed: bool
    lhs: Value = 0
    rhs: Value = 0
    bad_cells: tuple[tuple[CellKey, str], ...] = ()  # R5: (cell, problem)

    @property
    def diff(self) -> Value:
        return self.lhs - self.rhs


def evaluate(check: Check, report: Report, previous: Report | None = None) -> Outcome:
    if check.rule.kind is RuleKind.CELLS:
        # Only the cells a clerk types: a computed total that goes negative because an input is
        # negative is the same mistake, reported once, as the sheet's R5 formula counts it.
        computed = computed_cells(report.format)
        bad: list[tuple[CellKey, str]] = []
        for r, c in check.table.cells():
            v = report.get(check.table.id, r, c)
            if v is None or (check.table.id, r, c) in computed:
                continue
            problem = cell_problem(check.table.cell_kind(r, c), v)
            if problem:
                bad.append(((check.table.id, r, c), problem))
        return Outcome(check, not bad, bad_cells=tuple(bad))
    lhs = side_value(report, check.lhs, previous)
    rhs = side_value(report, check.rhs, previous)
    return Outcome(check, lhs == rhs, lhs, rhs)


def outcomes(report: Report, previous: Report | None = None) -> Iterator[Outcome]:
    """Every check of the report's format; cross-year checks only when ``previous`` is given."""
    for check in expand(report.format):
        if check.rule.kind is RuleKind.PREVIOUS and previous is None:
            continue
        yield evaluate(check, report, previous)


def failing_in_sheet(report: Report) -> int:
    """How many in-sheet check cells show ✘ for this report (the workbook's CHECK_FAILURES)."""
    return sum(1 for o in outcomes(report) if o.check.in_sheet and not o.passed)


Locator = Callable[[CellKey], tuple[str, str]]


def check_report(report: Report, previous: Report | None = None, locate: Locator | None = None) -> list[Issue]:
    """All rule issues of a report, in check order.

    ``locate`` maps a cell key to ``(sheet, A1)``; by default the generated template's layout.
    """
    if locate is None:
        from xls_gongkai.workbook.layout import layout_for

        lay = layout_for(report.format)

        def locate(key: CellKey) -> tuple[str, str]:
            pos = lay.pos(*key)
            return pos.sheet, pos.a1

    issues: list[Issue] = []
    for outcome in outcomes(report, previous):
        if not outcome.passed:
            issues.extend(outcome_issues(outcome, report, locate))
    return issues


def outcome_issues(o: Outcome, report: Report, locate: Locator) -> Iterator[Issue]:
    """The issues of one failed check: one for an equation, one per bad cell for R5."""
    check, rule, table = o.check, o.check.rule, o.check.table
    if rule.kind is RuleKind.CELLS:
        for key, problem in o.bad_cells:
            sheet, a1 = locate(key)
            rnode, cnode = table.row_nodes[key[1]], table.column_nodes[key[2]]
            yield Issue(
                code=rule.id,
                severity=rule.severity,
                message=rule.message.format(
                    table=_table_name(table), row=rnode.path_text or "数据", column=cnode.label, problem=problem
                ),
                unit_code=report.unit.code,
                unit_name=report.unit.name,
                sheet=sheet,
                cell=a1,
                table=table.id,
                row=key[1],
                column=key[2],
                row_label=rnode.path_text,
                column_label=cnode.path_text,
                found=format_number(report.values[key]),
                expected=check.table.cell_kind(key[1], key[2]).label,
            )
        return
    lhs_keys = check.leaf_keys(check.lhs)
    cells = lhs_keys + check.leaf_keys(check.rhs)
    located = [locate(k) for k in cells]
    _first_t, first_r, first_c = cells[0]
    row_label = table.row_nodes[check.index].path_text if rule.each is Each.ROW else ""
    column_label = table.column_nodes[check.index].path_text if rule.each is Each.COLUMN else ""
    yield Issue(
        code=rule.id,
        severity=rule.severity,
        message=rule.message.format(
            table=_table_name(table),
            row=row_label or "数据",
            column=table.column_nodes[check.index].label if rule.each is Each.COLUMN else "",
            name=check.name,
            lhs=format_number(o.lhs),
            rhs=format_number(o.rhs),
            diff=format_number(o.diff),
        ),
        unit_code=report.unit.code,
        unit_name=report.unit.name,
        sheet=located[0][0],
        cell=located[0][1],
        cells=tuple(a1 for _s, a1 in located),
        table=table.id,
        row=first_r if rule.each is Each.COLUMN else check.index,
        column=check.index if rule.each is Each.COLUMN else first_c,
        row_label=row_label or table.row_nodes[first_r].path_text,
        column_label=column_label or table.column_nodes[first_c].path_text,
        expected=format_number(o.rhs),
        found=format_number(o.lhs),
    )


def _table_name(table: Table) -> str:
    # 表三/表四 are whole tables; 表二's blocks are named by sheet and block title.
    return table.sheet if "、" in table.title else f"{table.sheet}{table.title}"


def format_number(v: Value | float) -> str:
    """A number as Excel's General format shows it when joined to text (3, -3, 13.7951)."""
    if isinstance(v, int):
        return str(v)
    d = Decimal(str(v)) if isinstance(v, float) else v
    if d == d.to_integral_value():
        return str(int(d))
    return format(d.normalize(), "f")


__all__ = [
    "Check",
    "Outcome",
    "Severity",
    "check_report",
    "computed_cells",
    "evaluate",
    "expand",
    "failing_in_sheet",
    "format_number",
    "outcome_issues",
    "outcomes",
]
