"""The Report: JSON round trip and the tidy DataFrame contract."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import consistent_reports
from xls_gongkai.numbers import coerce_value
from xls_gongkai.report import TIDY_COLUMNS, Report, Unit, reports_to_frame
from xls_gongkai.spec import CellKind, get_format

FORMATS = [get_format(2019), get_format(2021)]


@pytest.mark.parametrize("fmt", FORMATS, ids=["2019", "2021"])
@given(data=st.data())
def test_json_round_trip(fmt, data) -> None:  # type: ignore[no-untyped-def]
    report = data.draw(consistent_reports(fmt))
    back = Report.from_json(report.to_json())
    assert back == report
    for key, value in report.values.items():
        assert type(back.values[key]) is type(value)


@pytest.mark.parametrize("fmt", FORMATS, ids=["2019", "2021"])
@given(data=st.data())
def test_pickle_round_trip(fmt, data) -> None:  # type: ignore[no-untyped-def]
    """Reports cross from batch workers by pickle: equal values of the same types, the same format object."""
    import pickle

    report = data.draw(consistent_reports(fmt))
    back = pickle.loads(pickle.dumps(report))
    assert back == report
    assert back.format is fmt
    assert all(type(back.values[k]) is type(v) for k, v in report.values.items())


def test_a_group_printed_as_one_row_is_exported_too() -> None:
    """（六）其他处理 stored as one row is a tidy row of its own: nothing the report holds is lost."""
    fmt = get_format(2024)
    report = Report(Unit("1", "镇"), 2024, fmt, {("t3", "other_handling", "natural"): 5})
    rows = [r for r in report.tidy_rows() if r[9] is not None]
    assert [(r[5], r[6], r[7], r[9]) for r in rows] == [
        ("other_handling", "natural", "三、本年度办理结果 › （六）其他处理", 5)
    ]


def test_tidy_frame_has_the_documented_columns_and_paths() -> None:
    fmt = get_format(2024)
    report = Report(Unit("410102001", "城关镇"), 2024, fmt, {("t3", "withheld_secret", "natural"): 4})
    frame = report.to_frame()
    assert tuple(frame.columns) == TIDY_COLUMNS
    assert len(frame) == len(list(fmt.cells()))
    row = frame[(frame.row == "withheld_secret") & (frame.column == "natural")].iloc[0]
    assert row.row_path == "三、本年度办理结果 › （三）不予公开 › 1.属于国家秘密"
    assert row.column_path == "申请人情况 › 自然人"
    assert row.value == 4.0
    assert frame.value.isna().sum() == len(frame) - 1
    assert frame.value.dtype == "float64"


def test_frame_of_many_reports_stacks_them() -> None:
    fmt = get_format(2021)
    reports = [Report(Unit(str(i), f"单位{i}"), 2022, fmt, {("t4", "cases", "review_total"): i}) for i in range(3)]
    frame = reports_to_frame(reports)
    assert frame.groupby("unit_code").size().tolist() == [len(list(fmt.cells()))] * 3
    assert frame[frame.column == "review_total"].value.tolist() == [0.0, 1.0, 2.0]


@pytest.mark.parametrize(
    ("kind", "raw", "want"),
    [
        (CellKind.COUNT, 3.0, 3),
        (CellKind.COUNT, "17", 17),
        (CellKind.COUNT, 2.5, Decimal("2.5")),
        (CellKind.SIGNED, -8.0, -8),
        (CellKind.AMOUNT, 13.7951, Decimal("13.7951")),
        (CellKind.AMOUNT, 7545, Decimal(7545)),
    ],
)
def test_coerce_value(kind: CellKind, raw: object, want: object) -> None:
    got = coerce_value(kind, raw)
    assert got == want
    assert type(got) is type(want)


def test_coerce_refuses_booleans() -> None:
    with pytest.raises(ValueError, match="不是数值"):
        coerce_value(CellKind.COUNT, True)
