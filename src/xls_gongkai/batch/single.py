"""One untrusted file, read now, in a child process of its own, with a deadline.

:func:`~xls_gongkai.batch.read.read_many` bounds a batch's workers; a server that takes one
upload at a time (the portal) needs one file read while the uploader waits, and never a hung
request: :func:`read_one`. The child bounds its address space
(:func:`~xls_gongkai.reading.safety.confine`), keeps quiet on stderr, and is killed at the
deadline; a file that aborts the parser, exhausts the bound or outlasts the deadline gives a
``file-unreadable`` result in Chinese, like any other unusable file.

Children are started by a small single-threaded process server (``forkserver``), never forked
from the caller, which may be a web server with threads (a fork can copy a lock another thread
holds); where there is no forkserver (Windows) each child is a fresh interpreter (``spawn``).
"""

from __future__ import annotations

import multiprocessing
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from xls_gongkai.batch.parallel import crashed
from xls_gongkai.batch.read import quiet
from xls_gongkai.errors import printable
from xls_gongkai.issues import Result, unreadable
from xls_gongkai.reading.reader import read_safely
from xls_gongkai.reading.safety import confine

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

__all__ = ["DEFAULT_MEMORY", "prepare", "read_one"]

#: Address space the child may add to what it starts with (as for a batch's workers).
DEFAULT_MEMORY = 2 * 1024 * 1024 * 1024
_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]+')
#: A file name's limit is 255 bytes on Linux; a Chinese character takes three.
_NAME_BYTES = 200


def read_one(
    path: str | os.PathLike[str],
    *,
    timeout: float = 60,
    name: str | None = None,
    memory: int = DEFAULT_MEMORY,
    **read_kw: Any,
) -> Result:
    """Read one workbook in a fresh, memory-bounded child process; never hangs, never raises
    for the file.

    ``timeout`` (seconds, the child's start included) is the wall clock after which the child
    is killed and the result says 读取超时. ``name`` is the file's own name (an upload's, not
    the name it is stored under): every message and the result's ``source`` use it, made safe
    as a file name. ``memory`` is the address space the child may add (Linux; elsewhere the
    reader's own scan and probe guard it). Other keywords go to
    :func:`~xls_gongkai.reading.reader.read_workbook` (``year``, ``unit``, ``fmt``, ``formats``…).
    """
    shown = file_name(name) if name is not None else printable(str(path))
    ctx = _context()
    receiver, sender = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_child, args=(sender, str(path), name, memory, read_kw), daemon=True)
    child.start()
    sender.close()
    try:
        if receiver.poll(timeout):
            result: Result = receiver.recv()
        else:
            result = unreadable(
                shown,
                f"{shown}：读取超时（{timeout:g} 秒内未能读完），文件可能已损坏或异常庞大。"
                "请用 Excel 或 WPS 打开后另存为 .xlsx 再提交",
            )
    except (EOFError, OSError):
        # The child died before it answered: the parser aborted, or the bound was hit.
        result = crashed(shown)
    finally:
        receiver.close()
        if child.is_alive():
            child.kill()
        child.join()
    return result


def file_name(name: str) -> str:
    """``name`` as one file name: its last part only, the characters Windows forbids replaced,
    at most 200 bytes (the suffix kept)."""
    base = _UNSAFE.sub("_", printable(name).replace("\\", "/").rsplit("/", 1)[-1]).strip(" .") or "文件"
    stem, dot, suffix = base.rpartition(".")
    if not dot or len(suffix) > 10:
        stem, suffix = base, ""
    tail = f".{suffix}" if suffix else ""
    while len((stem + tail).encode("utf-8")) > _NAME_BYTES:
        stem = stem[:-1]
    return stem + tail


_CONTEXT: Any = None
_LOCK = threading.Lock()


def _context() -> Any:
    global _CONTEXT
    with _LOCK:
        if _CONTEXT is None:
            ctx: Any
            if "forkserver" in multiprocessing.get_all_start_methods():
                ctx = multiprocessing.get_context("forkserver")
                # The server imports the reader once, so a child starts in milliseconds; and
                # "__main__" once too, which multiprocessing would otherwise import in every child.
                ctx.set_forkserver_preload(["__main__", "xls_gongkai.batch.single", "python_calamine"])
            else:  # pragma: no cover - Windows
                ctx = multiprocessing.get_context("spawn")
            _CONTEXT = ctx
        return _CONTEXT


def prepare() -> None:
    """Start the process server now (a server does so at start-up): the first file then does
    not wait for it."""
    child = _context().Process(target=_nothing, daemon=True)
    child.start()
    child.join()


def _nothing() -> None:  # pragma: no cover - runs in the child
    return None


def _child(
    conn: Connection, path: str, name: str | None, memory: int, read_kw: dict[str, Any]
) -> None:  # pragma: no cover - runs in the child (tested through read_one)
    """Runs in the child: bound, silence, read, answer, exit (never returns)."""
    try:
        quiet()
        confine(memory)
        conn.send(_read(Path(path), name, read_kw))
        conn.close()
    finally:
        os._exit(0)


def _read(path: Path, name: str | None, read_kw: dict[str, Any]) -> Result:  # pragma: no cover - child
    if name is None:
        return read_safely(str(path), read_kw)
    shown = file_name(name)
    with _named(path, shown) as link:
        result = read_safely(str(link), read_kw)
    return replace(
        result,
        source=shown,
        issues=tuple(replace(i, file=shown) if i.file else i for i in result.issues),
    )


@contextmanager
def _named(path: Path, name: str) -> Iterator[Path]:  # pragma: no cover - child
    """The file under ``name`` (a hard link, else a copy) in a folder of its own: the reader's
    messages say the name they are given."""
    try:
        folder = tempfile.TemporaryDirectory(dir=path.parent)
    except OSError:  # a read-only folder: the system's temporary folder
        folder = tempfile.TemporaryDirectory()
    with folder as tmp:
        link = Path(tmp) / name
        try:
            os.link(path, link)
        except OSError:
            shutil.copyfile(path, link)
        yield link
