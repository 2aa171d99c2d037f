"""The one small exception hierarchy.

Exceptions are only for input the library cannot use at all (a broken format definition, a file
that is not a workbook). Problems *in the data* are :class:`~xls_gongkai.issues.Issue` objects,
collected into a result, never raised. Every message is Chinese, names the file (and where it
helps the key, sheet or cell) and says what to do next: the CLI prints it as one line.
"""

from __future__ import annotations


class XlsGongkaiError(Exception):
    """Base class of every error xls-gongkai raises on purpose."""

    #: Exit code the CLI uses for this error.
    exit_code = 2


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
