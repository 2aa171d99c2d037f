"""Workbook files for the safety tests, made from a real filled template with zipfile.

``tests/data/filled-2023.xlsx`` is a 2023 report (format gongkai-2021) filled with consistent
random data and written by xls-gongkai's own template writer (version 0.1.0 as released, before
the refactor): a workbook exactly as a clerk receives it. The safety layer must take the files
of earlier versions anyway, so it is kept as a file rather than written anew by each run.
"""

from __future__ import annotations

import io
import struct
import warnings
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path

TEMPLATE = Path(__file__).parent / "data" / "filled-2023.xlsx"

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"


def template_bytes() -> bytes:
    return TEMPLATE.read_bytes()


def entries(data: bytes) -> list[tuple[str, bytes]]:
    """A zip's entries in order, duplicates and all."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return [(i.filename, zf.open(i).read()) for i in zf.infolist()]


def pack(items: Iterable[tuple[str, bytes]]) -> bytes:
    """A deflated zip of ``items`` in their order (duplicate names allowed)."""
    out = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about a duplicate name; that is the point
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
            for name, body in items:
                zf.writestr(name, body)
    return out.getvalue()


def changed(
    path: Path,
    replace: Mapping[str, bytes | None] | None = None,
    add: Iterable[tuple[str, bytes]] = (),
    source: bytes | None = None,
) -> Path:
    """The template (or ``source``) with parts replaced (None: removed) and parts added; written to ``path``."""
    replace = replace or {}
    items = [(n, replace.get(n, b)) for n, b in entries(source or template_bytes())]
    path.write_bytes(pack([(n, b) for n, b in items if b is not None] + list(add)))
    return path


def part(name: str, source: bytes | None = None) -> bytes:
    return dict(entries(source or template_bytes()))[name]


def workbook(path: Path, sheets: Mapping[str, str], *, prefix: str = "") -> Path:
    """A minimal .xlsx whose sheets hold the given <sheetData> inner XML (``prefix``: "x:" spelling)."""
    p = prefix
    names = list(sheets)
    content_types = (
        '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
        'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override '
        'PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.'
        'sheet.main+xml"/>'
        + "".join(
            f'<Override PartName="/xl/worksheets/sheet{i + 1}.xml" ContentType="application/vnd.'
            'openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            for i in range(len(names))
        )
        + "</Types>"
    )
    rels = (
        f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG_REL}"><Relationship Id="rId1" '
        f'Type="{REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    )
    xmlns = f'xmlns:{p[:-1]}="{MAIN}"' if p else f'xmlns="{MAIN}"'
    book = (
        f'<?xml version="1.0" encoding="UTF-8"?><{p}workbook {xmlns} xmlns:r="{REL}"><{p}sheets>'
        + "".join(f'<{p}sheet name="{escape(n)}" sheetId="{i + 1}" r:id="rId{i + 1}"/>' for i, n in enumerate(names))
        + f"</{p}sheets></{p}workbook>"
    )
    book_rels = (
        f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG_REL}">'
        + "".join(
            f'<Relationship Id="rId{i + 1}" Type="{REL}/worksheet" Target="worksheets/sheet{i + 1}.xml"/>'
            for i in range(len(names))
        )
        + "</Relationships>"
    )
    items = [
        ("[Content_Types].xml", content_types.encode()),
        ("_rels/.rels", rels.encode()),
        ("xl/workbook.xml", book.encode()),
        ("xl/_rels/workbook.xml.rels", book_rels.encode()),
    ]
    for i, cells in enumerate(sheets.values()):
        body = f'<?xml version="1.0" encoding="UTF-8"?><{p}worksheet {xmlns}><{p}sheetData>{cells}</{p}sheetData></{p}worksheet>'
        items.append((f"xl/worksheets/sheet{i + 1}.xml", body.encode()))
    path.write_bytes(pack(items))
    return path


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;")


ODS_MIME = b"application/vnd.oasis.opendocument.spreadsheet"


def ods(path: Path, tables: Mapping[str, str]) -> Path:
    """A minimal .ods whose tables hold the given rows (inner XML of <table:table>)."""
    ns = (
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
        'xmlns:calcext="urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0" '
        'xmlns:of="urn:oasis:names:tc:opendocument:xmlns:of:1.2"'
    )
    content = (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {ns} office:version="1.3">'
        "<office:body><office:spreadsheet>"
        + "".join(f'<table:table table:name="{escape(n)}">{rows}</table:table>' for n, rows in tables.items())
        + "</office:spreadsheet></office:body></office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:'
        'opendocument:xmlns:manifest:1.0" manifest:version="1.3"><manifest:file-entry manifest:full-path="/" '
        'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/><manifest:file-entry '
        'manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>'
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(zipfile.ZipInfo("mimetype"), ODS_MIME, compress_type=zipfile.ZIP_STORED)
        zf.writestr("content.xml", content)
        zf.writestr("META-INF/manifest.xml", manifest)
    path.write_bytes(out.getvalue())
    return path


def fake_xls(path: Path, *streams: str) -> Path:
    """Enough for the container check: the OLE signature and stream names ("Workbook", …)."""
    names = b"".join(s.encode("utf-16-le") + bytes(64) for s in ("Workbook", *streams))
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504) + names + bytes(512))
    return path


def declare_size(data: bytes, name: bytes, size: int) -> bytes:
    """Patch the central-directory entry of ``name`` to declare ``size`` inflated bytes."""
    out = bytearray(data)
    i = 0
    while True:
        i = data.index(b"PK\x01\x02", i)
        n = struct.unpack_from("<H", data, i + 28)[0]
        if data[i + 46 : i + 46 + n] == name:
            struct.pack_into("<I", out, i + 24, size)
            return bytes(out)
        i += 4


def one_line(exc: BaseException, name: str) -> str:
    """An error's message, checked to be one Chinese line naming the file and saying what to do."""
    msg = str(exc)
    assert "\n" not in msg
    assert name in msg
    assert any("\u4e00" <= ch <= "\u9fff" for ch in msg)  # Chinese, for a clerk
    assert "请" in msg  # says what to do
    return msg
