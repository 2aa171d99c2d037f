"""values.parse_cell: raw cell values (as calamine returns them) → numbers of a cell kind."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xls_gongkai.issues import Code
from xls_gongkai.parsing.values import cell_text, is_blank, parse_cell
from xls_gongkai.spec import CellKind, Severity

C, S, A = CellKind.COUNT, CellKind.SIGNED, CellKind.AMOUNT


@pytest.mark.parametrize(
    ("raw", "kind", "value", "code"),
    [
        (3, C, 3, ""),
        (3.0, C, 3, ""),
        (0.0, C, 0, ""),
        ("3", C, 3, ""),
        ("3.0", C, 3, ""),
        (" 12 ", C, 12, ""),
        ("\u300012\u3000", C, 12, ""),
        ("1,234", C, 1234, ""),
        ("1，234", C, 1234, ""),
        ("１２３", C, 123, ""),
        ("１，２３４", C, 1234, ""),
        ("-8", S, -8, ""),
        ("\u22128", S, -8, ""),
        ("－８", S, -8, ""),
        (-8, S, -8, ""),
        (Decimal("7730.28"), A, Decimal("7730.28"), ""),
        (7730.28, A, Decimal("7730.28"), ""),
        ("4068.208", A, Decimal("4068.208"), ""),
        ("251000元", A, Decimal("25.1"), Code.UNIT_CONVERTED),
        ("13.5万元", A, Decimal("13.5"), Code.UNIT_CONVERTED),
        ("13.5 万", A, Decimal("13.5"), Code.UNIT_CONVERTED),
        ("22（其中修订16件）", C, 22, Code.NUMBER_IN_TEXT),
        ("55(含自然失效29件)", C, 55, Code.NUMBER_IN_TEXT),
        ("22件", C, 22, Code.NUMBER_IN_TEXT),
        ("共22件", C, 22, Code.NUMBER_IN_TEXT),
        ("无", C, 0, Code.NUMBER_IN_TEXT),
        ("—", C, 0, Code.NUMBER_IN_TEXT),
        ("/", C, 0, Code.NUMBER_IN_TEXT),
        # negatives and fractions are kept so that R5 reports them with their cell
        (-3, C, -3, ""),
        (2.5, C, Decimal("2.5"), ""),
        ("2.5", C, Decimal("2.5"), ""),
        (3, A, Decimal(3), ""),
    ],
)
def test_accepted(raw: object, kind: CellKind, value: object, code: str) -> None:
    p = parse_cell(raw, kind, "万元" if kind is A else "")
    assert p.value == value
    assert type(p.value) is type(value)
    assert p.code == code
    if code:
        assert p.severity is Severity.WARNING
        assert str(raw).strip() in p.note  # the original text is kept in the warning


@pytest.mark.parametrize(
    "raw",
    [
        "abc",
        "约二十",
        "12-15",
        "12至15",
        "50%",
        "3件，另有2件",
        True,
        False,
        float("nan"),
        float("inf"),
        dt.datetime(2024, 3, 5),
        dt.time(3, 5),
        "#VALUE!",
        object(),
    ],
)
def test_not_a_number(raw: object) -> None:
    p = parse_cell(raw, C)
    assert p.value is None
    assert p.code == Code.NOT_A_NUMBER
    assert p.severity is Severity.ERROR
    assert p.note


def test_money_in_a_count_cell_is_not_a_count() -> None:
    p = parse_cell("251000元", C)
    assert (p.value, p.code) == (None, Code.NOT_A_NUMBER)


@pytest.mark.parametrize("raw", [None, "", "   ", "\u3000", "\n"])
def test_blank(raw: object) -> None:
    p = parse_cell(raw, C)
    assert is_blank(raw)
    assert p.blank
    assert p.value is None
    assert p.code == Code.MISSING


def test_cell_text() -> None:
    assert cell_text(3.0) == "3"
    assert cell_text(2.5) == "2.5"
    assert cell_text(True) == "TRUE"
    assert cell_text(None) == ""
    assert cell_text("x") == "x"


FULL = str.maketrans("0123456789", "０１２３４５６７８９")


@given(st.integers(0, 10**12), st.booleans(), st.booleans(), st.booleans())
def test_integer_text_forms_round_trip(n: int, full_width: bool, thousands: bool, spaces: bool) -> None:
    text = f"{n:,}" if thousands else str(n)
    if full_width:
        text = text.translate(FULL)
    if spaces:
        text = f"  {text}\u3000"
    p = parse_cell(text, C)
    assert (p.value, p.code) == (n, "")


@given(st.decimals(min_value=0, max_value=10**9, places=4, allow_nan=False, allow_infinity=False))
def test_amount_text_and_yuan(d: Decimal) -> None:
    assert parse_cell(str(d), A, "万元").value == d
    yuan = parse_cell(f"{d * 10000}元", A, "万元")
    assert yuan.value == d
    assert yuan.code == Code.UNIT_CONVERTED
