"""A small HTTP client for a real ``portal serve`` (tests and bench/bench_portal.py): cookies, CSRF, uploads.

Standard library only, so the bench needs nothing installed beyond the portal itself.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlsplit

#: Debian's chromium as root on a closed network (PORTAL.md §2.4): no sandbox, no background connections.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
_CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    @property
    def location(self) -> str:
        return self.headers.get("location", "")


class Browser:
    """One visitor: a cookie jar and one connection to 127.0.0.1 at a time."""

    def __init__(self, base: str, timeout: float = 120.0) -> None:
        parts = urlsplit(base)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.cookies: dict[str, str] = {}
        self.timeout = timeout

    def _send(self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None) -> Response:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        try:
            all_headers = {"Host": f"{self.host}:{self.port}", **(headers or {})}
            if self.cookies:
                all_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
            # The server may answer (413) and close before the whole body was sent.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                conn.request(method, path, body=body or None, headers=all_headers)
            raw = conn.getresponse()
            data = raw.read()
            result = Response(raw.status, {k.lower(): v for k, v in raw.getheaders()}, data)
            for value in raw.headers.get_all("Set-Cookie") or []:
                jar: SimpleCookie = SimpleCookie()
                jar.load(value)
                for key, morsel in jar.items():
                    self.cookies[key] = morsel.value
            return result
        finally:
            conn.close()

    def get(self, path: str, follow: bool = True) -> Response:
        if path.startswith("http"):
            path = urlsplit(path).path
        response = self._send("GET", path)
        while follow and response.status in (301, 302, 303) and response.location:
            response = self._send("GET", response.location)
        return response

    def csrf(self, path: str) -> str:
        m = _CSRF.search(self.get(path).text)
        assert m, f"no form on {path}"
        return m.group(1)

    def post(
        self, path: str, fields: dict[str, str], files: dict[str, tuple[str, bytes]] | None = None, *, token_from: str
    ) -> Response:
        fields = {"csrfmiddlewaretoken": self.csrf(token_from), **fields}
        boundary = uuid.uuid4().hex
        parts: list[bytes] = []
        for key, value in fields.items():
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode())
        for key, (name, content) in (files or {}).items():
            head = f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"; filename="{name}"\r\n'
            parts.append((head + "Content-Type: application/octet-stream\r\n\r\n").encode() + content + b"\r\n")
        parts.append(f"--{boundary}--\r\n".encode())
        body = b"".join(parts)
        headers = {
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Origin": f"http://{self.host}:{self.port}",
            "Referer": f"http://{self.host}:{self.port}{token_from}",
        }
        return self._send("POST", path, body, headers)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cli(*args: str, check: bool = True, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``xls-gongkai …`` in a fresh interpreter (Django reads its settings once per process)."""
    done = subprocess.run(
        [sys.executable, "-m", "xls_gongkai", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        check=False,
    )
    if check and done.returncode != 0:
        raise AssertionError(f"xls-gongkai {' '.join(args)} → {done.returncode}\n{done.stdout}\n{done.stderr}")
    return done


class Server:
    """``xls-gongkai portal serve DIR`` in a subprocess on a free port, stopped at the end."""

    def __init__(self, directory: Path, threads: int = 8) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = directory.parent / f"serve-{self.port}.log"
        self._log = self.log.open("w")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "xls_gongkai",
                "portal",
                "serve",
                str(directory),
                "--port",
                str(self.port),
                "--threads",
                str(threads),
            ],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"portal serve stopped: {self.log.read_text()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise AssertionError("portal serve did not start within 60 s")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()


def links(directory: Path, base: str) -> dict[str, str]:
    """Each unit's private link path, by code (from ``portal links``)."""
    out = cli("portal", "links", str(directory), "--base-url", base).stdout
    rows = [line.split("\t") for line in out.splitlines() if line.count("\t") == 2]
    return {code: urlsplit(url).path for code, _name, url in rows}


def init(directory: Path, *extra: str) -> str:
    """``xls-gongkai portal init`` for 2024 on the sample roster, deadline far ahead; its output."""
    return cli(
        "portal",
        "init",
        str(directory),
        "--year",
        "2024",
        "--roster",
        str(ROOT / "samples" / "roster.csv"),
        "--deadline",
        "2099年2月20日",
        *extra,
    ).stdout
