"""Indicators declared by the format (实质公开率, 复议纠错率…), computed from a report's tables.

A ratio of two sums of cells. A summary's indicator is computed from its sums — the county's
实质公开率 is the county's （一）+（二） over its （七）, never an average of the units' rates.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from xls_gongkai.report import Report, group_value
from xls_gongkai.rules.engine import engine
from xls_gongkai.spec import Indicator

__all__ = ["IndicatorValue", "indicators"]


@dataclass(frozen=True)
class IndicatorValue:
    indicator: Indicator
    #: None when the denominator is 0 (nothing to divide by: shown as —)
    value: Decimal | None

    @property
    def text(self) -> str:
        """As shown to a clerk: ``45.2%``, ``0.83`` or ``—``."""
        x = self.indicator
        if self.value is None:
            return "—"
        shown = self.value * 100 if x.percent else self.value
        rounded = shown.quantize(Decimal(1).scaleb(-x.decimals), ROUND_HALF_UP)
        return f"{rounded}%" if x.percent else str(rounded)


def indicators(report: Report) -> tuple[IndicatorValue, ...]:
    """Every indicator of the report's format, from its values (totals it lacks are added up;
    the ones it holds stand, as a published report printed them)."""
    fmt = report.format
    if not fmt.indicators:
        return ()
    values = engine(fmt).with_totals(report.values, keep=report.values.keys())
    out = []
    for x in fmt.indicators:
        num = sum((Decimal(group_value(fmt, values, k)) for k in x.numerator if fmt.has(k)), Decimal(0))
        den = sum((Decimal(group_value(fmt, values, k)) for k in x.denominator if fmt.has(k)), Decimal(0))
        out.append(IndicatorValue(x, num / den if den else None))
    return tuple(out)
