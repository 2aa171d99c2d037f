"""Look at a file before handing it to a spreadsheet parser, and refuse what cannot be used.

A workbook is a zip of XML from an untrusted sender. python-calamine inflates a sheet's XML in
full: a sheet that inflates to 1.5 GB took it 60 s and 2.8 GB of memory (measured). So the zip's
*directory* is read first (cheap, nothing inflated) and absurd sizes, compression ratios and
entry counts are refused; the first bytes of each XML part are looked at for a DTD (Excel never
writes one; an entity bomb needs one). OLE compound files are told apart: an encrypted
(password-protected) OOXML workbook is an OLE file holding ``EncryptionInfo``; an old .xls holds
``Workbook``; a Word document ``WordDocument``. Everything else is refused with a Chinese line
naming the file and saying what to do.

python-calamine can also take down the whole process: a damaged .xls record, or a cell far
away (XFD1048576) in any format, made it ask for hundreds of gigabytes and abort, or build tens
of millions of empty cells for minutes. So each worksheet's used area and cell references are
looked at, and .xls/.xlsb/.ods files (and sheets with far cells) are parsed once in a child
process with bounded memory and time before the reader parses them for real.
"""

from __future__ import annotations

import io
import os
import posixpath
import re
import signal
import struct
import subprocess
import sys
import time
import zipfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple, Protocol

from xls_gongkai.errors import UnreadableWorkbookError

try:
    # ISA-L inflates these parts in 140 µs a workbook where zlib takes 250 µs (measured on
    # 1,000 filled templates); the reader inflates every worksheet's cells before parsing.
    from isal.isal_zlib import crc32 as _crc32
    from isal.isal_zlib import decompressobj as _decompressobj
except ImportError:  # pragma: no cover - a platform without isal's wheels: the standard library
    _decompressobj = zlib.decompressobj  # type: ignore[assignment]
    _crc32 = zlib.crc32

__all__ = ["Container", "Limits", "explain_failure", "inspect_file"]

ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ODS_MIME = b"application/vnd.oasis.opendocument.spreadsheet"
#: Formats parsed once in a bounded child first: record-based ones (a damaged record can abort
#: the process) and .ods, whose repeated-cell attributes let one far cell cost minutes.
BINARY_KINDS = ("xls", "xlsb", "ods")


@dataclass(frozen=True)
class Limits:
    """Bounds on what a workbook may declare; a real report workbook is far below every one."""

    max_file_bytes: int = 64 * 1024 * 1024
    max_entries: int = 2000
    max_entry_bytes: int = 128 * 1024 * 1024  # one part, inflated
    max_total_bytes: int = 256 * 1024 * 1024  # all parts, inflated
    max_ratio: int = 200  # inflated / compressed, for parts above ``ratio_floor``
    ratio_floor: int = 1024 * 1024
    head_bytes: int = 2048  # how much of each XML part to look at for a DTD
    #: Parse binary workbooks (.xls, .xlsb) once in a throw-away child process first (see _probe).
    probe_binary: bool = True
    probe_seconds: float = 60.0
    probe_spawn: bool = False  # a fresh interpreter instead of fork (always so where there is no fork)
    probe_memory: int = 1024 * 1024 * 1024  # address space the child may add to its parent's
    #: Cells a worksheet's used area (<dimension>) may span; the template uses about 2,000.
    max_cells: int = 2_000_000
    #: Look at every cell reference of each worksheet, not only its declared <dimension>.
    scan_cells: bool = True
    #: Hand the parser each worksheet's cells already inflated (see :func:`_unpack`).
    unpack: bool = True


DEFAULT_LIMITS = Limits()
#: In a confined batch worker (see :func:`confine`) a crash costs one worker, not the batch.
CONFINED_LIMITS = Limits(scan_cells=False)
_confined = False


def confine(extra_memory: int = 2 * 1024 * 1024 * 1024) -> bool:
    """Bound this process's address space; meant for a batch's worker processes.

    python-calamine answers an absurd allocation by aborting the process. In a process whose
    address space is bounded the allocation fails at once instead of filling the machine's
    memory, only this process dies, and :func:`xls_gongkai.batch.parallel.map_files` re-reads its
    files one process each and reports the one that crashes. Such a process need not look at
    every cell reference of a worksheet before parsing it (about 100 µs a file, a fifth of the
    reading time), so :func:`default_limits` switches that scan off there; the declared used
    area is still looked at, for its message. Returns whether the bound is in force: only on
    Linux, where it is enforced (elsewhere nothing changes and the scan stays on).
    """
    global _confined
    if not sys.platform.startswith("linux"):
        return False
    try:
        import resource

        used = _address_space()
        if not used:
            return False
        resource.setrlimit(resource.RLIMIT_AS, (used + extra_memory, used + extra_memory))
    except (ImportError, ValueError, OSError):
        return False
    _confined = True
    return True


