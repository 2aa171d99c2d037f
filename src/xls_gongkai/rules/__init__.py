"""The rules of a format as Python: one engine for the relations, one for the texts.

:mod:`~xls_gongkai.rules.engine` — every relation (R1–R8): checks, totals, verdicts, cross-year.
:mod:`~xls_gongkai.rules.narrative` — the rules that read the texts (R9 restated numbers, T1–T4).
:mod:`~xls_gongkai.rules.plausible` — values that can be right but seldom are (P1–P3).
:mod:`~xls_gongkai.rules.indicators` — the format's indicators (实质公开率…).
:mod:`~xls_gongkai.rules.localise` — which cell is probably wrong when relations fail.
:func:`check_report` runs them all on one report.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from xls_gongkai.issues import Issue
from xls_gongkai.report import Report
from xls_gongkai.rules.engine import (
    HAS_ERROR,
    NO_CELLS,
    TOO_LARGE,
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
    same,
    side_names,
    too_large,
    with_totals,
)
from xls_gongkai.rules.indicators import IndicatorValue, indicators
from xls_gongkai.rules.localise import Localisation, localisation_issues, localise
from xls_gongkai.rules.narrative import (
    Restated,
    TextLocator,
    missing_mentions,
    narrative_issues,
    previous_text_issues,
    restated_numbers,
    summary_text,
)
from xls_gongkai.rules.plausible import jump_issues, peer_issues, plausible_issues
from xls_gongkai.spec import CellKey, RuleKind

__all__ = [
    "HAS_ERROR",
    "TOO_LARGE",
    "Check",
    "Engine",
    "IndicatorValue",
    "Localisation",
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
    "indicators",
    "jump_issues",
    "localisation_issues",
    "localise",
    "missing_mentions",
    "narrative_issues",
    "outcome_issues",
    "peer_issues",
    "plausible_issues",
    "previous_text_issues",
    "restated_numbers",
    "same",
    "side_names",
    "summary_text",
    "too_large",
    "with_totals",
    "year_on_year_issues",
]


def check_report(
    report: Report,
    previous: Report | None = None,
    locate: Locator | None = None,
    locate_text: TextLocator | None = None,
    *,
    text: Mapping[CellKey, str] = NO_CELLS,
    errors: Mapping[CellKey, str] = NO_CELLS,
    typed: Collection[CellKey] = (),
) -> list[Issue]:
    """Every rule issue of a report whose values hold their totals: relations in check order,
    then which cell is probably wrong when relations fail, then plausibility, the text rules and
    the rules against ``previous`` (last year's report, of either format). ``locate`` maps a
    cell key to ``(sheet, A1)``, ``locate_text`` a text section id; without them issues name
    only the sheet. ``text`` and ``errors`` are the cells of a workbook holding text or an
    error value where a number belongs (see :meth:`Engine.evaluate`). ``typed`` are the cells
    whose values were typed or printed: the computed totals among them are data that may be
    wrong, the others formulas (see :func:`localise`)."""
    eng = engine(report.format)
    issues = eng.issues(report, locate=locate, text=text, errors=errors)
    # A summary's failures come from its units' figures, each localised in the unit's own report.
    if report.units == 1 and any(i.code in _relation_ids(report) for i in issues):
        issues += localisation_issues(report, locate, typed, errors=errors)
    issues += plausible_issues(report, locate)
    issues += narrative_issues(report, locate_text)
    if previous is not None:
        issues += year_on_year_issues(report, previous, locate, locate_text)
    return issues


def year_on_year_issues(
    report: Report, previous: Report, locate: Locator | None = None, locate_text: TextLocator | None = None
) -> list[Issue]:
    """Every issue that compares a report with last year's (of either format): the cross-year
    relations (R6–R8), jumps (P2) and a copied 一、总体情况 (T4)."""
    return [
        *engine(report.format).cross_year_issues(report, previous, locate),
        *jump_issues(report, previous, locate),
        *previous_text_issues(report, previous, locate_text),
    ]


def _relation_ids(report: Report) -> frozenset[str]:
    return frozenset(r.id for r in report.format.rules_of(RuleKind.EQUATION))
