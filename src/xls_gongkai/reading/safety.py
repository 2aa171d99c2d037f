"""Look at a file before handing it to a spreadsheet parser, and refuse what cannot be used.

A workbook is a zip of XML from an untrusted sender. python-calamine inflates a sheet's XML in
full: a sheet that inflates to 1.5 GB took it 60 s and 2.8 GB of memory. So the zip's directory
is read first (:mod:`zipfile`, nothing inflated) and absurd sizes, compression ratios, entry
counts and compression methods are refused, and so are duplicate entry names (which copy is
the data?); every later look inside is a bounded read. The first bytes of each XML part are
looked at for a DTD (Excel never writes one; an entity bomb needs one). OLE compound files are
told apart: an encrypted (password-protected) OOXML workbook is an OLE file holding
``EncryptionInfo``; an old .xls holds ``Workbook``; a Word document ``WordDocument``.
Everything else is refused with a Chinese line naming the file and saying what to do.

What a usable container holds besides cells — macros, embedded objects, external and DDE
links, odd entry names — is named in :attr:`Container.findings` (never run or unpacked).

python-calamine can also take down the whole process: a damaged .xls record, or a cell far
away (XFD1048576) in any format, made it ask for hundreds of gigabytes and abort. In a batch
worker bounded by :func:`confine` such a request fails at once and costs that worker only (the
batch re-reads its files one process each and reports the one that crashes). Elsewhere — a
library caller's own process, or a system where the bound cannot be set — each worksheet's
cell references are looked at first, and .xls/.xlsb/.ods files (and sheets with far cells)
are parsed once in a child process with bounded memory and time before the reader parses them.
A sheet whose declared used area (<dimension>) is absurd is refused everywhere, with a message
saying where it ends (by :func:`inspect_file`, or in a confined worker by ``special_cells``).
"""

from __future__ import annotations

import io
import os
import re
import signal
import subprocess
import sys
import time
import zipfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from xls_gongkai.errors import UnreadableWorkbookError
from xls_gongkai.reading.findings import Finding, duplicate_names, ole_findings, printable, zip_findings
from xls_gongkai.reading.parts import read_head, read_until, worksheets

__all__ = [
    "BINARY_KINDS",
    "Container",
    "Finding",
    "Limits",
    "confinable",
    "confine",
    "default_limits",
    "explain_failure",
    "inspect_file",
]

ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ODS_MIME = b"application/vnd.oasis.opendocument.spreadsheet"
#: Formats parsed once in a bounded child first (outside confined workers): record-based ones
#: (a damaged record can abort the process) and .ods, whose repeated-cell attributes let one
#: far cell cost gigabytes.
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
    #: Parse binary workbooks (.xls, .xlsb, .ods), and sheets with far cells, once in a
    #: throw-away child process first (see _probe).
    probe_binary: bool = True
    probe_seconds: float = 60.0
    probe_spawn: bool = False  # a fresh interpreter instead of fork (always so where there is no fork)
    probe_memory: int = 1024 * 1024 * 1024  # address space the child may add to its parent's
    #: Cells a worksheet's used area (<dimension>) may span; the template uses about 2,000.
    max_cells: int = 2_000_000
    #: Look at every cell reference of each worksheet, not only its declared <dimension>.
    scan_cells: bool = True


DEFAULT_LIMITS = Limits()
#: In a confined batch worker (see :func:`confine`) a parser that asks for absurd memory fails
#: at once and costs one worker, not the batch: neither the cell scan nor the probe is needed.
CONFINED_LIMITS = Limits(scan_cells=False, probe_binary=False)
_confined = False