def confinable() -> bool:
    """Whether :func:`confine` can bound a process on this system."""
    return sys.platform.startswith("linux") and bool(_address_space())


def default_limits() -> Limits:
    """The limits for this process: :data:`CONFINED_LIMITS` once :func:`confine` took effect."""
    return CONFINED_LIMITS if _confined else DEFAULT_LIMITS


@dataclass(frozen=True)
class Container:
    """What kind of spreadsheet a file is: ``xlsx`` (also .xlsm), ``xlsb``, ``xls`` or ``ods``.

    For an .xlsx, ``unpacked`` is the same workbook with the parts a parser reads already
    inflated (stored, not compressed): the safety scan has to inflate them anyway, and handing
    the parser this copy saves it inflating them a second time (see :func:`_unpack`).
    """

    path: Path
    kind: str
    size: int
    unpacked: bytes | None = field(default=None, repr=False, compare=False)


class _Part(Protocol):
    """A zip directory entry: :class:`zipfile.ZipInfo`, or :class:`_Entry` from :func:`_directory`."""

    @property
    def filename(self) -> str: ...
    @property
    def file_size(self) -> int: ...
    @property
    def compress_size(self) -> int: ...
    @property
    def compress_type(self) -> int: ...
    @property
    def header_offset(self) -> int: ...
    @property
    def CRC(self) -> int: ...  # zipfile's name


class _Entry(NamedTuple):  # a tuple: built 15 times a workbook, 5× cheaper than a frozen dataclass
    filename: str
    file_size: int
    compress_size: int
    compress_type: int
    header_offset: int
    CRC: int


def _fail(path: Path, what: str, todo: str) -> UnreadableWorkbookError:
    return UnreadableWorkbookError(f"{path.name}：{what}。{todo}")


RESAVE = "请用 Excel 或 WPS 打开后另存为 .xlsx 文件再提交"


