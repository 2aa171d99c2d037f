"""The instance folder: everything one portal keeps on the office PC, in one place.

::

    DIR/
      portal.json    settings that are not data (database, upload limit, check limits)
      secret_key     Django's SECRET_KEY; the unit links are derived from it (keep it private)
      db.sqlite3     the SQLite database (WAL), unless portal.json names a PostgreSQL one
      files/         uploaded workbooks and marked-up copies under generated names (never served as is)
      files/tmp/     scratch space of the checks

This module never imports Django: the CLI reads it before deciding whether to start Django.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

from xls_gongkai.errors import UsageError

CONFIG = "portal.json"
SECRET = "secret_key"
DATABASE = "db.sqlite3"
FILES = "files"
ENV = "XLS_GONGKAI_PORTAL_DIR"

#: Default upload limit. A filled template is about 100 KB; a workbook with pictures pasted in
#: may reach a few MB. Larger files are refused before they are read (HTTP 413).
MAX_UPLOAD_MB = 20


@dataclass(frozen=True)
class Config:
    """The contents of ``portal.json``."""

    database: dict[str, Any] = field(default_factory=dict)  # empty: SQLite in the folder
    max_upload_mb: int = MAX_UPLOAD_MB
    check_seconds: float = 60.0
    check_memory_mb: int = 1024

    def to_json(self) -> str:
        data = {
            "database": self.database,
            "max_upload_mb": self.max_upload_mb,
            "check_seconds": self.check_seconds,
            "check_memory_mb": self.check_memory_mb,
        }
        return json.dumps(data, ensure_ascii=False, indent=2)


@dataclass(frozen=True)
class Instance:
    """Paths of one instance folder."""

    root: Path

    @property
    def config_path(self) -> Path:
        return self.root / CONFIG

    @property
    def secret_path(self) -> Path:
        return self.root / SECRET

    @property
    def database_path(self) -> Path:
        return self.root / DATABASE

    @property
    def files(self) -> Path:
        return self.root / FILES

    @property
    def tmp(self) -> Path:
        return self.files / "tmp"

    def exists(self) -> bool:
        return self.config_path.is_file() and self.secret_path.is_file()

    def config(self) -> Config:
        try:
            data = json.loads(self.config_path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise UsageError(
                f"{self.root} 不是收集平台的实例文件夹（缺少 {CONFIG}）。请先运行 xls-gongkai portal init"
            ) from exc
        except (OSError, ValueError) as exc:
            raise UsageError(f"无法读取 {self.config_path}：{exc}") from exc
        return Config(
            database=dict(data.get("database") or {}),
            max_upload_mb=int(data.get("max_upload_mb", MAX_UPLOAD_MB)),
            check_seconds=float(data.get("check_seconds", 60.0)),
            check_memory_mb=int(data.get("check_memory_mb", 1024)),
        )

    def secret(self) -> str:
        return self.secret_path.read_text(encoding="ascii").strip()

    def create(self, config: Config) -> None:
        """Make the folder, its config and a new secret key (mode 0600)."""
        self.root.mkdir(parents=True, exist_ok=True)
        self.files.mkdir(exist_ok=True)
        self.tmp.mkdir(exist_ok=True)
        self.config_path.write_text(config.to_json(), encoding="utf-8")
        fd = os.open(self.secret_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(secrets.token_urlsafe(50))


def database_from_url(url: str) -> dict[str, Any]:
    """A Django DATABASES entry from ``postgresql://user:pw@host:port/name?host=/socket/dir``."""
    parsed = urlparse(url)
    if parsed.scheme not in ("postgresql", "postgres"):
        raise UsageError(f"数据库地址只支持 postgresql://…，而不是 {url!r}")
    query = parse_qs(parsed.query)
    host = query.get("host", [parsed.hostname or ""])[0]
    name = unquote(parsed.path.lstrip("/"))
    if not name:
        raise UsageError("数据库地址缺少数据库名称，例如 postgresql://用户@localhost:5432/gongkai")
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": name,
        "USER": unquote(parsed.username or ""),
        "PASSWORD": unquote(parsed.password or ""),
        "HOST": host,
        "PORT": str(query.get("port", [parsed.port or ""])[0]),
    }