def confine(extra_memory: int = 2 * 1024 * 1024 * 1024) -> bool:
    """Bound this process's address space; meant for a batch's worker processes.

    python-calamine answers an absurd allocation by aborting the process. In a process whose
    address space is bounded the allocation fails at once instead of filling the machine's
    memory, only this process dies, and :func:`xls_gongkai.batch.parallel.map_files` re-reads its
    files one process each and reports the one that crashes. Such a process therefore skips
    the cell scan and the child-process probe (:func:`default_limits`) and looks at no worksheet
    before parsing: :func:`~xls_gongkai.reading.cells.special_cells`, which the reader runs
    first, still refuses a sheet whose declared used area is absurd, with its message. Returns
    whether the bound is in force: only on Linux, where it is enforced (elsewhere nothing
    changes and the scan and probe stay on).
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
    """What kind of spreadsheet a file is — ``xlsx`` (also .xlsm), ``xlsb``, ``xls`` or ``ods`` —
    and what it holds besides cells (:class:`~xls_gongkai.reading.findings.Finding`, one warning each)."""

    path: Path
    kind: str
    size: int
    findings: tuple[Finding, ...] = ()
    #: The bytes inspected, so that a later look at the same file (:func:`special_cells
    #: <xls_gongkai.reading.cells.special_cells>`) neither reads it again nor sees another version.
    data: bytes = field(default=b"", repr=False, compare=False)


def _fail(path: Path, what: str, todo: str) -> UnreadableWorkbookError:
    return UnreadableWorkbookError(f"{printable(path.name, 200)}：{what}。{todo}")


RESAVE = "请用 Excel 或 WPS 打开后另存为 .xlsx 文件再提交"
#: What zipfile and zlib raise for a damaged part (bad CRC, broken deflate stream, bad header,
#: a part zip-encrypted or packed with a method zipfile lacks).
PART_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, RuntimeError, NotImplementedError, ValueError)


def corrupt(p: Path, part: str = "") -> UnreadableWorkbookError:
    """The error for a part that cannot be inflated (a damaged or cut-short file)."""
    where = f"（其中的“{printable(part)}”无法解开，可能下载或传送中断）" if part else "（压缩内容无法解开）"
    return _fail(p, f"文件已损坏{where}", "请重新获取原文件")


def inspect_file(path: str | os.PathLike[str], limits: Limits | None = None, *, scan_xml: bool = True) -> Container:
    """Classify a file and refuse it when it cannot safely be read as a spreadsheet.

    Raises :class:`~xls_gongkai.errors.UnreadableWorkbookError` (message: file, problem, what
    to do) for a missing, empty, oversized, encrypted, truncated or non-spreadsheet file, for
    a zip whose directory declares a bomb or holds two entries of the same name, for a sheet
    whose used area is absurdly large and (``scan_xml``) for an XML part declaring a DTD.

    The reader passes ``scan_xml=False``: python-calamine never expands XML entities (it stops
    at the first one with an error), so for it the scan only improves the message; the
    reader runs :func:`explain_failure` when calamine fails, and good files skip the cost.
    ``limits`` defaults to :func:`default_limits`.
    """
    p = Path(path)
    limits = limits or default_limits()
    data = read_file(p, limits)
    head = data[:8]
    findings: tuple[Finding, ...] = ()
    if head.startswith(ZIP_MAGIC):
        kind, findings = _inspect_zip(p, data, limits, scan_xml)
    elif head.startswith(OLE_MAGIC):
        kind = _inspect_ole(p, data)
        findings = ole_findings(data)
    else:
        raise _fail(p, _guess_other(data[:4096]), RESAVE)
    if kind in BINARY_KINDS and limits.probe_binary:
        _probe(p, limits)
    return Container(p, kind, len(data), findings, data)


def read_file(p: Path, limits: Limits) -> bytes:
    """The file's bytes, refusing a missing, unreadable, empty or oversized file."""
    try:
        with p.open("rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            data = fh.read(limits.max_file_bytes + 1) if 0 < size <= limits.max_file_bytes else b""
    except IsADirectoryError as exc:
        raise _fail(p, "是文件夹，不是文件", "请给出工作簿文件") from exc
    except FileNotFoundError as exc:
        raise _fail(p, "文件不存在", "请检查文件名和路径") from exc
    except OSError as exc:
        raise _fail(p, f"无法打开（{exc.strerror or exc}）", "请检查文件权限，或关闭正在使用它的程序") from exc
    if size == 0:
        raise _fail(p, "文件是空的（0 字节）", "文件可能未下载完整，请重新获取")
    if size > limits.max_file_bytes or len(data) > limits.max_file_bytes:
        raise _fail(p, f"文件过大（{size // (1024 * 1024)} MB），不像是年报填报表", "请确认文件是否正确")
    return data


def _guess_other(sample: bytes) -> str:
    if sample.startswith(b"%PDF"):
        return "是 PDF 文件，不是电子表格"
    if sample.startswith(b"{\\rtf"):
        return "是 RTF 文档，不是电子表格"
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


def open_zip(p: Path, data: bytes) -> zipfile.ZipFile:
    """The zip's directory, read by :mod:`zipfile` (nothing is inflated)."""
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError) as exc:
        # NotImplementedError: a damaged directory declaring an unknown zip version or method.
        raise _fail(p, "文件已损坏或不完整（压缩包结构无法读取，可能下载或传送中断）", "请重新获取原文件") from exc