def inspect_file(path: str | os.PathLike[str], limits: Limits | None = None, *, scan_xml: bool = True) -> Container:
    """Classify a file and refuse it when it cannot safely be read as a spreadsheet.

    Raises :class:`~xls_gongkai.errors.UnreadableWorkbookError` (message: file, problem, what
    to do) for a missing, empty, oversized, encrypted, truncated or non-spreadsheet file, for
    a zip whose directory declares a bomb and (``scan_xml``) for an XML part declaring a DTD.

    The reader passes ``scan_xml=False``: python-calamine never expands XML entities (it stops
    at the first one with an error, measured), so for it the scan only improves the message;
    the reader runs :func:`explain_failure` when calamine fails, and good files skip the cost.
    ``limits`` defaults to :func:`default_limits`.
    """
    p = Path(path)
    limits = limits or default_limits()
    try:
        # One open, one read: this runs for every file of a batch.
        with p.open("rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            data = fh.read() if 0 < size <= limits.max_file_bytes else b""
    except IsADirectoryError as exc:
        raise _fail(p, "是文件夹，不是文件", "请给出工作簿文件") from exc
    except FileNotFoundError as exc:
        raise _fail(p, "文件不存在", "请检查文件名和路径") from exc
    except OSError as exc:
        raise _fail(p, f"无法打开（{exc.strerror or exc}）", "请检查文件权限，或关闭正在使用它的程序") from exc
    if size == 0:
        raise _fail(p, "文件是空的（0 字节）", "文件可能未下载完整，请重新获取")
    if size > limits.max_file_bytes:
        raise _fail(p, f"文件过大（{size // (1024 * 1024)} MB），不像是年报填报表", "请确认文件是否正确")
    head = data[:8]
    unpacked = None
    if head.startswith(ZIP_MAGIC):
        kind, unpacked = _inspect_zip(p, limits, data, scan_xml)
    elif head.startswith(OLE_MAGIC):
        kind = _inspect_ole(p)
    else:
        raise _fail(p, _guess_other(p, head), RESAVE)
    if kind in BINARY_KINDS and limits.probe_binary:
        _probe(p, limits)
    return Container(p, kind, size, unpacked)


def _guess_other(p: Path, head: bytes) -> str:
    if head.startswith(b"%PDF"):
        return "是 PDF 文件，不是电子表格"
    if head.startswith(b"{\\rtf"):
        return "是 RTF 文档，不是电子表格"
    with p.open("rb") as fh:
        sample = fh.read(4096)
    stripped = sample.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped[:1] == b"<":
        return "是网页或 XML 文本（有的软件把网页另存成 .xls），不是真正的电子表格"
    for enc in ("utf-8", "gb18030"):
        try:
            sample.decode(enc)
        except UnicodeDecodeError:
            continue
        return "是纯文本文件，不是电子表格"
    return "不是电子表格文件（无法识别的文件内容，可能已损坏）"


def _inspect_zip(p: Path, limits: Limits, data: bytes, scan_xml: bool = True) -> tuple[str, bytes | None]:
    if not scan_xml:
        entries = _directory(data)
        if entries is not None:
            # The reader's common case, an ordinary .xlsx: no ZipFile object at all.
            _check_sizes(p, entries, limits)
            return "xlsx", _unpack(p, None, entries, limits, data)
    try:
        # One read of the (size-capped) file serves the directory and the DTD scan.
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError) as exc:
        # NotImplementedError: a damaged directory declaring an unknown zip version or method.
        raise _fail(p, "文件已损坏或不完整（压缩包结构无法读取，可能下载或传送中断）", "请重新获取原文件") from exc
    with zf:
        infos = zf.infolist()
        _check_sizes(p, infos, limits)
        names = {i.filename for i in infos}
        kind = _zip_kind(p, zf, names)
        if kind == "ods":
            try:
                manifest = _head(zf, "META-INF/manifest.xml", 1 << 20) if "META-INF/manifest.xml" in names else b""
            except zipfile.BadZipFile as exc:  # a damaged manifest (bad CRC, broken deflate stream)
                raise _fail(p, "文件已损坏（压缩内容无法解开）", "请重新获取原文件") from exc
            if b"encryption-data" in manifest:
                raise _encrypted(p)
        if scan_xml:
            _scan_for_dtd(p, zf, infos, limits, data)
        if kind == "xlsx":
            return kind, _unpack(p, zf, infos, limits, data)
        return kind, None


def _check_sizes(p: Path, infos: Sequence[_Part], limits: Limits) -> None:
    """Refuse a zip whose directory declares absurd sizes, ratios or entry counts."""
    if len(infos) > limits.max_entries:
        raise _fail(p, f"文件包含 {len(infos)} 个部件，数量异常", "请确认文件来源，重新另存为 .xlsx")
    total = 0
    for info in infos:
        total += info.file_size
        ratio = info.file_size / max(info.compress_size, 1)
        if (
            info.file_size > limits.max_entry_bytes
            or total > limits.max_total_bytes
            or (info.file_size > limits.ratio_floor and ratio > limits.max_ratio)
        ):
            raise _fail(
                p,
                f"文件中的“{info.filename}”解压后达 {info.file_size // (1024 * 1024)} MB，"
                "疑似恶意构造的压缩炸弹，为安全起见不予读取",
                "请确认文件来源，向填报单位索取正常的工作簿",
            )


_END = b"PK\x05\x06"
_CENTRAL = b"PK\x01\x02"


def _directory(data: bytes) -> list[_Entry] | None:
    """The entries of an ordinary .xlsx's zip directory, read straight from its bytes.

    zipfile.ZipFile builds a ZipInfo (dates, extra fields, …) for every entry: 60 µs a
    workbook, a twentieth of reading it. This reads only what the checks need, and gives up
    (None: the caller uses zipfile) on anything not plainly an .xlsx of stored or deflated
    parts in one zip — zip64, several disks, other methods, an ODS, a damaged directory.
    """
    at = data.rfind(_END, max(0, len(data) - 65557))
    if at < 0 or len(data) < at + _END_RECORD.size:
        return None
    _sig, disk, cd_disk, n_here, n_all, cd_size, cd_at, _comment = _END_RECORD.unpack_from(data, at)
    if (
        disk
        or cd_disk
        or n_here != n_all
        or cd_at + cd_size > at
        or n_all in (0, 0xFFFF)
        or 0xFFFFFFFF in (cd_size, cd_at)
    ):
        return None
    entries: list[_Entry] = []
    pos = cd_at
    for _ in range(n_all):
        if data[pos : pos + 4] != _CENTRAL or pos + _CENTRAL_HEADER.size > at:
            return None
        (_s, _made, needed, flags, method, _t, _d, crc, csize, usize, nlen, xlen, clen, _ds, _ia, _ea, offset) = (
            _CENTRAL_HEADER.unpack_from(data, pos)
        )
        if (
            method not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
            or 0xFFFFFFFF in (csize, usize, offset)
            or needed > 63  # what zipfile can extract; it refuses the rest, so do we
            or flags & 0x1  # zip-encrypted
        ):
            return None
        raw = data[pos + 46 : pos + 46 + nlen]
        name = raw.decode("utf-8" if flags & 0x800 else "cp437")
        entries.append(_Entry(name, usize, csize, method, offset, crc))
        pos += 46 + nlen + xlen + clen
    if pos != cd_at + cd_size:
        return None
    names = {e.filename for e in entries}
    if "xl/workbook.xml" not in names or "mimetype" in names:
        return None
    return entries


