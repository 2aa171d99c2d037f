"""A Result through plain data and JSON: report, issues, cells and everything else come back equal."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import consistent_reports
from xls_gongkai.issues import Code, Issue, Result, Unrecognised, issue, unreadable
from xls_gongkai.report import Explanation, Unit
from xls_gongkai.spec import Format, Severity, get_format

FORMATS = [get_format(2019), get_format(2021)]
TEXT = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=12)


@st.composite
def issues(draw: st.DrawFn, fmt: Format) -> tuple[Issue, ...]:
    """Issues of every severity, located on cells of ``fmt`` (rule keys included)."""
    keys = list(fmt.cells())
    out = []
    for _ in range(draw(st.integers(0, 6))):
        t, r, c = draw(st.sampled_from(keys))
        cells = tuple(draw(st.lists(st.from_regex(r"[A-H][1-9][0-9]?", fullmatch=True), max_size=3)))
        out.append(
            Issue(
                code=draw(st.sampled_from(["R1", "R7", Code.BLANK_CELLS, Code.NOT_A_NUMBER, Code.EMPTY])),
                severity=draw(st.sampled_from(list(Severity))),
                message=draw(TEXT),
                file=draw(TEXT),
                sheet=fmt.table(t).sheet,
                cell=cells[0] if cells else "",
                cells=cells,
                table=t,
                row=r,
                column=c,
                expected=draw(TEXT),
                found=draw(TEXT),
                key=draw(st.sampled_from(["", f"R7|{t}|{r}|0"])),
            )
        )
    return tuple(out)


@st.composite
def results(draw: st.DrawFn, fmt: Format) -> Result:
    report = draw(consistent_reports(fmt))
    said = draw(st.lists(st.tuples(TEXT, TEXT), max_size=2))
    report = type(report)(
        report.unit,
        report.year,
        report.format,
        report.values,
        report.texts,
        explanations=tuple(Explanation(k, t, report.unit) for k, t in said),
    )
    keys = draw(st.lists(st.sampled_from(sorted(report.values)), max_size=8, unique=True))
    cells = {k: (fmt.table(k[0]).sheet, f"D{n + 5}") for n, k in enumerate(keys)}
    return Result(
        report=report,
        issues=draw(issues(fmt)),
        source=draw(TEXT),
        container=draw(st.sampled_from(["xlsx", "ods", "json", ""])),
        located_by=draw(st.sampled_from(["template", "labels", "document", "json", ""])),
        cells=cells,
        unrecognised=tuple(Unrecognised("表三", "Z9", t) for t in draw(st.lists(TEXT, max_size=2))),
        meta=draw(st.dictionaries(st.sampled_from(["format", "unit_code", "deadline"]), TEXT, max_size=3)),
        notes=draw(st.dictionaries(st.sampled_from(["title", "notes"]), st.lists(TEXT, max_size=2), max_size=2)),
    )


@pytest.mark.parametrize("fmt", FORMATS, ids=["2019", "2021"])
@given(data=st.data())
def test_round_trip_through_json(fmt: Format, data: st.DataObject) -> None:
    result = data.draw(results(fmt))
    text = result.to_json()
    json.loads(text)  # plain JSON
    back = Result.from_json(text)
    assert back == result
    assert back.report is not None
    assert result.report is not None
    assert back.report.format is fmt
    assert all(type(back.report.values[k]) is type(v) for k, v in result.report.values.items())
    # and through plain data, without JSON
    assert Result.from_dict(result.to_dict()) == result


def test_a_result_without_report() -> None:
    gone = unreadable("坏.xlsx", "坏.xlsx：文件已损坏")
    assert Result.from_json(gone.to_json()) == gone
    assert Result.from_dict(gone.to_dict()).issues[0].code == Code.FILE_UNREADABLE


def test_issues_from_the_catalogue_keep_their_fields() -> None:
    found = issue(Code.BLANK_CELLS, table="t3", table_name="表三", count=2, sheet="表三", found="2")
    result = Result(None, (found,), source="a.xlsx")
    assert Result.from_json(result.to_json()).issues == (found,)


def test_a_local_variant_is_found_among_the_callers_formats() -> None:
    from pathlib import Path

    from xls_gongkai.report import Report
    from xls_gongkai.spec import load_format

    variant = load_format(Path(__file__).parent / "data" / "local-variant.yaml")
    result = Result(Report(Unit("1", "镇"), variant.year_from, variant), source="x.xlsx")
    assert Result.from_json(result.to_json(), formats=(variant,)).report.format is variant  # type: ignore[union-attr]


def test_unknown_located_by_is_refused() -> None:
    with pytest.raises(ValueError, match="located_by"):
        Result.from_dict({"report": None, "located_by": "guess"})
