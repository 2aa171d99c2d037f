"""The portal's verdict is the library's: one upload read by read_one, statuses from check_batch,
the summary from check_batch + merge_batch + write_summary with the units' 说明 on their reports."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from tests.portal.conftest import YEAR, Books
from xls_gongkai.batch.roster import Roster
from xls_gongkai.collection import Status
from xls_gongkai.issues import Code, Result
from xls_gongkai.portal import intake, library, summary
from xls_gongkai.portal.models import Campaign, Unit, Version
from xls_gongkai.portal.states import Event, State
from xls_gongkai.reading.reader import read_workbook
from xls_gongkai.report import Explanation
from xls_gongkai.report import Unit as LibUnit
from xls_gongkai.workbook.writer import generate_templates

UNIT = LibUnit("410102001", "城关镇", "河洛县")
ROSTER = Roster((UNIT, LibUnit("410102002", "东城街道")), source="河洛县2024年度名册")


def _read(path: Path, name: str = "城关镇.xlsx", unit: LibUnit | None = UNIT) -> Result:
    return library.read_upload(path, name=name, year=YEAR, unit=unit, timeout=60, memory=1024**3)


def test_the_verdict_is_the_librarys(books: Books) -> None:
    path = books.make(bad=True, warned=True)
    got = _read(path)
    direct = read_workbook(path, year=YEAR, unit=UNIT)
    assert got.report == direct.report
    assert [(i.code, i.cell, i.key) for i in got.issues] == [(i.code, i.cell, i.key) for i in direct.issues]
    # The messages and the result name the clerk's file, never the stored one.
    assert got.source == "城关镇.xlsx"
    assert {i.file for i in got.issues} == {"城关镇.xlsx"}
    item = library.verdict(got, ROSTER)
    assert item.status is Status.ERRORS
    assert item.unit == UNIT
    assert library.event_for(item.status) is Event.UPLOAD_ERRORS


@pytest.mark.parametrize("status", list(Status))
def test_every_status_moves_the_workflow(status: Status) -> None:
    # Any error, 空表 included, keeps the draft from 提交; 通过 and 有警告 may be submitted.
    clean = status in (Status.SUBMITTED, Status.WARNINGS)
    assert library.event_for(status) is (Event.UPLOAD_CLEAN if clean else Event.UPLOAD_ERRORS)


def test_warnings_only_may_be_submitted(books: Books) -> None:
    item = library.verdict(_read(books.make(warned=True, blank_cell=True)), ROSTER)
    assert item.status is Status.WARNINGS
    assert {i.code for i in item.result.issues} == {"T1", Code.BLANK_CELLS}  # the blank cell: a notice
    assert library.event_for(item.status) is Event.UPLOAD_CLEAN


def test_an_untouched_template_is_an_empty_one(tmp_path: Path) -> None:
    [blank] = generate_templates([UNIT], YEAR, tmp_path, jobs=1)
    item = library.verdict(_read(blank), ROSTER)
    assert item.status is Status.EMPTY
    assert [i.code for i in item.result.errors] == [Code.EMPTY]
    assert library.event_for(item.status) is Event.UPLOAD_ERRORS


def test_the_roster_is_the_campaigns(books: Books) -> None:
    # 代传: no unit given; the file's own unit is looked up on the roster.
    stranger = library.verdict(_read(books.make("999999999", "外县某镇"), unit=None), ROSTER)
    assert stranger.status is Status.UNKNOWN
    assert not stranger.on_roster
    assert "河洛县2024年度名册" in stranger.result.errors[-1].message
    known = library.verdict(_read(books.make("410102002", "东城街道"), unit=None), ROSTER)
    assert known.unit == LibUnit("410102002", "东城街道")
    assert known.status is Status.SUBMITTED


def test_a_stored_result_comes_back_whole(books: Books) -> None:
    got = _read(books.make(bad=True, blank_cell=True))
    assert Result.from_json(got.to_json()) == got


# --------------------------------------------------------------------------- the summary


def _accepted(campaign: Campaign, books: Books, code: str, name: str, *, said: str = "") -> Version:
    """A unit's upload as the clerk would make it, explained, submitted and accepted."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    unit = Unit.objects.get(code=code)
    path = books.make(code, name, warned=bool(said), seed=int(code[-1]))
    clerk = intake.Actor(f"{name}（单位）")
    version = intake.upload(unit, SimpleUploadedFile(path.name, path.read_bytes()), clerk)
    if said:
        intake.explain(unit, version.number, "T1", said, clerk, {"T1": "T1 文字说明!A11"})
    intake.submit(unit, version.number, clerk)
    intake.decide(unit, version.number, Event.ACCEPT, intake.Actor("县政务公开办"))
    return version


@pytest.mark.django_db
def test_the_summary_is_the_librarys_merge_with_the_units_explanations(
    campaign: Campaign, books: Books, tmp_path: Path
) -> None:
    first = _accepted(campaign, books, "410102001", "城关镇", said='=HYPERLINK("http://x") 未收取')
    _accepted(campaign, books, "410102002", "东城街道")
    assert Unit.objects.get(code="410102001").state is State.ACCEPTED
    picked, left_out = summary.chosen(campaign, provisional=False)
    assert (len(picked), left_out) == (2, [])
    merged = summary.merged(campaign, picked)
    # The 说明 travel on the units' reports and up into the sum (the library's summary sheet shows them).
    assert merged.report.explanations == (Explanation("T1", '=HYPERLINK("http://x") 未收取', UNIT),)
    assert merged.report.units == 2
    # Each unit's time is its upload's, not a time inside its file.
    uploaded = {s.unit.code: (s.mtime, s.time_source) for s in merged.submissions}
    assert uploaded["410102001"] == (first.uploaded_at.timestamp(), "提交时间")
    assert sum(e.status is Status.MISSING for e in merged.entries) == 11  # the rest of the roster
    assert not merged.provisional

    path, count, _left = summary.write(campaign, tmp_path / "s.xlsx", provisional=False)
    assert count == 2
    again = read_workbook(path)  # a summary the library reads back, one level up
    assert again.report is not None
    assert again.report.units == 2


@pytest.mark.django_db
def test_a_provisional_summary_says_so_in_red(campaign: Campaign, books: Books, tmp_path: Path) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    _accepted(campaign, books, "410102001", "城关镇")
    draft = Unit.objects.get(code="410102002")
    path = books.make("410102002", "东城街道", bad=True)
    intake.upload(draft, SimpleUploadedFile(path.name, path.read_bytes()), intake.Actor("东城街道（单位）"))
    picked, _left = summary.chosen(campaign, provisional=True)
    merged = summary.merged(campaign, picked, provisional=True)
    assert merged.provisional == summary.PROVISIONAL
    summary.write(campaign, tmp_path / "p.xlsx", provisional=True)
    book = openpyxl.load_workbook(tmp_path / "p.xlsx")
    for name in ("表二", "表三", "表四"):
        line = next(c for row in book[name].iter_rows(max_row=4) for c in row if summary.PROVISIONAL in str(c.value))
        assert line.font.color.rgb.endswith("C00000")
    assert [e.status for e in merged.entries[:2]] == [Status.SUBMITTED, Status.ERRORS]
