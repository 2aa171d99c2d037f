"""Shared test helpers: hypothesis strategies for reports of any format."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from xls_gongkai.report import CellKey, Report, Unit, Value
from xls_gongkai.rules import computed_cells
from xls_gongkai.sample import balanced
from xls_gongkai.spec import CellKind, Format

settings.register_profile("default", max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("default")


def value_strategy(kind: CellKind, decimals: int = 0) -> st.SearchStrategy[Value]:
    if kind is CellKind.COUNT:
        return st.integers(0, 2000)
    if kind is CellKind.SIGNED:
        return st.integers(-500, 500)
    # Amounts below 1 亿元 (10,000 万元): plausible for one unit (see the format's rule P1).
    return st.integers(0, 10**8 - 1).map(lambda n: Decimal(n).scaleb(-decimals))


@st.composite
def input_values(draw: st.DrawFn, fmt: Format) -> dict[CellKey, Value]:
    """Random values for every input (non-computed) cell of a format."""
    computed = computed_cells(fmt)
    values: dict[CellKey, Value] = {}
    for t, r, c in fmt.cells():
        if (t, r, c) in computed:
            continue
        table = fmt.table(t)
        values[(t, r, c)] = draw(value_strategy(table.cell_kind(r, c), table.decimals(r, c)))
    return values


@st.composite
def consistent_reports(draw: st.DrawFn, fmt: Format) -> Report:
    """Reports of ``fmt`` in which every rule of the year holds."""
    values = balanced(fmt, draw(input_values(fmt)))
    unit = Unit(
        draw(st.from_regex(r"[0-9]{6,12}", fullmatch=True)), draw(st.sampled_from(["城关镇", "东城街道", "县财政局"]))
    )
    year = draw(st.integers(fmt.year_from, fmt.year_to or fmt.year_from + 5))
    return Report(
        unit,
        year,
        fmt,
        values,
        {
            "s1": "总体情况",
            "s5": "存在的主要问题是信息更新不够及时、政策解读形式较为单一；下一步将加强培训，完善发布审核制度。",
            "s6": "本年度未收取信息处理费。",
        },
    )
