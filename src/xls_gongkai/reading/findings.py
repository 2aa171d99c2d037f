"""What a spreadsheet container holds besides its cells: macros, embedded objects, links, odd names.

Nothing found here is run, opened or unpacked: parts are told by their names in the zip's
directory (or the stream names of an OLE compound file), and only an external link's small XML
and relationships are looked at, to name its target. Each finding is one Chinese line for a
warning (catalogue codes ``container-content`` and ``odd-entry-name``); the reader turns them
into issues.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from xls_gongkai.issues import Code
from xls_gongkai.reading.parts import attributes, read_head, relationships

__all__ = ["Finding", "duplicate_names", "ole_findings", "printable", "zip_findings"]

CONTENT = Code.CONTAINER_CONTENT
ODD_NAME = Code.ODD_ENTRY_NAME


@dataclass(frozen=True)
class Finding:
    """One thing in a container worth a warning: catalogue ``code``, Chinese ``detail``, zip ``part``."""

    code: str
    detail: str
    part: str = ""


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


def printable(text: str, most: int = 120) -> str:
    """Text from a file made safe for one line on a terminal: control characters shown as escapes."""
    shown = _CONTROL.sub(
        lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 256 else f"\\u{ord(m.group()):04x}", text
    )
    return shown if len(shown) <= most else shown[: most - 1] + "…"


def duplicate_names(infos: Iterable[zipfile.ZipInfo]) -> list[str]:
    """Entry names that occur more than once (compared as OPC does: ASCII case folded)."""
    seen: dict[str, str] = {}
    out: list[str] = []
    for info in infos:
        key = info.orig_filename.lower()
        if key in seen and seen[key] not in out:
            out.append(seen[key])
        seen.setdefault(key, info.orig_filename)
    return out


_DRIVE = re.compile(r"^[A-Za-z]:")


def _odd(name: str) -> bool:
    return (
        name.startswith(("/", "\\"))
        or "\\" in name
        or _DRIVE.match(name) is not None
        or ".." in name.split("/")
        or _CONTROL.search(name) is not None
    )


# Folders (lower case) where Excel, WPS and LibreOffice keep macros: Excel 4.0 macro sheets and
# dialog sheets, LibreOffice Basic and scripts. A VBA project is a part named vbaProject.bin.
_MACRO_FOLDERS = ("xl/macrosheets/", "xl/dialogsheets/", "basic/", "scripts/")
_OBJECT_FOLDERS = ("xl/embeddings/", "xl/activex/")


def zip_findings(zf: zipfile.ZipFile, infos: list[zipfile.ZipInfo]) -> tuple[Finding, ...]:
    """Macros, embedded objects, external links, DDE links and odd names in a zip's directory."""
    out: list[Finding] = []
    for info in infos:
        name = info.orig_filename
        low = name.lower()
        if _odd(name):
            out.append(Finding(ODD_NAME, f"压缩包内有异常的文件名“{printable(name)}”", name))
        elif low.rpartition("/")[2] == "vbaproject.bin" or low.startswith(_MACRO_FOLDERS):
            out.append(Finding(CONTENT, f"含宏（{printable(name)}）", name))
        elif low.startswith(_OBJECT_FOLDERS) or _ods_object(low):
            out.append(Finding(CONTENT, f"含嵌入对象（{printable(name)}）", name))
        elif low.startswith("xl/externallinks/") and "/_rels/" not in low:
            out.append(_external_link(zf, info))
        elif low == "xl/connections.xml":
            out.append(Finding(CONTENT, f"含外部数据连接（{printable(name)}）", name))
    return tuple(_folded(out))


def _ods_object(low: str) -> bool:
    # LibreOffice stores an embedded object as a folder "Object 1/" at the top of the zip.
    return low.startswith("object ") and "/" in low


def _folded(findings: list[Finding]) -> Iterator[Finding]:
    # A macro project or an embedded chart is many parts; one line each for the first few
    # is enough to say what is there.
    shown: dict[str, int] = {}
    for f in findings:
        kind = f.detail.partition("（")[0]
        shown[kind] = shown.get(kind, 0) + 1
        if shown[kind] <= 5:
            yield f


_DDE = re.compile(rb"<(?:\w+:)?ddeLink\s([^>]*)>")
_OLE_LINK = re.compile(rb"<(?:\w+:)?oleLink[\s>/]")


def _external_link(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> Finding:
    name = info.orig_filename
    head = read_head(zf, info, 4096) if name.lower().endswith(".xml") else b""
    dde = _DDE.search(head)
    if dde is not None:
        attrs = attributes(dde.group(1))
        what = " ".join(v for v in (attrs.get("ddeService", ""), attrs.get("ddeTopic", "")) if v)
        return Finding(CONTENT, f"含 DDE 链接（{printable(name)} → {printable(what)}）", name)
    folder, _, base = name.rpartition("/")
    rels = relationships(zf, f"{folder}/_rels/{base}.rels")
    targets = [r.get("Target", "") for r in rels.values() if r.get("TargetMode") == "External"]
    kind = "含链接的 OLE 对象" if _OLE_LINK.search(head) else "含外部链接"
    if targets:
        return Finding(CONTENT, f"{kind}（{printable(name)} → 目标 {printable(targets[0])}）", name)
    return Finding(CONTENT, f"{kind}（{printable(name)}）", name)


# Stream names of an OLE compound file (UTF-16LE in its directory): a VBA project, embedded objects.
_OLE_MACROS = ("_VBA_PROJECT_CUR".encode("utf-16-le"), "_VBA_PROJECT".encode("utf-16-le"))
_OLE_OBJECTS = "ObjectPool".encode("utf-16-le")


def ole_findings(data: bytes) -> tuple[Finding, ...]:
    """Macros and embedded objects of an .xls, told by its stream names."""
    out: list[Finding] = []
    if any(m in data for m in _OLE_MACROS):
        out.append(Finding(CONTENT, "含宏（VBA 工程 _VBA_PROJECT_CUR）", "_VBA_PROJECT_CUR"))
    if _OLE_OBJECTS in data:
        out.append(Finding(CONTENT, "含嵌入对象（ObjectPool）", "ObjectPool"))
    return tuple(out)