def _inspect_zip(p: Path, data: bytes, limits: Limits, scan_xml: bool) -> tuple[str, tuple[Finding, ...]]:
    with open_zip(p, data) as zf:
        infos = zf.infolist()
        check_sizes(p, infos, limits)
        twice = duplicate_names(infos)
        if twice:
            raise _fail(
                p,
                f"压缩包中有重名的部件“{printable(twice[0])}”，无法确定哪一份是数据，疑似被改动或恶意构造",
                "请用 Excel 或 WPS 打开后重新保存，再提交",
            )
        try:
            kind = _zip_kind(p, zf)
            findings = zip_findings(zf, infos)
            if scan_xml:
                _scan_for_dtd(p, zf, infos, limits)
            if kind == "xlsx" and limits.scan_cells and _sheets_need_probe(p, zf, limits) and limits.probe_binary:
                _probe(p, limits)
        except PART_ERRORS as exc:
            raise corrupt(p) from exc
    return kind, findings


def check_sizes(p: Path, infos: Sequence[zipfile.ZipInfo], limits: Limits) -> None:
    """Refuse a zip whose directory declares absurd sizes, ratios, entry counts or methods."""
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
                f"文件中的“{printable(info.filename)}”解压后达 {info.file_size // (1024 * 1024)} MB，"
                "疑似恶意构造的压缩炸弹，为安全起见不予读取",
                "请确认文件来源，向填报单位索取正常的工作簿",
            )
        # Spreadsheet programs only store or deflate; zipfile inflates other methods (bzip2,
        # lzma) without a bound on what one read produces.
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED) or info.flag_bits & 0x1:
            raise _fail(p, f"文件中的“{printable(info.filename)}”以电子表格软件不会使用的方式压缩或加密", RESAVE)


_ELEMENT = re.compile(rb"<[A-Za-z_]")
_DTD = (b"<!DOCTYPE", b"<!ENTITY", b"<!doctype")
# Parts no reader of ours ever parses (document properties, theme, printer settings): a DTD
# there can do no harm, and skipping them keeps the scan cheap for batches of thousands.
_UNPARSED = ("docProps/", "xl/theme/", "xl/printerSettings/")


def _scan_for_dtd(p: Path, zf: zipfile.ZipFile, infos: Sequence[zipfile.ZipInfo], limits: Limits) -> None:
    """Refuse any XML part that declares a DTD (an entity bomb needs one; Excel never writes one).

    A DTD can only stand before the root element, so the first ``head_bytes`` of each part
    are enough; a part with no element in them hides its start behind padding and is refused.
    """
    for info in infos:
        if not (info.filename.endswith((".xml", ".rels", ".vml")) and info.file_size):
            continue
        if info.filename.startswith(_UNPARSED):
            continue
        try:
            head = read_head(zf, info, limits.head_bytes)
        except PART_ERRORS as exc:
            raise corrupt(p, info.filename) from exc
        m = _ELEMENT.search(head)
        prolog = head[: m.start()] if m else head
        if any(marker in prolog for marker in _DTD) or (m is None and len(head) >= limits.head_bytes):
            raise _fail(
                p,
                f"文件中的“{printable(info.filename)}”含有 XML 实体定义（电子表格软件不会生成），"
                "疑似恶意构造的文件，为安全起见不予读取",
                "请确认文件来源，向填报单位索取正常的工作簿",
            )


