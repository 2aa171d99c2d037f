"""The CSV export: the fast writer gives, byte for byte, what ``csv.writer`` gives for the tidy
records — whatever a unit's name, the file's or the sheets' names hold."""

from __future__ import annotations

import csv
import io
from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import consistent_reports
from xls_gongkai.batch.export import Source, _csv_lines, _csv_rows
from xls_gongkai.report import Unit
from xls_gongkai.spec import builtin_formats
from xls_gongkai.workbook.layout import layout_for

ODD = st.text(alphabet=st.sampled_from(list("ab城\",\n\r=+-@\t '")), max_size=8)


@settings(max_examples=60, deadline=None)
@given(
    data=st.data(),
    fmt=st.sampled_from(builtin_formats()),
    code=ODD,
    name=ODD,
    file=ODD,
    sheet=ODD,
    roster=st.booleans(),
    located=st.booleans(),
    group=st.booleans(),
)
def test_fast_csv_lines_equal_the_csv_writers(
    data: st.DataObject, fmt, code: str, name: str, file: str, sheet: str, roster: bool, located: bool, group: bool
) -> None:  # type: ignore[no-untyped-def]
    report = replace(data.draw(consistent_reports(fmt)), unit=Unit(code, name))
    if group and fmt.group_keys:  # a group stored as one row takes the general way
        key = sorted(fmt.group_keys)[0]
        report = replace(report, values={**report.values, key: 7})
    lay = layout_for(fmt)
    cells = {k: (sheet if i % 3 == 0 else lay.locate(k)[0], lay.locate(k)[1]) for i, k in enumerate(fmt.cell_keys)}
    source = Source(report, file, cells if located else None, unit=Unit(name, code) if roster else None)
    buf = io.StringIO()
    csv.writer(buf).writerows(_csv_rows(source))
    assert "".join(_csv_lines(source)) == buf.getvalue()
