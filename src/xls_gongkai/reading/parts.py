"""Bounded reads of an .xlsx's zip parts, and where its worksheets are.

Everything here reads through :mod:`zipfile` and never more than asked: a part is inflated a
chunk at a time and reading stops at a marker or a byte budget, so a hostile part costs at most
its budget. XML is looked at with regular expressions over bytes, never handed to an XML
parser, so nothing declared in a DTD is ever expanded.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from dataclasses import dataclass
from functools import lru_cache

__all__ = ["Worksheet", "attributes", "read_head", "read_until", "worksheets", "xml_text"]

WORKBOOK = "xl/workbook.xml"
WORKBOOK_RELS = "xl/_rels/workbook.xml.rels"
#: How much of xl/workbook.xml and its relationships is looked at; Excel's own limits (a few
#: hundred sheets, 31-character names) keep real ones far below.
_SMALL_PART = 4 * 1024 * 1024
#: The first read of a part, then doubling: a worksheet's head is within the first few KB, and
#: the cells of a filled template's largest sheet within the first 24 KB.
_FIRST_STEP = 8 * 1024
_MAX_STEP = 1024 * 1024


def read_head(zf: zipfile.ZipFile, info: zipfile.ZipInfo, n: int) -> bytes:
    """The first ``n`` inflated bytes of a part (fewer when it is shorter)."""
    with zf.open(info) as fh:
        return fh.read(n)


def read_until(
    zf: zipfile.ZipFile, info: zipfile.ZipInfo, marker: bytes, most: int, first: int = _FIRST_STEP
) -> tuple[bytes, int]:
    """A part inflated up to the end of the first ``marker`` (all of it when ``marker`` is absent).

    Reads at most ``most`` bytes. Returns the bytes and where ``marker`` starts in them (-1 when
    it was not found within the part or the budget). zipfile checks the CRC when a part is
    read to its end and stops at the size its directory entry declares.
    """
    out = bytearray()
    step = first
    with zf.open(info) as fh:
        while len(out) < most:
            chunk = fh.read(min(step, most - len(out)))
            if not chunk:
                break
            searched = max(0, len(out) - len(marker) + 1)  # a marker may straddle two chunks
            out += chunk
            at = out.find(marker, searched)
            if at >= 0:
                return bytes(out), at
            step = min(step * 2, _MAX_STEP)
    return bytes(out), -1


_ATTRIBUTE = re.compile(rb"""([\w.:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_REFERENCE = re.compile(r"&(#x[0-9A-Fa-f]{1,6}|#[0-9]{1,7}|lt|gt|amp|quot|apos);")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "apos": "'"}


def attributes(tag: bytes) -> dict[str, str]:
    """The attributes of one start tag's text, by local name (``r:id`` → ``id``), unescaped."""
    out: dict[str, str] = {}
    for m in _ATTRIBUTE.finditer(tag):
        name = m.group(1).rpartition(b":")[2].decode("ascii", "replace")
        value = m.group(2) if m.group(2) is not None else m.group(3)
        out.setdefault(name, xml_text(value))
    return out


def xml_text(raw: bytes) -> str:
    """Character data as text: the five predefined entities and character references resolved.

    Any other ``&name;`` is left as written: nothing a document declares is ever expanded.
    """
    text = raw.decode("utf-8", "replace")
    if "&" not in text:
        return text
    if "&#" not in text:  # the usual case; "&amp;" last, so that "&amp;lt;" stays "&lt;"
        return (text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&apos;", "'")).replace(
            "&amp;", "&"
        )
    return _REFERENCE.sub(_resolve, text)


def _resolve(m: re.Match[str]) -> str:
    ref = m.group(1)
    if ref in _NAMED:
        return _NAMED[ref]
    code = int(ref[2:], 16) if ref[:2] == "#x" else int(ref[1:])
    if not 0 < code <= 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return "\ufffd"
    return chr(code)


@dataclass(frozen=True)
class Worksheet:
    """A worksheet as the workbook lists it: its visible name and its zip part."""

    name: str
    part: str


_SHEET = re.compile(rb"<(?:\w+:)?sheet\s([^>]*)>")
_RELATIONSHIP = re.compile(rb"<(?:\w+:)?Relationship\s([^>]*)>")


def part_name(target: str, base: str = "xl/") -> str:
    """The zip entry a relationship's target names (relative to ``base``, or absolute)."""
    target = target.replace("\\", "/")
    name = target[1:] if target.startswith("/") else base + target
    return posixpath.normpath(name) if "./" in name or "//" in name else name


def relationships(zf: zipfile.ZipFile, rels: str) -> dict[str, dict[str, str]]:
    """A relationships part's entries by Id (``Target``, ``Type``, ``TargetMode``)."""
    info = zf.NameToInfo.get(rels)
    if info is None:
        return {}
    return _relationships(read_until(zf, info, b"</Relationships>", _SMALL_PART)[0])


def _relationships(data: bytes) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for m in _RELATIONSHIP.finditer(data):
        attrs = attributes(m.group(1))
        out.setdefault(attrs.get("Id", ""), attrs)
    return out


def worksheets(zf: zipfile.ZipFile) -> list[Worksheet]:
    """The sheets xl/workbook.xml lists, in its order, resolved to existing zip parts.

    A sheet whose relationship is missing or points at no part is left out (a spreadsheet
    parser cannot show it either).
    """
    info = zf.NameToInfo.get(WORKBOOK)
    if info is None:
        return []
    workbook = read_until(zf, info, b"</sheets>", _SMALL_PART)[0]
    rels = zf.NameToInfo.get(WORKBOOK_RELS)
    relations = read_until(zf, rels, b"</Relationships>", _SMALL_PART)[0] if rels is not None else b""
    names = zf.NameToInfo
    return [s for s in _listed(workbook, relations) if s.part in names]


@lru_cache(maxsize=32)
def _listed(workbook: bytes, relations: bytes) -> tuple[Worksheet, ...]:
    # Keyed by the parts' bytes: the workbooks of one batch mostly share them.
    rels = _relationships(relations)
    out: list[Worksheet] = []
    for m in _SHEET.finditer(workbook):
        attrs = attributes(m.group(1))
        rel = rels.get(attrs.get("id", ""))
        if rel is not None and "name" in attrs:
            out.append(Worksheet(attrs["name"], part_name(rel.get("Target", ""))))
    return tuple(out)