def _zip_kind(p: Path, zf: zipfile.ZipFile) -> str:
    names = zf.NameToInfo
    if "mimetype" in names:
        mime = read_head(zf, names["mimetype"], 200).strip()
        if mime == ODS_MIME:
            manifest = names.get("META-INF/manifest.xml")
            if manifest is not None and b"encryption-data" in read_head(zf, manifest, 1 << 20):
                raise _encrypted(p)
            return "ods"
        if mime.startswith(b"application/vnd.oasis.opendocument"):
            raise _fail(p, "是 OpenDocument 文字或演示文稿，不是电子表格", RESAVE)
    if "xl/workbook.xml" in names:
        return "xlsx"
    if "xl/workbook.bin" in names:
        return "xlsb"
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


def _inspect_ole(p: Path, data: bytes) -> str:
    # The directory entries of a compound file hold stream names in UTF-16LE; looking for them
    # in the bytes avoids a dependency on an OLE parser for this one question.
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
    corruption message). Every worksheet's declared used area is looked at, also in a confined
    worker; the probe runs only where the limits allow it. In the parent of a batch, after a
    worker crashed on ``path``, this names the reason (a far cell) where there is one.
    """
    inspect_file(path, replace(limits or default_limits(), scan_cells=True), scan_xml=True)


# --------------------------------------------------------------------------- used area
#
# python-calamine sizes a worksheet from its cells: one value typed at XFD1048576 (a clerk's
# slip, or a crafted file) made it ask for 549 GB and abort the process; a value at row 200,000,
# column 300 kept it busy for seconds building 60 million empty cells (2.3 GB); a cell at ZZ1
# with a row r="900000" below it asked for 20 GB. Excel, WPS, LibreOffice and xlsxwriter write
# the used area as <dimension ref="A1:…"/> near the top of each worksheet part, and a large
# declared area is refused with a message saying where it ends. The declaration is not trusted
# for the cells themselves (``scan_cells``): every worksheet is read up to the end of its first
# <sheetData> (the only one python-calamine reads) and every reference in it is looked at.
# Anything unusual — a far reference, a row or cell without a reference (calamine counts those
# on from the previous one), a namespace prefix — sends the file to the bounded child probe.

_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\s+ref="([A-Z]{1,3})(\d{1,7})(?::([A-Z]{1,3})(\d{1,7}))?"')
_PREFIXED_SHEET_DATA = re.compile(rb"<\w+:sheetData[\s/>]")
#: An element of <sheetData> that python-calamine could place far away: a cell or row whose
#: reference lies beyond column ZZ or row 9,999 (``<c r="AAA1"``, ``<c r="A10000"``,
#: ``<row r="10000"``), or one without a reference as its first attribute (calamine counts
#: those on from the previous one; Excel, WPS, LibreOffice and xlsxwriter always write it).
_FAR_OR_UNPLACED = re.compile(rb'<(?:c|row)(?! r="(?![A-Z]{3}|[A-Z]{0,2}\d{5}))[\s>/]')


def _column_number(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n


def _sheet_parts(zf: zipfile.ZipFile) -> list[str]:
    """Every worksheet the workbook points to (a worksheet may be anywhere), plus xl/worksheets/*.xml."""
    out = {s.part for s in worksheets(zf)}
    out.update(n for n in zf.NameToInfo if n.startswith("xl/worksheets/") and n.endswith(".xml") and n.count("/") == 2)
    return sorted(out)


def _sheets_need_probe(p: Path, zf: zipfile.ZipFile, limits: Limits) -> bool:
    """Check every worksheet's declared used area; whether any has cells calamine could place far away."""
    unknown = False
    for name in _sheet_parts(zf):
        info = zf.getinfo(name)
        try:
            part, end = read_until(zf, info, b"</sheetData>", min(info.file_size, limits.max_entry_bytes))
        except PART_ERRORS as exc:
            raise corrupt(p, name) from exc
        begin = part.find(b"<sheetData", 0, end + 1 if end >= 0 else len(part))
        if begin < 0:
            # No cells, or written with a namespace prefix (<x:sheetData>): the probe decides that.
            unknown = unknown or _PREFIXED_SHEET_DATA.search(part) is not None
            continue
        check_declared(p, part, begin, limits)
        if end < 0 and part.startswith(b"<sheetData/>", begin):
            continue
        # Cut short (more cells than ``max_entry_bytes``, or a damaged part), or far cells.
        unknown = unknown or end < 0 or _FAR_OR_UNPLACED.search(part, begin, end) is not None
    return unknown


def check_declared(p: Path, part: bytes, begin: int, limits: Limits) -> None:
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
