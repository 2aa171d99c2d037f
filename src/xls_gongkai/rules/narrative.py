"""The rules that read the report's text: numbers a section restates (R9) and what a section
must mention (T1), both declared in the format definition.

R9: a report's 一、总体情况 restates counts (受理 N 件, 办结 M 件, 复议 K 件); each *fact* of the
rule names the phrases it is found by and the cells it must equal. T1: from 2021 every report
states its 信息处理费 in 六. :func:`summary_text` writes the key counts the way R9 reads them (the
draft that ``render`` offers for an empty 一), so a rendered report agrees with itself.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache

from xls_gongkai.issues import Issue
from xls_gongkai.numbers import Value, format_number
from xls_gongkai.report import Report, group_value
from xls_gongkai.spec import CellKey, Fact, Format, Rule, RuleKind
from xls_gongkai.spec.load import PLACEHOLDER

#: Where a text section is in the source: ``(sheet, A1)``.
TextLocator = Callable[[str], tuple[str, str]]


@dataclass(frozen=True)
class Restated:
    """A number a text states, with the phrase it was read from and the cells it must equal."""

    name: str
    value: int
    phrase: str
    cells: tuple[CellKey, ...]


@cache
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _flat(text: str) -> str:
    return re.sub(r"[ \t\u3000]+", "", unicodedata.normalize("NFKC", text))


def restated_numbers(rule: Rule, text: str) -> list[Restated]:
    """The counts a text restates, by the rule's facts (the first mention of each)."""
    flat = _flat(text)
    out: list[Restated] = []
    for fact in rule.facts:
        found = _first(fact, flat, 0)
        if found is None:
            continue
        restated, end = found
        out.append(restated)
        if fact.clause:
            # "行政复议351件，其中结果维持72件…；": the counts that follow in the same clause.
            clause = re.split(r"[；;。]", flat[end:], maxsplit=1)[0]
            for sub in fact.clause:
                got = _first(sub, clause, 0)
                if got is not None:
                    out.append(got[0])
    return out


def _first(fact: Fact, flat: str, start: int) -> tuple[Restated, int] | None:
    best: re.Match[str] | None = None
    for pattern in fact.patterns:
        m = _compiled(pattern).search(flat, start)
        if m and (best is None or m.start() < best.start()):
            best = m
    if best is None:
        return None
    number = next(g for g in best.groups() if g is not None)
    phrase = flat[max(0, best.start() - 6) : best.end()]
    return Restated(fact.name, int(number), phrase, fact.cells), best.end()


def _describe(fmt: Format, cells: tuple[CellKey, ...]) -> str:
    """``表三“（一）予以公开”行“总计”列`` (several cells joined with 加)."""
    parts = [f"{fmt.table(t).name}{fmt.table(t).where(r, c)}" for t, r, c in cells]
    return "加".join(parts)


def narrative_issues(report: Report, locate: TextLocator | None = None) -> list[Issue]:
    """The issues of every restated (R9) and text (T1) rule of the report's format.

    The values must have their totals filled (a restated total is compared with what the
    tables add up to).
    """
    out: list[Issue] = []
    for rule in report.format.rules_of(RuleKind.RESTATED, RuleKind.TEXT):
        sheet, cell = locate(rule.section) if locate else ("", "")
        text = report.texts.get(rule.section, "")
        issues = _restated(rule, report, text) if rule.kind is RuleKind.RESTATED else _text(rule, report, text)
        out.extend(
            Issue(
                code=rule.id,
                severity=rule.severity,
                message=message,
                unit_code=report.unit.code,
                unit_name=report.unit.name,
                sheet=sheet,
                cell=cell,
                cells=(cell,) if cell else (),
                expected=expected,
                found=found,
                key=rule.id,
                **where,
            )
            for message, expected, found, where in issues
        )
    return out


_Found = tuple[str, str, str, dict[str, str]]


def _restated(rule: Rule, report: Report, text: str) -> Iterator[_Found]:
    fmt = report.format
    for fact in restated_numbers(rule, text):
        actual: Value = 0
        for key in fact.cells:
            actual += group_value(fmt, report.values, key)
        if actual == fact.value:
            continue
        t, r, c = fact.cells[0]
        table = fmt.table(t)
        message = rule.message.format(
            phrase=fact.phrase,
            name=fact.name,
            stated=fact.value,
            where=_describe(fmt, fact.cells),
            actual=format_number(actual),
        )
        where = {
            "table": t,
            "row": r,
            "column": c,
            "row_label": table.row_nodes[r].path_text,
            "column_label": table.column_nodes[c].path_text,
        }
        yield message, format_number(actual), str(fact.value), where


def _text(rule: Rule, report: Report, text: str) -> Iterator[_Found]:
    # An empty section is reported as such (text-missing); this rule is about what a text says.
    if text.strip() and not any(word in text for word in rule.mentions):
        yield rule.message, "、".join(rule.mentions), "", {}


def missing_mentions(report: Report) -> list[Rule]:
    """The text rules whose words the report's sections lack (render fills in their placeholders)."""
    return [
        r
        for r in report.format.rules_of(RuleKind.TEXT)
        if not any(word in report.texts.get(r.section, "") for word in r.mentions)
    ]


def summary_text(report: Report) -> str:
    """The key counts as the restated rule's ``summary`` sentence states them ("" when none)."""
    fmt = report.format
    for rule in fmt.rules_of(RuleKind.RESTATED):
        if not rule.summary:
            continue

        def fill(m: re.Match[str]) -> str:
            total: Value = 0
            for part in m.group(1).split("+"):
                t, r, c = part.strip().split(".")
                total += group_value(fmt, report.values, (t, r, c))
            return format_number(total)

        return PLACEHOLDER.sub(fill, rule.summary)
    return ""
