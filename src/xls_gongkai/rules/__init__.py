"""The rules of a format as Python: one engine for the relations, one for the texts.

:mod:`~xls_gongkai.rules.engine` — every relation (R1–R8): checks, totals, verdicts, cross-year.
:mod:`~xls_gongkai.rules.narrative` — the rules that read the texts (R9 restated numbers, T1).
:func:`check_report` runs them all on one report.
"""

from __future__ import annotations

from xls_gongkai.issues import Issue
from xls_gongkai.report import Report
from xls_gongkai.rules.engine import (
    Check,
    Engine,
    Locator,
    Outcome,
    Term,
    cell_problem,
    computed_cells,
    engine,
    evaluate,
    expand,
    outcome_issues,
    with_totals,
)
from xls_gongkai.rules.narrative import (
    Restated,
    TextLocator,
    missing_mentions,
    narrative_issues,
    restated_numbers,
    summary_text,
)

__all__ = [
    "Check",
    "Engine",
    "Locator",
    "Outcome",
    "Restated",
    "Term",
    "TextLocator",
    "cell_problem",
    "check_report",
    "computed_cells",
    "engine",
    "evaluate",
    "expand",
    "missing_mentions",
    "narrative_issues",
    "outcome_issues",
    "restated_numbers",
    "summary_text",
    "with_totals",
]


def check_report(
    report: Report,
    previous: Report | None = None,
    locate: Locator | None = None,
    locate_text: TextLocator | None = None,
) -> list[Issue]:
    """Every rule issue of a report whose values hold their totals: relations in check order,
    then the cross-year rules against ``previous`` (last year's report, of either format), then
    the text rules. ``locate`` maps a cell key to ``(sheet, A1)``, ``locate_text`` a text
    section id; without them issues name only the sheet."""
    eng = engine(report.format)
    issues = eng.issues(report, locate=locate)
    if previous is not None:
        issues += eng.cross_year_issues(report, previous, locate)
    issues += narrative_issues(report, locate_text)
    return issues
