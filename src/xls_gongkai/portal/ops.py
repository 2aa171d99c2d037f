"""What the ``xls-gongkai portal`` commands do: init, links, serve, backup, restore, password.

The functions named ``cli_*`` start Django for one instance folder (once per process) and are
what the CLI calls, lazily; the others work on the database Django is already set up with, so
the test suite can call them too.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import re
import secrets
import shutil
import sqlite3
import tempfile
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xls_gongkai.batch.roster import load_roster
from xls_gongkai.batch.single import prepare
from xls_gongkai.errors import UsageError
from xls_gongkai.portal.instance import CONFIG, DATABASE, ENV, SECRET, Config, Instance, database_from_url
from xls_gongkai.report import Unit as LibUnit
from xls_gongkai.spec import format_for_year

OFFICER_USERNAME = "officer"
SERVER_CAP = 64 * 1024 * 1024
_DATE = re.compile(r"(\d{4})\s*[年\-/.]\s*(\d{1,2})\s*[月\-/.]\s*(\d{1,2})")


def parse_deadline(text: str) -> dt.date | None:
    """The date in a deadline text ("2025年2月20日", "2025-02-20"), None when there is none."""
    m = _DATE.search(text or "")
    if m is None:
        return None
    try:
        return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


def setup(root: Path, *, hosts: str | None = None) -> Instance:
    """Start Django for the instance folder ``root`` (settings are read once per process)."""
    instance = Instance(root.resolve())
    if not instance.exists():
        raise UsageError(
            f"{root} 不是收集平台的实例文件夹。请先运行 xls-gongkai portal init {root} --year … --roster …"
        )
    os.environ[ENV] = str(instance.root)
    os.environ["DJANGO_SETTINGS_MODULE"] = "xls_gongkai.portal.settings"
    if hosts:
        os.environ["XLS_GONGKAI_PORTAL_HOSTS"] = hosts
    import django

    django.setup()
    return instance


def migrate() -> None:
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


# --------------------------------------------------------------------------- init


@dataclass(frozen=True)
class Created:
    units: int
    password: str
    generated: bool


def populate(
    units: Sequence[LibUnit], *, year: int, name: str, deadline: str, contact: str, password: str | None
) -> Created:
    """Create the campaign, its units with their links, and the officer's account."""
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from xls_gongkai.portal.intake import Actor, audit
    from xls_gongkai.portal.models import Campaign, Unit
    from xls_gongkai.portal.tokens import new_nonce, token_for, token_hash

    fmt = format_for_year(year)
    generated = not password
    password = password or secrets.token_urlsafe(9)
    with transaction.atomic():
        campaign = Campaign.objects.create(
            year=year,
            name=name,
            format_id=fmt.id,
            deadline=deadline,
            deadline_date=parse_deadline(deadline),
            contact=contact,
        )
        for position, u in enumerate(units):
            nonce = new_nonce()
            Unit.objects.create(
                campaign=campaign,
                code=u.code,
                name=u.name,
                parent=u.parent,
                position=position,
                link_nonce=nonce,
                link_hash=token_hash(token_for(campaign.pk, u.code, nonce)),
            )
        user_model = get_user_model()
        user = user_model.objects.filter(username=OFFICER_USERNAME).first()
        if user is None:
            user_model.objects.create_superuser(OFFICER_USERNAME, "", password)
        else:
            user.set_password(password)
            user.save()
        audit(campaign, None, Actor("portal init"), "建立", f"{name} {year} 年度，{len(units)} 个单位，格式 {fmt.name}")
    return Created(len(units), password, generated)