_ELEMENT = re.compile(rb"<[A-Za-z_]")
_DTD = (b"<!DOCTYPE", b"<!ENTITY", b"<!doctype")
# Parts no reader of ours ever parses (document properties, theme, printer settings): a DTD
# there can do no harm, and skipping them keeps the scan cheap for batches of thousands.
_UNPARSED = ("docProps/", "xl/theme/", "xl/printerSettings/")


def _scan_for_dtd(p: Path, zf: zipfile.ZipFile, infos: Sequence[_Part], limits: Limits, data: bytes) -> None:
    """Refuse any XML part that declares a DTD (an entity bomb needs one; Excel never writes one).

    A DTD can only stand before the root element, so it is enough to inflate each part up to
    its first element. The parts are inflated straight from the file's bytes (one read, no
    per-part file objects): this runs for every workbook of a batch.
    """
    for info in infos:
        if not (info.filename.endswith((".xml", ".rels", ".vml")) and info.file_size):
            continue
        if info.filename.startswith(_UNPARSED):
            continue
        try:
            head = _prolog(data, info, zf, limits)
        except Exception as exc:
            # zlib.error, EOFError, bad local headers: all mean a corrupt part.
            raise _fail(
                p, f"文件已损坏（其中的“{info.filename}”无法解开，可能下载或传送中断）", "请重新获取原文件"
            ) from exc
        m = _ELEMENT.search(head)
        prolog = head[: m.start()] if m else head
        if any(marker in prolog for marker in _DTD) or (m is None and len(head) >= limits.head_bytes):
            raise _fail(
                p,
                f"文件中的“{info.filename}”含有 XML 实体定义（电子表格软件不会生成），"
                "疑似恶意构造的文件，为安全起见不予读取",
                "请确认文件来源，向填报单位索取正常的工作簿",
            )


def _prolog(data: bytes, info: _Part, zf: zipfile.ZipFile, limits: Limits) -> bytes:
    """The first bytes of a part, up to its first element (at most ``limits.head_bytes``)."""
    start = _data_start(data, info)
    if info.compress_type == zipfile.ZIP_STORED:
        return data[start : start + min(info.file_size, limits.head_bytes)]
    if info.compress_type == zipfile.ZIP_DEFLATED:
        inflater = zlib.decompressobj(-15)
        out = b""
        pos = start
        end = start + info.compress_size
        # Inflate a little at a time until the root element shows (usually within 100 bytes).
        step = 96
        while pos < end and len(out) < limits.head_bytes:
            chunk = data[pos : min(pos + step, end)]
            if not chunk:
                break  # the directory claims more bytes than the file has (looped forever: fuzzing)
            pos += len(chunk)
            out += inflater.decompress(chunk, limits.head_bytes - len(out))
            step = 512
            if _ELEMENT.search(out):
                break
            if inflater.unconsumed_tail:
                break
        return out
    return _head(zf, info.filename, limits.head_bytes)


def _head(zf: zipfile.ZipFile, name: str, n: int) -> bytes:
    try:
        with zf.open(name) as fh:
            return fh.read(n)
    except Exception as exc:
        # zlib.error, EOFError, CRC mismatches, unsupported methods: all mean a corrupt part.
        raise zipfile.BadZipFile(str(exc)) from exc


