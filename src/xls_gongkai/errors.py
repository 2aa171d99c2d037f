"""The one small exception hierarchy.

Exceptions are only for input the library cannot use at all (a broken format definition, a file
that is not a workbook). Problems *in the data* are :class:`~xls_gongkai.issues.Issue` objects,
collected into a result, never raised. Every message is Chinese, names the file (and where it
helps the key, sheet or cell) and says what to do next: the CLI prints it as one line.
"""

from __future__ import annotations

import re

_BREAKS = re.compile(r"\s*[\r\n\t\v\f]+\s*")
_SURROGATES = re.compile("[\udc80-\udcff]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
#: A message is one line: a parser's multi-line complaint quoted in it is cut down to this.
MAX_MESSAGE = 600


def printable(text: str) -> str:
    """Text safe to write anywhere (UTF-8 files, XML, a terminal).

    A file name that is not UTF-8 — a GBK name unzipped from an archive made on Windows —
    reaches Python with its bytes kept as surrogates, which no UTF-8 file can hold: it is shown
    as the GBK name it most likely is, else with its odd bytes as ``\\xb3``.
    """
    if text.isascii() or not _SURROGATES.search(text):
        return text
    raw = text.encode("utf-8", "surrogateescape")
    try:
        return raw.decode("gb18030")
    except UnicodeDecodeError:
        return raw.decode("utf-8", "backslashreplace")


_XML_UNSAFE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")


def xml_text(text: str) -> str:
    """Text any XML document (docx, xlsx) can hold: control characters a clerk's paste left in it
    shown visibly (``\\x01``) rather than making the whole write fail."""
    return _XML_UNSAFE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), printable(text))


def one_line(text: str) -> str:
    """A message as one line: line breaks folded, control characters shown visibly, not too long."""
    text = _BREAKS.sub(" ", printable(text).strip())
    text = _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 1] + "…"


class XlsGongkaiError(Exception):
    """Base class of every error xls-gongkai raises on purpose (its message is always one line)."""

    #: Exit code the CLI uses for this error.
    exit_code = 2

    def __init__(self, message: str = "") -> None:
        super().__init__(one_line(str(message)))


class SpecError(XlsGongkaiError):
    """A format definition (YAML) is malformed; the message names the file and the key."""


class UsageError(XlsGongkaiError):
    """The caller asked for something that cannot be done (unknown format, bad option)."""


class RosterError(XlsGongkaiError):
    """A roster file is malformed; the message names the row."""


class WorkbookError(XlsGongkaiError):
    """A file cannot be used as a report workbook at all."""


class UnreadableWorkbookError(WorkbookError):
    """Not a spreadsheet, corrupt, truncated, encrypted, empty, or absurdly large."""


class TemplateMismatchError(WorkbookError):
    """A readable spreadsheet that is not this report (another report, or unrecognisable)."""