def cli_init(
    root: Path,
    *,
    year: int,
    roster: Path,
    name: str | None,
    deadline: str,
    contact: str,
    password: str | None,
    database: str | None,
) -> Created:
    instance = Instance(root)
    if root.exists() and any(root.iterdir()):
        raise UsageError(f"文件夹 {root} 已存在且不是空的。请换一个文件夹，或先备份后删除它。")
    units = load_roster(roster).units
    format_for_year(year)  # an unknown year is refused before anything is written
    if any(not u.code for u in units):
        missing = next(u.name for u in units if not u.code)
        raise UsageError(f"名册中的“{missing}”没有单位代码。收集平台按代码区分单位，请在名册中补上代码。")
    config = Config(database=database_from_url(database) if database else {})
    instance.create(config)
    try:
        setup(root)
        migrate()
        parents = {u.parent for u in units if u.parent}
        default_name = parents.pop() if len(parents) == 1 else "本县"
        return populate(
            units, year=year, name=name or default_name, deadline=deadline, contact=contact, password=password
        )
    except BaseException:
        if not database:
            shutil.rmtree(root, ignore_errors=True)
        raise


def set_password(password: str | None) -> str:
    from django.contrib.auth import get_user_model

    password = password or secrets.token_urlsafe(9)
    user = get_user_model().objects.get(username=OFFICER_USERNAME)
    user.set_password(password)
    user.save()
    return password


# --------------------------------------------------------------------------- links


@dataclass(frozen=True)
class Link:
    code: str
    name: str
    url: str


def link_rows(base_url: str) -> list[Link]:
    from django.urls import reverse

    from xls_gongkai.portal.models import Campaign
    from xls_gongkai.portal.tokens import token_for

    campaign = Campaign.objects.order_by("-id").first()
    if campaign is None:
        raise UsageError("收集任务尚未建立。")
    base = base_url.rstrip("/")
    return [
        Link(u.code, u.name, base + reverse("portal:link", args=[token_for(campaign.pk, u.code, u.link_nonce)]))
        for u in campaign.units.all()
    ]


def rotate(code: str) -> None:
    from xls_gongkai.portal.intake import Actor, rotate_link
    from xls_gongkai.portal.models import Campaign

    campaign = Campaign.objects.order_by("-id").first()
    unit = campaign.units.filter(code=code).first() if campaign else None
    if unit is None:
        raise UsageError(f"名册中没有代码为 {code} 的单位。")
    rotate_link(unit, Actor("portal links --rotate"))


# --------------------------------------------------------------------------- serve


def cli_serve(root: Path, *, host: str, port: int, threads: int = 8) -> None:
    """Serve the instance with waitress until interrupted."""
    hosts = "*" if host in ("0.0.0.0", "::") else ",".join(dict.fromkeys([host, "127.0.0.1", "localhost", "[::1]"]))
    instance = setup(root, hosts=hosts)
    migrate()
    from django.conf import settings
    from waitress import serve

    from xls_gongkai.portal.security import MULTIPART_SLACK
    from xls_gongkai.portal.wsgi import application

    prepare()  # the reading server starts now: the first upload does not wait for it
    print(
        f"收集平台已启动：http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}/  （实例 {instance.root}，按 Ctrl+C 停止）",
        flush=True,
    )
    serve(
        application,
        host=host,
        port=port,
        threads=threads,
        # The server's own cap: a body past it is refused with 413 before Django sees it. It
        # is at least 64 MB (the library's largest workbook) so that a file somewhat over the
        # portal's limit gets the portal's Chinese 413 page rather than waitress's English one.
        max_request_body_size=max(settings.PORTAL_MAX_UPLOAD_BYTES + MULTIPART_SLACK, SERVER_CAP),
        ident="xls-gongkai",
        clear_untrusted_proxy_headers=True,
        _quiet=True,
    )


# --------------------------------------------------------------------------- backup and restore


def _file_names(instance: Instance) -> list[Path]:
    files = instance.files
    if not files.is_dir():
        return []
    return sorted(p for p in files.iterdir() if p.is_file() and re.fullmatch(r"[0-9a-f]{32}\.(upload|xlsx)", p.name))


@contextmanager
def _atomic_zip(out: Path) -> Iterator[zipfile.ZipFile]:
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            yield zf
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)


