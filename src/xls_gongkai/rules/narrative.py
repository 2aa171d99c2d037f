"""The rules that read the report's text, all declared in the format definition.

R9: a report's 一、总体情况 restates counts (受理 N 件, 办结 M 件, 复议 K 件); each *fact* of the
rule names the phrases it is found by and the cells it must equal. Text rules, by their test:
``mentions`` (T1: from 2021 every report states its 信息处理费 in 六), ``short`` (T2: 五 is more
than a few words), ``contradicts`` (T3: a fee above zero in 表二 while 六 says none was
charged), ``copied`` (T4: 一 is not last year's text again). :func:`summary_text` writes the key
counts the way R9 reads them (the draft that ``render`` offers for an empty 一), so a rendered
report agrees with itself.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
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
    """The issues of every restated (R9) and text (T1–T3) rule of the report's format (T4, which
    compares with last year, is :func:`previous_text_issues`).

    The values must have their totals filled (a restated total is compared with what the
    tables add up to).
    """
    rules = [r for r in report.format.rules_of(RuleKind.RESTATED, RuleKind.TEXT) if r.test != "copied"]
    return _narrative(report, rules, locate, None)


def previous_text_issues(report: Report, previous: Report, locate: TextLocator | None = None) -> list[Issue]:
    """The text rules that compare with last year's report (T4: 一 copied from it)."""
    rules = [r for r in report.format.rules_of(RuleKind.TEXT) if r.test == "copied"]
    return _narrative(report, rules, locate, previous)


def _narrative(report: Report, rules: list[Rule], locate: TextLocator | None, previous: Report | None) -> list[Issue]:
    out: list[Issue] = []
    for rule in rules:
        sheet, cell = locate(rule.section) if locate else ("", "")
        text = report.texts.get(rule.section, "")
        if rule.kind is RuleKind.RESTATED:
            issues = _restated(rule, report, text)
        else:
            issues = _TEXT_TESTS[rule.test or "mentions"](rule, report, text, previous)
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


# An empty section is reported as such (text-missing); these rules are about what a text says.


def _mentions(rule: Rule, report: Report, text: str, previous: Report | None) -> Iterator[_Found]:
    if text.strip() and not any(word in text for word in rule.mentions):
        yield rule.message, "、".join(rule.mentions), "", {}


def _short(rule: Rule, report: Report, text: str, previous: Report | None) -> Iterator[_Found]:
    length = len(_SPACE.sub("", text))
    least = int(rule.param("min_length", 30))
    if 0 < length < least:
        yield rule.message.format(length=length), f"≥ {least} 字", f"{length} 字", {}


def _contradicts(rule: Rule, report: Report, text: str, previous: Report | None) -> Iterator[_Found]:
    said = next((w for w in rule.words if w in text), "")
    if not said:
        return
    fmt = report.format
    for key in rule.cells:
        v = group_value(fmt, report.values, key)
        if v > 0:
            table = fmt.table(key[0])
            place = f"{table.name}{table.where(key[1], key[2])}"
            where = {"table": key[0], "row": key[1], "column": key[2]}
            yield rule.message.format(place=place, value=format_number(v), word=said), "0", format_number(v), where


def _copied(rule: Rule, report: Report, text: str, previous: Report | None) -> Iterator[_Found]:
    before = previous.texts.get(rule.section, "") if previous is not None else ""
    now, then = _SPACE.sub("", text), _SPACE.sub("", before)
    if min(len(now), len(then)) < 50:  # too short to call a copy
        return
    ratio = difflib.SequenceMatcher(None, now, then, autojunk=False).ratio()
    if ratio >= float(rule.param("similarity", Decimal("0.9"))):
        shown = f"{ratio:.0%}"
        yield rule.message.format(similarity=shown), "", shown, {}


_TEXT_TESTS = {"mentions": _mentions, "short": _short, "contradicts": _contradicts, "copied": _copied}
_SPACE = re.compile(r"\s+")


def missing_mentions(report: Report) -> list[Rule]:
    """The text rules whose words the report's sections lack (render fills in their placeholders)."""
    return [
        r
        for r in report.format.rules_of(RuleKind.TEXT)
        if r.test in ("", "mentions") and not any(word in report.texts.get(r.section, "") for word in r.mentions)
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
