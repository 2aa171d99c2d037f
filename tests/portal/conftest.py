"""Fixtures of the portal's tests: a campaign on the sample roster, clients for a unit and the officer,
filled workbooks. ``XLS_GONGKAI_TEST_DB=postgresql`` runs the database tests on a throw-away
PostgreSQL server instead of SQLite (``make test`` does both)."""

from __future__ import annotations

import os
import random
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from tests.portal import pg
from xls_gongkai.batch.roster import load_roster
from xls_gongkai.portal import ops
from xls_gongkai.portal.models import Campaign, Unit
from xls_gongkai.portal.tokens import token_for
from xls_gongkai.report import Unit as LibUnit
from xls_gongkai.sample import broken, random_report
from xls_gongkai.spec import format_for_year
from xls_gongkai.workbook.writer import write_workbook

ROOT = Path(__file__).resolve().parents[2]
ROSTER = ROOT / "samples" / "roster.csv"
YEAR = 2024
PASSWORD = "officer-pass-1"
TEXTS = {
    "s1": "总体情况：依法推进政务公开。",
    "s5": "存在的主要问题是信息更新不够及时、政策解读形式较为单一；下一步将加强培训，完善发布审核制度。",
    "s6": "本年度未收取信息处理费。",
}


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix: None) -> Iterator[None]:
    """Point the test database at a throw-away PostgreSQL server when asked to."""
    if os.environ.get("XLS_GONGKAI_TEST_DB") != "postgresql":
        yield
        return
    reason = pg.skip_reason()
    if reason:
        pytest.skip(reason)
    from django.conf import settings

    server = pg.start()
    settings.DATABASES["default"] = {**settings.DATABASES["default"], **server.settings("gongkai"), "OPTIONS": {}}
    try:
        yield
    finally:
        from django.db import connections

        connections.close_all()
        server.stop()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[pg.Server]:
    """A PostgreSQL server for the tests that run the real ``portal`` commands on it."""
    reason = pg.skip_reason()
    if reason:
        pytest.skip(reason)
    server = pg.start()
    try:
        yield server
    finally:
        server.stop()


def database_url(request: pytest.FixtureRequest, db_kind: str, name: str) -> list[str]:
    """``--database URL`` for ``portal init`` on PostgreSQL (a new database), nothing for SQLite."""
    if db_kind != "postgresql":
        return []
    server: pg.Server = request.getfixturevalue("pg_server")
    server.createdb(name)
    return ["--database", server.url(name)]


@pytest.fixture(autouse=True)
def _portal_files(settings: Any, tmp_path: Path) -> None:
    settings.PORTAL_FILES_DIR = str(tmp_path / "files")


@pytest.fixture
def campaign(db: None) -> Campaign:
    units = load_roster(ROSTER).units
    ops.populate(
        units,
        year=YEAR,
        name="河洛县",
        deadline="2099年2月20日",
        contact="县政务公开办 0000-1234567",
        password=PASSWORD,
    )
    return Campaign.objects.get()


def unit(code: str = "410102001") -> Unit:
    return Unit.objects.select_related("campaign").get(code=code)


def link_path(u: Unit) -> str:
    return reverse("portal:link", args=[token_for(u.campaign_id, u.code, u.link_nonce)])


def clerk(u: Unit, **kwargs: Any) -> Client:
    """A browser that opened the unit's private link."""
    client = Client(**kwargs)
    response = client.get(link_path(u))
    assert response.status_code == 303, response
    return client


@pytest.fixture
def officer(campaign: Campaign) -> Client:
    client = Client()
    assert client.login(username=ops.OFFICER_USERNAME, password=PASSWORD)
    return client


class Books:
    """Filled workbooks as a clerk would send them (written once per session, by the library)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def make(
        self,
        code: str = "410102001",
        name: str = "城关镇",
        *,
        bad: bool = False,
        blank_cell: bool = False,
        warned: bool = False,
        year: int = YEAR,
        seed: int = 1,
        tag: str = "",
    ) -> Path:
        """``bad``: an R1 error in 表三; ``blank_cell``: one input cell of 表二 left blank (a
        notice); ``warned``: 六、其他需要报告的事项 without 信息处理费 (warning T1, key ``T1``)."""
        path = self.folder / f"{code}_{year}_{seed}_{int(bad)}{int(blank_cell)}{int(warned)}{tag}.xlsx"
        if path.exists():
            return path
        fmt = format_for_year(year)
        report = random_report(fmt, LibUnit(code, name, "河洛县"), year, random.Random(seed), TEXTS)
        if bad:
            report = broken(report, ("t3", "carry_next", "natural"), 2)
        if blank_cell:
            values = dict(report.values)
            values.pop(("t2_1", "regulations", "issued"), None)
            report = replace(report, values=values)
        if warned:
            report = replace(report, texts={**report.texts, "s6": "无。"})
        write_workbook(path, report)
        return path


@pytest.fixture(scope="session")
def books(tmp_path_factory: pytest.TempPathFactory) -> Books:
    return Books(tmp_path_factory.mktemp("books"))


def upload(client: Client, path: Path, name: str | None = None, url: str | None = None) -> Any:
    with path.open("rb") as fh:
        data = {"file": fh}
        if name:
            from django.core.files.uploadedfile import SimpleUploadedFile

            data = {"file": SimpleUploadedFile(name, path.read_bytes())}  # type: ignore[dict-item]
        return client.post(url or reverse("portal:unit-upload"), data)
