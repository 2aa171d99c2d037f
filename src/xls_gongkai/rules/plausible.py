"""Plausibility rules: values that can be right but seldom are, each a warning a unit may explain.

Declared in the format file (``kind: plausible``, a ``test`` and its ``params``), like every
other rule. ``yuan``: an amount in a 万元 cell of one unit's report that is at or above
``at_least``, or a whole number at or above ``whole_at_least`` — most often the figure in 元
typed where 万元 belong (251000 for 25.1; a figure in 万元 converted from 元 seldom comes out
whole). A summary adds up many units, so this test does not apply to it.
"""

from __future__ import annotations

from decimal import Decimal

from xls_gongkai.issues import Issue
from xls_gongkai.numbers import format_number
from xls_gongkai.report import Report
from xls_gongkai.rules.engine import Locator
from xls_gongkai.spec import CellKind, Rule, RuleKind

__all__ = ["plausible_issues"]


def plausible_issues(report: Report, locate: Locator | None = None) -> list[Issue]:
    """The warnings of every plausibility rule of the report's format."""
    out: list[Issue] = []
    for rule in report.format.rules:
        if rule.kind is RuleKind.PLAUSIBLE and rule.test == "yuan" and report.units == 1:
            out.extend(_yuan(rule, report, locate))
    return out


def _yuan(rule: Rule, report: Report, locate: Locator | None) -> list[Issue]:
    fmt = report.format
    at_least = rule.param("at_least", 100000)
    whole_at_least = rule.param("whole_at_least", at_least)
    out: list[Issue] = []
    for table in (fmt.table(t) for t in rule.tables) if rule.tables else fmt.tables:
        for rid, cid in table.cells():
            if table.cell_kind(rid, cid) is not CellKind.AMOUNT:
                continue
            v = report.values.get((table.id, rid, cid))
            if v is None or not (v >= at_least or (v >= whole_at_least and v == int(v))):
                continue
            sheet, cell = locate((table.id, rid, cid)) if locate else (table.sheet, "")
            place = f"{table.name}{table.where(rid, cid)}" + (f"（{cell}）" if cell else "")
            yi = format_number(Decimal(v) / 10000)
            out.append(
                Issue(
                    code=rule.id,
                    severity=rule.severity,
                    message=rule.message.format(place=place, value=format_number(v), yi=yi),
                    unit_code=report.unit.code,
                    unit_name=report.unit.name,
                    sheet=sheet,
                    cell=cell,
                    cells=(cell,) if cell else (),
                    table=table.id,
                    row=rid,
                    column=cid,
                    row_label=table.row_nodes[rid].path_text,
                    column_label=table.column_nodes[cid].path_text,
                    found=format_number(v),
                    expected="",
                    key="|".join((rule.id, table.id, rid, cid)),
                )
            )
    return out
