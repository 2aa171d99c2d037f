"""``xls-gongkai portal …`` run for real (each command in its own process), on SQLite and PostgreSQL:
init, links, rotate, password, serve, backup while serving, restore. And the CLI without Django."""

from __future__ import annotations

import csv
import hashlib
import io
import os
import sqlite3
import stat
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.portal.conftest import ROSTER, Books, database_url
from tests.portal.http import ROOT, Browser, Server, cli, init, links

DB_KINDS = ["sqlite", "postgresql"]


def test_help_and_other_commands_never_import_django() -> None:
    code = (
        "import sys\n"
        "sys.argv = ['xls-gongkai', '--help']\n"
        "from xls_gongkai.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print('DJANGO' if 'django' in sys.modules else 'NO-DJANGO')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert "portal" in done.stdout
    assert done.stdout.strip().endswith("NO-DJANGO")


def test_cli_without_the_portal_extra_says_how_to_install(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "sys.modules['django'] = None  # as if the extra were not installed\n"
        "sys.argv = ['xls-gongkai'] + sys.argv[1:]\n"
        "from xls_gongkai.cli import main\n"
        "main()\n"
    )
    portal = subprocess.run(
        [sys.executable, "-c", code, "portal", "init", str(tmp_path / "p"), "--year", "2024", "--roster", str(ROSTER)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert portal.returncode == 2
    assert "pip install 'xls-gongkai[portal]'" in portal.stderr
    formats = subprocess.run(
        [sys.executable, "-c", code, "formats"], capture_output=True, text=True, cwd=ROOT, check=False
    )
    assert formats.returncode == 0
    assert "2021" in formats.stdout


def test_init_links_rotate_password(tmp_path: Path) -> None:
    directory = tmp_path / "年报2024"
    out = init(directory)
    assert "13 个单位" in out
    assert "密码：" in out
    assert stat.S_IMODE((directory / "secret_key").stat().st_mode) == 0o600
    again = cli("portal", "init", str(directory), "--year", "2024", "--roster", str(ROSTER), check=False)
    assert again.returncode == 2
    assert "不是空的" in again.stderr

    target = tmp_path / "links.csv"
    cli("portal", "links", str(directory), "--base-url", "http://192.168.1.5:8000", "--csv", str(target))
    rows = list(csv.reader(io.StringIO(target.read_text(encoding="utf-8-sig"))))
    assert rows[0] == ["代码", "名称", "链接"]
    assert len(rows) == 14
    assert rows[1][2].startswith("http://192.168.1.5:8000/l/")
    first = links(directory, "http://x")
    assert links(directory, "http://x") == first  # the same links every time
    rotated = cli("portal", "links", str(directory), "--base-url", "http://x", "--rotate", "410102003").stdout
    assert "已更换" in rotated
    second = links(directory, "http://x")
    assert [c for c in first if first[c] != second[c]] == ["410102003"]
    unknown = cli("portal", "links", str(directory), "--base-url", "http://x", "--rotate", "000", check=False)
    assert unknown.returncode == 2
    assert "没有代码为 000 的单位" in unknown.stderr
    assert "新密码：" in cli("portal", "password", str(directory)).stdout


def test_init_refuses_a_bad_roster_and_year(tmp_path: Path) -> None:
    roster = tmp_path / "r.csv"
    roster.write_text("名称\n城关镇\n", encoding="utf-8")
    bad = cli("portal", "init", str(tmp_path / "a"), "--year", "2024", "--roster", str(roster), check=False)
    assert bad.returncode == 2
    assert "代码" in bad.stderr
    assert not (tmp_path / "a").exists()
    old = cli("portal", "init", str(tmp_path / "b"), "--year", "1999", "--roster", str(ROSTER), check=False)
    assert old.returncode == 2


def _upload(server: Server, link: str, path: Path) -> str:
    clerk = Browser(server.base)
    assert clerk.get(link).status == 200
    response = clerk.post("/unit/upload/", {}, {"file": (path.name, path.read_bytes())}, token_from="/unit/")
    assert response.status == 303, response.text[:500]
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _versions(directory: Path, db_kind: str, url: list[str]) -> list[str]:
    if db_kind == "sqlite":
        with sqlite3.connect(directory / "db.sqlite3") as con:
            return [r[0] for r in con.execute("select sha256 from portal_version order by id")]
    import psycopg

    from xls_gongkai.portal.instance import database_from_url

    conf = database_from_url(url[1])
    with psycopg.connect(host=conf["HOST"], port=conf["PORT"], user=conf["USER"], dbname=conf["NAME"]) as con:
        return [r[0] for r in con.execute("select sha256 from portal_version order by id")]


@pytest.mark.parametrize("db_kind", DB_KINDS)
def test_backup_while_serving_and_restore(
    db_kind: str, tmp_path: Path, books: Books, request: pytest.FixtureRequest
) -> None:
    name = f"gk_{uuid.uuid4().hex[:8]}"
    url = database_url(request, db_kind, name)
    directory = tmp_path / "inst"
    init(directory, *url)
    server = Server(directory)
    try:
        paths = links(directory, server.base)
        hashes = [
            _upload(server, paths["410102001"], books.make()),
            _upload(server, paths["410102002"], books.make("410102002", "东城街道", bad=True)),
        ]
        archive = tmp_path / "备份" / "b.zip"
        assert (
            "数据库 + 3 个文件" in cli("portal", "backup", str(directory), str(archive)).stdout
        )  # 2 uploads + 1 marked-up copy
        hashes_after = [*hashes, _upload(server, paths["410102003"], books.make("410102003", "西城街道", seed=3))]
    finally:
        server.stop()
    assert _versions(directory, db_kind, url) == hashes_after

    restored = tmp_path / "restored"
    target = database_url(request, db_kind, name + "_r")
    done = cli("portal", "restore", str(archive), str(restored), *target)
    assert "已恢复" in done.stdout
    assert _versions(restored, db_kind, target or url) == hashes  # the state at the backup, nothing after
    stored = sorted(p.name for p in (restored / "files").iterdir() if p.is_file())
    assert len(stored) == 3
    for p in (restored / "files").iterdir():
        if p.name.endswith(".upload"):
            assert hashlib.sha256(p.read_bytes()).hexdigest() in hashes
    # Same keys: the units' links still work on the restored instance.
    assert links(restored, "http://x") == links(directory, "http://x")
    again = Server(restored)
    try:
        clerk = Browser(again.base)
        page = clerk.get(links(restored, again.base)["410102001"])
        assert page.status == 200
        assert "第 1 版" in page.text
    finally:
        again.stop()
    refused = cli("portal", "restore", str(archive), str(restored), check=False)
    assert refused.returncode == 2


def test_restore_refuses_what_is_not_a_backup(tmp_path: Path) -> None:
    import zipfile

    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil, "w") as zf:
        zf.writestr("portal.json", "{}")
        zf.writestr("secret_key", "x")
        zf.writestr("../../etc/cron.d/x", "boom")
    done = cli("portal", "restore", str(evil), str(tmp_path / "r"), check=False)
    assert done.returncode == 2
    assert "不是收集平台的备份文件" in done.stderr
    assert not (tmp_path / "r").exists() or not any((tmp_path / "r").iterdir())


def test_serve_enforces_the_body_limit_in_the_server(tmp_path: Path) -> None:
    directory = tmp_path / "inst"
    init(directory)
    server = Server(directory)
    try:
        clerk = Browser(server.base)
        clerk.get(links(directory, server.base)["410102001"])
        huge = os.urandom(1024) * (70 * 1024)  # 70 MB: past waitress's own cap
        response = clerk.post("/unit/upload/", {}, {"file": ("big.xlsx", huge)}, token_from="/unit/")
        assert response.status == 413
        middle = b"PK\x03\x04" + b"\0" * (30 * 1024 * 1024)  # 30 MB: refused by the portal, in Chinese
        response = clerk.post("/unit/upload/", {}, {"file": ("big.xlsx", middle)}, token_from="/unit/")
        assert response.status == 413
        assert "文件过大" in response.text
    finally:
        server.stop()