def _zip_kind(p: Path, zf: zipfile.ZipFile, names: set[str]) -> str:
    try:
        if "mimetype" in names:
            mime = _head(zf, "mimetype", 200).strip()
            if mime == ODS_MIME:
                return "ods"
            if mime.startswith(b"application/vnd.oasis.opendocument"):
                raise _fail(p, "是 OpenDocument 文字或演示文稿，不是电子表格", RESAVE)
        if "xl/workbook.xml" in names:
            return "xlsx"
        if "xl/workbook.bin" in names:
            return "xlsb"
    except zipfile.BadZipFile as exc:
        raise _fail(p, "文件已损坏（压缩内容无法解开）", "请重新获取原文件") from exc
    if "word/document.xml" in names:
        raise _fail(p, "是 Word 文档，不是电子表格", "请提交填好的 Excel 工作簿")
    if "ppt/presentation.xml" in names:
        raise _fail(p, "是 PowerPoint 演示文稿，不是电子表格", "请提交填好的 Excel 工作簿")
    if not names:
        raise _fail(p, "是空的压缩包，没有任何工作表", "请重新获取原文件")
    raise _fail(p, "是压缩包，但不是电子表格（缺少工作簿部件）", "请提交填好的 Excel 工作簿（.xlsx）")


def _encrypted(p: Path) -> UnreadableWorkbookError:
    return _fail(
        p,
        "设置了打开密码（已加密），无法读取",
        "请填报单位取消密码（文件→信息→保护工作簿→用密码进行加密，清空密码）后重新提交",
    )


def _inspect_ole(p: Path) -> str:
    # The directory entries of a compound file hold stream names in UTF-16LE; looking for them
    # in the bytes avoids a dependency on an OLE parser for this one question.
    data = p.read_bytes()
    if "EncryptionInfo".encode("utf-16-le") in data or "EncryptedPackage".encode("utf-16-le") in data:
        raise _encrypted(p)
    if "WordDocument".encode("utf-16-le") in data:
        raise _fail(p, "是 Word 文档（.doc），不是电子表格", "请提交填好的 Excel 工作簿")
    if "Workbook".encode("utf-16-le") in data or "Book".encode("utf-16-le") in data:
        return "xls"
    raise _fail(p, "是 Office 旧格式文件，但不是 Excel 工作簿，或已损坏", RESAVE)


def explain_failure(path: str | os.PathLike[str], limits: Limits | None = None) -> None:
    """After a parser failed on ``path``: raise the precise reason when the full inspection finds one.

    Returns normally when nothing specific is found (the caller then reports a generic
    corruption message).
    """
    inspect_file(path, limits, scan_xml=True)


# --------------------------------------------------------------------------- binary workbooks
#
# python-calamine's .xls parser trusts sizes written in the file: a damaged record made it ask
# for 1.7 TB ("memory allocation of 1742146124400 bytes failed"), and Rust answers a failed
# allocation by *aborting the process* — no exception, the whole batch gone (found by fuzzing
# LibreOffice .xls bytes, tests/test_fuzz.py). Nothing in the file's directory predicts it, so a
# binary workbook (rare: .xls from WPS or an old Excel) is first parsed in a forked child with
# bounded memory and time; only if the child survives does the reader parse it for real.


#: Exit codes of the probe child (0: parsed). Not 1-3: Python and the C runtime use those.
PROBE_ERROR = 10  # an ordinary parse error, which the reader reports itself
PROBE_MEMORY = 11  # the bounded address space ran out


def _probe(p: Path, limits: Limits) -> None:
    # Windows has no fork: a fresh interpreter costs ~0.2 s, paid only by the rare .xls/.ods
    # file or a sheet with far cells.
    fork = hasattr(os, "fork") and not limits.probe_spawn
    code = _probe_forked(p, limits) if fork else _probe_spawned(p, limits)
    if code in (0, PROBE_ERROR):
        return
    if code == PROBE_MEMORY:
        raise _fail(
            p,
            "读取所需内存超出限制：工作表的使用范围异常大，通常是在很远的单元格误填了内容或设置了格式",
            "请在 Excel 或 WPS 中删除表格以外多余的行和列，另存为 .xlsx 后再提交",
        )
    if code is None:
        raise _fail(p, "文件已损坏（读取超时）", RESAVE)
    raise _fail(p, "文件已损坏，或工作表的使用范围异常大（读取时表格解析程序中止）", RESAVE)


