"""A throw-away PostgreSQL server for the tests: Debian's binaries, a temporary data folder.

PostgreSQL refuses to run as root, so as root (CI) the data and socket folders belong to the
``postgres`` user and every command runs through ``runuser -u postgres``. The server listens on
a Unix socket in its own temporary folder only (no TCP port to collide with), and is stopped
and removed at the end.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

PORT = 5432  # only names the socket file, inside a folder of our own


def binaries() -> Path | None:
    """The newest /usr/lib/postgresql/*/bin that has pg_ctl and initdb (None: not installed)."""
    found = [Path(p).parent for p in glob.glob("/usr/lib/postgresql/*/bin/pg_ctl")]
    found = [b for b in found if (b / "initdb").exists()]
    if not found:
        return None
    return max(found, key=lambda b: int(b.parent.name) if b.parent.name.isdigit() else 0)


def skip_reason() -> str | None:
    if binaries() is None:
        return "没有安装 PostgreSQL（make sysdeps 会安装 postgresql）/ PostgreSQL server binaries not installed"
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "以 root 运行需要 runuser / running as root needs runuser"
    return None


@dataclass
class Server:
    bin: Path
    root: Path
    socket_dir: Path

    @property
    def data(self) -> Path:
        return self.root / "data"

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        cmd = list(args)
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        return subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=120)

    def start(self) -> None:
        self._run(
            str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C"
        )
        options = f"-p {PORT} -k {self.socket_dir} -c listen_addresses='' -c fsync=off -c full_page_writes=off"
        self._run(
            str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", options, "-l", str(self.root / "log"), "-w", "start"
        )

    def stop(self) -> None:
        try:
            self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
            shutil.rmtree(self.socket_dir, ignore_errors=True)

    def createdb(self, name: str) -> None:
        self._run(str(self.bin / "createdb"), "-h", str(self.socket_dir), "-p", str(PORT), "-U", "postgres", name)

    def url(self, name: str) -> str:
        return f"postgresql://postgres@/{name}?host={self.socket_dir}&port={PORT}"

    def settings(self, name: str) -> dict[str, object]:
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": name,
            "USER": "postgres",
            "PASSWORD": "",
            "HOST": str(self.socket_dir),
            "PORT": str(PORT),
        }


def start() -> Server:
    """Start a server in fresh temporary folders (owned by ``postgres`` when running as root)."""
    bin_dir = binaries()
    assert bin_dir is not None
    root = Path(tempfile.mkdtemp(prefix="xg-pg-", dir="/tmp"))
    sockets = Path(tempfile.mkdtemp(prefix="xg-pgs-", dir="/tmp"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
        shutil.chown(sockets, "postgres", "postgres")
    server = Server(bin_dir, root, sockets)
    try:
        server.start()
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        shutil.rmtree(sockets, ignore_errors=True)
        raise
    return server
