"""What a batch is given: the files named on the command line or found in folders, and what
was received but cannot be read as a report (named, never skipped silently).

A folder is walked without following links out of it; FIFOs, sockets and devices are never
opened (reading one would hang); office lock files (``~$…``) and hidden files are left out.
Files that are not workbooks — a Word report, a PDF, a zip a unit sent instead — are listed as
收到但不是工作簿 so the officer sees that the unit did send something.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import stat
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from xls_gongkai.errors import UsageError

__all__ = ["BOOK_SUFFIXES", "REPORT_SUFFIXES", "Inputs", "Skipped", "collect", "saved_at"]

#: Spreadsheets the reader knows.
BOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods")
#: Reports saved as JSON (``import --json``, ``read --json``): accepted where reports are merged.
REPORT_SUFFIXES = (".json",)
_ARCHIVES = (".zip", ".rar", ".7z", ".tar", ".gz")


@dataclass(frozen=True)
class Skipped:
    """A file received but not read, and why (Chinese)."""

    path: Path
    reason: str


@dataclass(frozen=True)
class Inputs:
    files: tuple[Path, ...]
    skipped: tuple[Skipped, ...] = ()


def _special(mode: int) -> str:
    """Why a file of this mode is not read ("" for a regular file)."""
    if stat.S_ISREG(mode):
        return ""
    if stat.S_ISFIFO(mode):
        return "是命名管道（FIFO），不是普通文件，未读取"
    if stat.S_ISSOCK(mode):
        return "是套接字，不是普通文件，未读取"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "是设备文件，不是普通文件，未读取"
    return "不是普通文件，未读取"


def _not_a_book(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in _ARCHIVES:
        return "收到但不是工作簿：是压缩包，请解压后把其中的工作簿放进文件夹再处理"
    kind = {
        ".doc": "Word 文档",
        ".docx": "Word 文档",
        ".wps": "WPS 文档",
        ".pdf": "PDF 文件",
        ".txt": "文本文件",
        ".jpg": "图片",
        ".jpeg": "图片",
        ".png": "图片",
        ".csv": "CSV 文件",
    }.get(suffix, f"{suffix or '无扩展名的'}文件")
    return f"收到但不是工作簿（{kind}），未读取。如是报表，请让填报单位提交 Excel 工作簿"


def _walk(folder: Path, suffixes: Sequence[str], found: dict[Path, Path], skipped: list[Skipped]) -> None:
    root = folder.resolve()
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.startswith(("~$", ".")):
                continue
            path = Path(dirpath) / name
            try:
                st = path.stat()  # follows a link: where does it point?
            except OSError:
                skipped.append(Skipped(path, "是失效的链接或无法访问，未读取"))
                continue
            if path.is_symlink() and not path.resolve().is_relative_to(root):
                skipped.append(Skipped(path, "是指向文件夹以外的链接，未读取"))
                continue
            if why := _special(st.st_mode):
                skipped.append(Skipped(path, why))
            elif path.suffix.lower() in suffixes:
                found.setdefault(path.resolve(), path)
            else:
                skipped.append(Skipped(path, _not_a_book(path)))


def collect(
    inputs: Iterable[str | os.PathLike[str]],
    *,
    suffixes: Sequence[str] = BOOK_SUFFIXES,
    exclude: Iterable[str | os.PathLike[str]] = (),
) -> Inputs:
    """The files named by ``inputs``: files as given, folders walked (see the module docstring).

    ``exclude`` names files never to read (the outputs of this run). The files are sorted and
    without repeats, so output order does not depend on the file system. Raises
    :class:`~xls_gongkai.errors.UsageError` for a path that does not exist, and when nothing at
    all was found.
    """
    items = list(inputs)
    found: dict[Path, Path] = {}
    skipped: list[Skipped] = []
    for item in items:
        path = Path(item)
        try:
            st = path.stat()
        except OSError:
            raise UsageError(f"找不到 {path}。请检查文件或文件夹的路径") from None
        if stat.S_ISDIR(st.st_mode):
            _walk(path, suffixes, found, skipped)
        elif why := _special(st.st_mode):
            skipped.append(Skipped(path, why))
        else:
            found.setdefault(path.resolve(), path)  # named on purpose: read whatever its name
    out = {p.resolve() for p in map(Path, exclude)}
    files = sorted((shown for real, shown in found.items() if real not in out), key=lambda q: str(q))
    if not files and not skipped:
        names = "、".join(str(i) for i in items)
        raise UsageError(f"{names} 中没有找到工作簿（{'、'.join(suffixes)}）。请检查文件夹")
    return Inputs(tuple(files), tuple(skipped))


_MODIFIED = re.compile(rb"<dcterms:modified[^>]*>([^<]{10,40})</dcterms:modified>")


def saved_at(path: str | os.PathLike[str]) -> tuple[float, str]:
    """When a workbook says it was last saved (docProps/core.xml, written by Excel, WPS and
    LibreOffice), else the file system's modification time — and which of the two it is.

    File times change when a file is e-mailed, downloaded, copied or unzipped; the time inside
    the file does not, so it decides which of two submissions of a unit is the newer.
    """
    p = Path(path)
    try:
        with zipfile.ZipFile(p) as z:
            info = z.getinfo("docProps/core.xml")
            if info.file_size <= 64 * 1024:
                m = _MODIFIED.search(z.read(info))
                if m:
                    text = m.group(1).decode("ascii", "replace").strip().replace("Z", "+00:00")
                    return dt.datetime.fromisoformat(text).timestamp(), "文件内记录的保存时间"
    except (OSError, KeyError, ValueError, zipfile.BadZipFile, RuntimeError):
        pass
    try:
        return p.stat().st_mtime, "文件修改时间"
    except OSError:
        return 0.0, "文件修改时间"