def _probe_forked(p: Path, limits: Limits) -> int | None:
    """The forked child's exit code; negative when a signal ended it; None on timeout."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child, which never returns
        _probe_child(str(p), limits.probe_memory)
    deadline = time.monotonic() + limits.probe_seconds
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return None
        time.sleep(0.002)
    return os.WEXITSTATUS(status) if os.WIFEXITED(status) else -1


def _probe_spawned(p: Path, limits: Limits) -> int | None:
    code = (
        "import sys; from xls_gongkai.reading.safety import _probe_child; _probe_child(sys.argv[1], int(sys.argv[2]))"
    )
    try:
        done = subprocess.run(
            [sys.executable, "-c", code, str(p), str(limits.probe_memory)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=limits.probe_seconds,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return None
    except OSError:  # pragma: no cover - cannot start a process at all: parse directly
        return 0
    return done.returncode


def _probe_child(path: str, extra_memory: int) -> None:  # pragma: no cover - child process
    code = 12
    try:
        # Rust prints its panic and abort messages on stderr, and an enabled faulthandler (pytest,
        # PYTHONFAULTHANDLER) would dump this child's abort: keep the parent's output clean.
        import faulthandler

        faulthandler.disable()
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        try:
            import resource

            used = _address_space()
            if used:
                limit = used + extra_memory
                resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        except (ImportError, ValueError, OSError):
            pass
        import python_calamine

        try:
            book = python_calamine.CalamineWorkbook.from_path(path)
            for name in book.sheet_names:
                book.get_sheet_by_name(name).to_python(skip_empty_area=False)
            code = 0
        except MemoryError:
            code = PROBE_MEMORY
        except BaseException:
            code = PROBE_ERROR
    finally:
        os._exit(code)


def _address_space() -> int:
    """This process's virtual memory size in bytes (Linux), or 0 when unknown."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return 0
    return 0


# --------------------------------------------------------------------------- used area
#
# python-calamine sizes a worksheet from its cells: one value typed at XFD1048576 (a clerk's
# slip, or a crafted file) made it ask for 549 GB and abort the process; a value at row 200,000,
# column 300 kept it busy for minutes building 60 million empty cells; a cell at ZZ1 with a row
# r="900000" below it asked for 20 GB (all measured). Excel, WPS, LibreOffice and xlsxwriter
# write the used area as <dimension ref="A1:…"/> near the top of each worksheet part, and a
# large declared area is refused with a message saying where it ends. The declaration is not
# trusted for the cells themselves (``scan_cells``): every worksheet the workbook points to is
# inflated up to the end of its first <sheetData> (the only one python-calamine reads,
# measured) and every reference in it is looked at. Anything unusual — a far reference, a row
# or cell without a reference (calamine counts those on from the previous one), a namespace
# prefix — sends the file to the bounded child probe instead of the parser.
#
# Inflating is most of the cost of that scan, and python-calamine would inflate the same bytes
# again — and then the rest of the part too (the zip reader drains an entry it drops), which in
# a template is 90 KB of input prompts after 20 KB of cells. So (``unpack``) the parser is
# handed the workbook again with each worksheet stored, cut after its cells
# (:attr:`Container.unpacked`): measured on 1,000 filled templates, calamine then reads a file
# in about 450 µs instead of 650 µs, which pays for the scan.

_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\s+ref="([A-Z]{1,3})(\d{1,7})(?::([A-Z]{1,3})(\d{1,7}))?"')
_PREFIXED_SHEET_DATA = re.compile(rb"<\w+:sheetData[\s/>]")
#: An element of <sheetData> that python-calamine could place far away: a cell or row whose
#: reference lies beyond column ZZ or row 9,999 (``<c r="AAA1"``, ``<c r="A10000"``,
#: ``<row r="10000"``), or one without a reference as its first attribute (calamine counts
#: those on from the previous one; Excel, WPS, LibreOffice and xlsxwriter always write it).
#: One pass over the cells: two separate searches, or counting elements, cost up to twice as much.
_FAR_OR_UNPLACED = re.compile(rb'<(?:c|row)(?! r="(?![A-Z]{3}|[A-Z]{0,2}\d{5}))[\s>/]')
_TARGET = re.compile(rb'Target="([^"]+)"')
_RELS = "xl/_rels/workbook.xml.rels"
#: Parts python-calamine never reads from an .xlsx (it needs [Content_Types].xml to tell the
#: kind of a file it is handed as bytes, so that one stays).
_NOT_READ = ("docProps/", "xl/theme/", "xl/printerSettings/", "xl/media/", "customXml/")
_LOCAL_HEADER = struct.Struct("<4sHHHHHIIIHH")
_CENTRAL_HEADER = struct.Struct("<4sHHHHHHIIIHHHHHII")
_END_RECORD = struct.Struct("<4sHHHHIIH")


