"""Plausibility rules: values that can be right but seldom are, each a warning a unit may explain.

Declared in the format file (``kind: plausible``, a ``test``, its ``cells`` and ``params``), like
every other rule:

* ``yuan`` — an amount in a 万元 cell of one unit's report that is at or above ``at_least``, or a
  whole number at or above ``whole_at_least``: most often the figure in 元 typed where 万元
  belong (251000 for 25.1; a figure in 万元 converted from 元 seldom comes out whole). A summary
  adds up many units, so this test does not apply to it.
* ``jump`` — against last year's report: a cell that is ``factor`` times last year's or more (or
  a ``factor``-th or less) and differs from it by ``floor`` or more.
* ``peers`` — within a batch of units' reports: a cell whose robust z-score is above ``z``, when
  the batch has at least ``min_units`` units. Counts are skewed (a 公安局 receives ten times the
  applications of a township, and that is no mistake), so the score is taken on log(1 + x): the
  distance from the median in units of 1.4826 × the median absolute deviation. Only a figure far
  above its peers is named: slips (a digit too many, 元 for 万元) make figures larger, and a
  township with one application is no news. Summaries are not compared with units.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterator, Sequence
from decimal import Decimal

from xls_gongkai.issues import Issue
from xls_gongkai.numbers import Value, format_number
from xls_gongkai.report import Report, group_value
from xls_gongkai.rules.engine import Locator, cell_rule_issue
from xls_gongkai.spec import CellKey, CellKind, Format, Rule, RuleKind

__all__ = ["jump_issues", "peer_issues", "plausible_issues"]


def plausible_issues(report: Report, locate: Locator | None = None) -> list[Issue]:
    """The warnings of the plausibility rules that look at one report alone."""
    out: list[Issue] = []
    for rule in report.format.rules_of(RuleKind.PLAUSIBLE):
        if rule.test == "yuan" and report.units == 1:
            out.extend(_yuan(rule, report, locate))
    return out


def jump_issues(report: Report, previous: Report, locate: Locator | None = None) -> list[Issue]:
    """The warnings of the plausibility rules that compare with last year's report."""
    return [
        i
        for rule in report.format.rules_of(RuleKind.PLAUSIBLE)
        if rule.test == "jump"
        for i in _jump(rule, report, previous, locate)
    ]


def _place(fmt: Format, key: CellKey, cell: str) -> str:
    table = fmt.table(key[0])
    return f"{table.name}{table.where(key[1], key[2])}" + (f"（{cell}）" if cell else "")


def _issue(
    rule: Rule, report: Report, key: CellKey, locate: Locator | None, message: str, found: Value, expected: str = ""
) -> Issue:
    code = "|".join((rule.id, *key))
    return cell_rule_issue(rule, report, key, message, locate, found=format_number(found), expected=expected, key=code)


def _cells(rule: Rule, fmt: Format, kind: CellKind | None = None) -> Iterator[CellKey]:
    if rule.cells:
        yield from (k for k in rule.cells if fmt.has(k))
        return
    for table in (fmt.table(t) for t in rule.tables) if rule.tables else fmt.tables:
        for rid, cid in table.cells():
            if kind is None or table.cell_kind(rid, cid) is kind:
                yield (table.id, rid, cid)


def _yuan(rule: Rule, report: Report, locate: Locator | None) -> Iterator[Issue]:
    at_least = rule.param("at_least", 100000)
    whole_at_least = rule.param("whole_at_least", at_least)
    for key in _cells(rule, report.format, CellKind.AMOUNT):
        v = report.values.get(key)
        if v is None or not (v >= at_least or (v >= whole_at_least and v == int(v))):
            continue
        cell = locate(key)[1] if locate else ""
        yi = format_number(Decimal(v) / 10000)
        message = rule.message.format(place=_place(report.format, key, cell), value=format_number(v), yi=yi)
        yield _issue(rule, report, key, locate, message, v)


def _jump(rule: Rule, report: Report, previous: Report, locate: Locator | None) -> Iterator[Issue]:
    factor, floor = rule.param("factor", 5), rule.param("floor", 20)
    for key in _cells(rule, report.format):
        then_ = previous.values.get(key)
        if then_ is None:  # last year's figure is not known: nothing to compare
            continue
        now, then = group_value(report.format, report.values, key), then_
        low, high = sorted((now, then))
        if high - low < floor or high < factor * low:
            continue
        if now > then:
            change = f"是上年的 {format_number(round(Decimal(now) / Decimal(then), 1))} 倍" if then else "上年为 0"
        else:
            change = f"只有上年的 {Decimal(now) / Decimal(then):.0%}" if now else "本年为 0"
        cell = locate(key)[1] if locate else ""
        message = rule.message.format(
            place=_place(report.format, key, cell),
            value=format_number(now),
            previous=format_number(then),
            change=change,
        )
        yield _issue(rule, report, key, locate, message, now, f"上年 {format_number(then)}")


def peer_issues(reports: Sequence[tuple[Report, Locator | None]]) -> list[list[Issue]]:
    """The ``peers`` warnings of each of a batch's reports (in the order given): a unit's figure
    far from the other units' of the same format. Summaries are left out of the comparison."""
    out: list[list[Issue]] = [[] for _ in reports]
    by_format: dict[Format, list[int]] = {}
    for i, (report, _locate) in enumerate(reports):
        if report.units == 1:
            by_format.setdefault(report.format, []).append(i)
    for fmt, members in by_format.items():
        for rule in fmt.rules_of(RuleKind.PLAUSIBLE):
            if rule.test != "peers" or len(members) < rule.param("min_units", 8):
                continue
            for key in _cells(rule, fmt):
                values = [Decimal(group_value(fmt, reports[i][0].values, key)) for i in members]
                for i, z, median in _outliers(values, float(rule.param("z", Decimal("3.5")))):
                    report, locate = reports[members[i]]
                    cell = locate(key)[1] if locate else ""
                    message = rule.message.format(
                        place=_place(fmt, key, cell),
                        value=format_number(values[i]),
                        direction="高于" if z > 0 else "低于",
                        n=len(members),
                        median=format_number(median),
                    )
                    expected = f"中位数 {format_number(median)}"
                    out[members[i]].append(_issue(rule, report, key, locate, message, values[i], expected))
    return out


def _outliers(values: Sequence[Decimal], limit: float) -> Iterator[tuple[int, float, Decimal]]:
    """(index, robust z, median of the values) of each value above ``limit``, the score taken on
    log(1 + x). The scale is 1.4826 × the median absolute deviation, or 1.2533 × the mean
    absolute deviation when most values are equal."""
    logs = [math.log1p(max(float(v), 0.0)) for v in values]
    centre = statistics.median(logs)
    deviations = [abs(x - centre) for x in logs]
    scale = 1.4826 * statistics.median(deviations) or 1.2533 * sum(deviations) / len(logs)
    if scale == 0:
        return
    median = statistics.median(values)
    for i, x in enumerate(logs):
        z = (x - centre) / scale
        if z > limit:
            yield i, z, median
