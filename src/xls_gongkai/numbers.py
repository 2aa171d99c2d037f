"""Numbers as the report holds and shows them: exact values, and the way Excel prints them.

A leaf module: parsers, the report, the rule engine and every writer use it, and it uses
nothing of the package but the cell kinds.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from xls_gongkai.spec.model import CellKind

#: A cell's value: counts are ``int``, amounts ``Decimal`` (sums over a thousand units are exact).
Value = int | Decimal


def format_number(v: Value | float) -> str:
    """A number as Excel's General format shows it when joined to text (3, -3, 13.7951).

    Floats are shown by their shortest repr, so no message ever shows float noise
    (0.30000000000000004 is shown as Excel shows it, 0.3).
    """
    if isinstance(v, int):
        return str(v)
    d = Decimal(repr(v)) if isinstance(v, float) else v
    if isinstance(v, float) and abs(v) < 1e15:
        d = round(d, 10)
    if d == d.to_integral_value():
        return str(int(d))
    return format(d.normalize(), "f")


def coerce_value(kind: CellKind, v: Any) -> Value:
    """The canonical Python value of a number for a cell of ``kind``.

    Amounts are ``Decimal``; counts are ``int`` when whole (a fractional count stays a
    ``Decimal`` so that the checks can report it rather than lose it).
    """
    if isinstance(v, bool) or not isinstance(v, int | float | Decimal | str):
        raise ValueError(f"不是数值：{v!r}")
    d = Decimal(repr(v)) if isinstance(v, float) else Decimal(v)
    if not d.is_finite():
        raise ValueError(f"不是数值：{v!r}")
    if kind is CellKind.AMOUNT:
        return d
    return int(d) if d == d.to_integral_value() else d


def as_float(v: Value) -> float | int:
    """For writers that take floats (xlsxwriter, pandas): ints stay ints."""
    return float(v) if isinstance(v, Decimal) else v