def _column_number(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n


def _sheet_parts(names: set[str], rels: bytes) -> list[str]:
    """Every part the workbook points to (a worksheet may be anywhere), plus xl/worksheets/*.xml."""
    out = {n for n in names if n.startswith("xl/worksheets/") and n.endswith(".xml") and n.count("/") == 2}
    for m in _TARGET.finditer(rels):
        target = m.group(1).decode("utf-8", "replace")
        name = target[1:] if target.startswith("/") else "xl/" + target
        if "./" in name:
            name = posixpath.normpath(name)
        if name in names and name.endswith(".xml"):
            out.add(name)
    return sorted(out)


def _unpack(p: Path, zf: zipfile.ZipFile | None, infos: Sequence[_Part], limits: Limits, data: bytes) -> bytes | None:
    """Check every worksheet's used area; the workbook with its worksheets' cells stored (``unpack``)."""
    by_name = {i.filename: i for i in infos}
    names = set(by_name)
    # A worksheet may stand anywhere the workbook points to; only the scan must find them all
    # (without it, one elsewhere is inflated by calamine itself, in a confined process).
    rels = _inflate_part(p, data, by_name[_RELS], zf, limits, "")[0] if limits.scan_cells and _RELS in by_name else b""
    stored: dict[str, tuple[bytes, int]] = {}
    unknown = False
    # calamine tells the kind of a workbook handed to it as bytes by [Content_Types].xml: no
    # copy without it.
    unpack = limits.unpack and "[Content_Types].xml" in by_name
    # Without the scan or the stored copy only the declared area is needed: it stands first.
    cells = limits.scan_cells or unpack
    for name in _sheet_parts(names, rels):
        info = by_name[name]
        part, whole, at = _inflate_part(p, data, info, zf, limits, "</sheetData>" if cells else "<sheetData")
        begin = part.find(b"<sheetData", 0, at if at >= 0 else len(part)) if cells else at
        if begin < 0:
            # No cells, or written with a namespace prefix (<x:sheetData>): the probe decides that.
            unknown = unknown or _PREFIXED_SHEET_DATA.search(part) is not None
            continue
        _check_declared(p, part, begin, limits)
        if not cells:
            continue
        end = at + 12 if at >= 0 else (begin + 12 if part.startswith(b"<sheetData/>", begin) else -1)
        if end < 0:
            unknown = True  # cut short: more cells than ``max_entry_bytes``, or a damaged part
            continue
        if limits.scan_cells and _FAR_OR_UNPLACED.search(part, begin, end) is not None:
            unknown = True
        if not unpack:
            continue
        if whole:
            stored[name] = (part, info.CRC)
        elif part.find(b"<worksheet", 0, begin) >= 0:
            cut = part[:end] + b"</worksheet>"
            stored[name] = (cut, _crc32(cut))
    if unknown and limits.probe_binary:
        _probe(p, limits)
    if not unpack:
        return None
    try:
        return _stored_copy(infos, stored, data)
    except zipfile.BadZipFile as exc:  # a part's local header is not where the directory says
        raise _fail(p, "文件已损坏或不完整（压缩包结构无法读取，可能下载或传送中断）", "请重新获取原文件") from exc


def _check_declared(p: Path, part: bytes, begin: int, limits: Limits) -> None:
    """Refuse a worksheet whose declared used area (<dimension>) is absurdly large."""
    at = part.find(b"<dimension ", 0, begin)  # the usual spelling: a plain search finds it
    m = _DIMENSION.match(part, at, begin) if at >= 0 else _DIMENSION.search(part, 0, begin)
    if m is None:
        return
    c0, r0 = _column_number(m.group(1)), int(m.group(2))
    c1, r1 = (_column_number(m.group(3)), int(m.group(4))) if m.group(3) else (c0, r0)
    cells = (abs(r1 - r0) + 1) * (abs(c1 - c0) + 1)
    if cells > limits.max_cells:
        last = (m.group(3) or m.group(1)).decode() + (m.group(4) or m.group(2)).decode()
        raise _fail(
            p,
            f"有工作表的使用范围异常大（一直延伸到单元格 {last}，约 {cells:,} 个单元格），"
            "通常是在很远的单元格误填了内容或设置了格式",
            "请在 Excel 或 WPS 中删除表格以外多余的行和列（或把表格复制到新工作簿），另存为 .xlsx 后再提交",
        )


def _inflate_part(
    p: Path, data: bytes, info: _Part, zf: zipfile.ZipFile | None, limits: Limits, stop: str
) -> tuple[bytes, bool, int]:
    """A part inflated straight from the file's bytes, up to the first ``stop`` (all of it for "").

    Returns the bytes, whether they are the whole part, and where ``stop`` starts in them (-1:
    not there). A worksheet is taken 6 KB at a time (then in doubling steps) until its cells
    end: with zlib that stops the inflating there; ISA-L inflates ahead in its own buffer
    (measured), so there it saves copying. A part that inflates to more than its declared
    size is damaged or crafted and is not taken past that.
    """
    most = min(info.file_size, limits.max_entry_bytes)
    marker = stop.encode()
    try:
        start = _data_start(data, info)
        if info.compress_type == zipfile.ZIP_DEFLATED:
            inflater = _decompressobj(-15)
            first = (6144 if marker == b"</sheetData>" else 1024) if marker else most + 1
            part = inflater.decompress(data[start : start + info.compress_size], min(first, most + 1))
            at = part.find(marker) if marker else -1
            while marker and at < 0 and len(part) <= most and not inflater.eof:
                searched = max(0, len(part) - len(marker))  # a marker may straddle the step
                more = inflater.decompress(inflater.unconsumed_tail, max(1, min(len(part), most + 1 - len(part))))
                if not more:
                    break
                part += more
                at = part.find(marker, searched)
            whole = inflater.eof
        elif info.compress_type == zipfile.ZIP_STORED:
            part, whole = data[start : start + info.file_size], True
            at = part.find(marker) if marker else -1
        elif zf is not None:
            part, whole = _head(zf, info.filename, most + 1), True
            at = part.find(marker) if marker else -1
        else:  # _directory() only lets stored and deflated parts through
            raise zipfile.BadZipFile(f"{info.filename}: compression method {info.compress_type}")
    except Exception as exc:
        # zlib.error, EOFError, bad local headers: all mean a corrupt part.
        raise _fail(
            p, f"文件已损坏（其中的“{info.filename}”无法解开，可能下载或传送中断）", "请重新获取原文件"
        ) from exc
    if len(part) > most or (whole and len(part) != info.file_size):
        raise _fail(
            p, f"文件已损坏（其中的“{info.filename}”与文件目录记载的大小不符，可能下载或传送中断）", "请重新获取原文件"
        )
    return part, whole, at


def _stored_copy(infos: Sequence[_Part], stored: dict[str, tuple[bytes, int]], data: bytes) -> bytes:
    """The zip again, with the ``stored`` parts (body, CRC) uncompressed and every other part as it is.

    Parts python-calamine never reads (properties, theme, printer settings, pictures) are left
    out: less to copy, and a picture can be megabytes.
    """
    chunks: list[bytes] = []
    central: list[bytes] = []
    offset = 0
    for info in infos:
        if info.filename.startswith(_NOT_READ):
            continue
        if info.filename in stored:
            payload, crc = stored[info.filename]
            method, size = zipfile.ZIP_STORED, len(payload)
        else:
            start = _data_start(data, info)
            payload, crc = data[start : start + info.compress_size], info.CRC
            method, size = info.compress_type, info.file_size
        name = info.filename.encode("utf-8")
        flags = 0 if name.isascii() else 0x800  # UTF-8 names
        local = _LOCAL_HEADER.pack(b"PK\x03\x04", 20, flags, method, 0, 0x21, crc, len(payload), size, len(name), 0)
        central.append(
            _CENTRAL_HEADER.pack(
                b"PK\x01\x02", 20, 20, flags, method, 0, 0x21, crc, len(payload), size, len(name), 0, 0, 0, 0, 0, offset
            )
            + name
        )
        chunks += (local, name, payload)
        offset += len(local) + len(name) + len(payload)
    directory = b"".join(central)
    end = _END_RECORD.pack(b"PK\x05\x06", 0, 0, len(central), len(central), len(directory), offset, 0)
    return b"".join((*chunks, directory, end))


def _data_start(data: bytes, info: _Part) -> int:
    """Where a part's compressed bytes begin: after its local header, name and extra field."""
    at = info.header_offset
    if data[at : at + 4] != b"PK\x03\x04":
        raise zipfile.BadZipFile(f"bad local header for {info.filename}")
    return (
        at + 30 + int.from_bytes(data[at + 26 : at + 28], "little") + int.from_bytes(data[at + 28 : at + 30], "little")
    )