def backup(instance: Instance, out: Path) -> dict[str, Any]:
    """One zip with the database (a consistent snapshot taken while serving), the files and the keys.

    The database is copied first; files are never changed once written, so every file the
    snapshot names is already there when the files are copied after it.
    """
    from django.db import connection

    manifest: dict[str, Any] = {"created": dt.datetime.now().astimezone().isoformat(), "vendor": connection.vendor}
    with tempfile.TemporaryDirectory() as tmp, _atomic_zip(out) as zf:
        if connection.vendor == "sqlite":
            snapshot = Path(tmp) / DATABASE
            with sqlite3.connect(instance.database_path) as src, sqlite3.connect(snapshot) as dst:
                src.backup(dst)  # SQLite's online backup: consistent while the server writes
            zf.write(snapshot, DATABASE)
        else:
            zf.writestr("data.json", _dump_consistent())
        zf.write(instance.config_path, CONFIG)
        zf.write(instance.secret_path, SECRET)
        files = _file_names(instance)
        for path in files:
            zf.write(path, f"files/{path.name}")
        manifest["files"] = len(files)
        manifest["sha256"] = {f"files/{p.name}": hashlib.sha256(p.read_bytes()).hexdigest() for p in files}
        zf.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=1))
    return manifest


def _dump_consistent() -> str:
    from django.core.management import call_command
    from django.db import connection, transaction

    out = io.StringIO()
    with transaction.atomic():
        # One snapshot for every table (PostgreSQL): rows written meanwhile are not half in.
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        call_command("dumpdata", "portal", "auth.user", "--natural-foreign", stdout=out, verbosity=0)
    return out.getvalue()


_MEMBER = re.compile(
    r"^(portal\.json|secret_key|db\.sqlite3|data\.json|manifest\.json|files/[0-9a-f]{32}\.(upload|xlsx))$"
)


def restore(archive: Path, root: Path, *, database: str | None = None) -> dict[str, Any]:
    """Unpack a backup into a new instance folder (and database); returns the backup's manifest."""
    if root.exists() and any(root.iterdir()):
        raise UsageError(f"文件夹 {root} 已存在且不是空的。请恢复到一个新的空文件夹。")
    try:
        zf = zipfile.ZipFile(archive)
    except (OSError, zipfile.BadZipFile) as exc:
        raise UsageError(f"{archive} 不是收集平台的备份文件（{exc}）。") from exc
    with zf:
        names = zf.namelist()
        bad = [n for n in names if not _MEMBER.match(n)]
        if bad or CONFIG not in names or SECRET not in names:
            raise UsageError(f"{archive} 不是收集平台的备份文件（内容不符：{', '.join(bad[:3]) or '缺少配置'}）。")
        manifest = json.loads(zf.read("manifest.json")) if "manifest.json" in names else {}
        instance = Instance(root)
        root.mkdir(parents=True, exist_ok=True)
        instance.files.mkdir(exist_ok=True)
        instance.tmp.mkdir(exist_ok=True)
        for name in names:
            if name.startswith("files/") or name in (SECRET, DATABASE):
                (root / name).write_bytes(zf.read(name))
        config = json.loads(zf.read(CONFIG))
        if database:
            config["database"] = database_from_url(database)
        elif "data.json" in names and not config.get("database"):
            raise UsageError("这个备份来自 PostgreSQL 数据库，请用 --database 指定要恢复到的空数据库。")
        instance.config_path.write_text(json.dumps(config, ensure_ascii=False, indent=2), encoding="utf-8")
        os.chmod(instance.secret_path, 0o600)
        data = zf.read("data.json").decode() if "data.json" in names else None
    setup(root)
    if data is not None or (DATABASE not in names):
        _load(data)
    migrate()
    return manifest


def _load(data: str | None) -> None:
    from django.core.management import call_command
    from django.db import connection

    migrate()
    with connection.cursor() as cursor:
        tables = set(connection.introspection.table_names(cursor))
    from xls_gongkai.portal.models import Campaign

    if "portal_campaign" in tables and Campaign.objects.exists():
        raise UsageError("目标数据库不是空的。请恢复到一个新建的空数据库。")
    if data:
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False, encoding="utf-8") as fh:
            fh.write(data)
        try:
            call_command("loaddata", fh.name, verbosity=0)
        finally:
            os.unlink(fh.name)
