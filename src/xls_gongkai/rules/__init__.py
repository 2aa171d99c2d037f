"""The rules of a format as Python: one engine for the relations, one for the texts.

:mod:`~xls_gongkai.rules.engine` — every relation (R1–R8): checks, totals, verdicts, cross-year.
:mod:`~xls_gongkai.rules.narrative` — the rules that read the texts (R9 restated numbers, T1).
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
from xls_gongkai.rules.localise import Localisation, localisation_issues, localise
from xls_gongkai.rules.narrative import (
    Restated,
    TextLocator,
    missing_mentions,
    narrative_issues,
    restated_numbers,
    summary_text,
)
from xls_gongkai.rules.plausible import plausible_issues
from xls_gongkai.spec import CellKey, RuleKind

__all__ = [
    "HAS_ERROR",
    "TOO_LARGE",
    "Check",
    "Engine",
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
    "localisation_issues",
    "localise",
    "missing_mentions",
    "narrative_issues",
    "outcome_issues",
    "plausible_issues",
    "restated_numbers",
    "same",
    "side_names",
    "summary_text",
    "too_large",
    "with_totals",
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
    then which cell is probably wrong when relations fail, then the cross-year rules against
    ``previous`` (last year's report, of either format), then the text rules. ``locate`` maps a
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
    if previous is not None:
        issues += eng.cross_year_issues(report, previous, locate)
    issues += plausible_issues(report, locate)
    issues += narrative_issues(report, locate_text)
    return issues


def _relation_ids(report: Report) -> frozenset[str]:
    return frozenset(r.id for r in report.format.rules_of(RuleKind.EQUATION))
