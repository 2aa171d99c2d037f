"""The state of a collection: which unit sent what, with which verdict, and what was summed.

Plain data made by the batch layer (:func:`xls_gongkai.batch.merge.merge_results`) and shown by
the summary workbook, the CLI and the portal. Nothing here reads or writes files.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property
from typing import Literal

from xls_gongkai.issues import Issue, explanation_for
from xls_gongkai.report import Explanation, Report, Unit
from xls_gongkai.spec import CellKey

__all__ = ["Entry", "Merged", "OnError", "Status", "Submission"]

OnError = Literal["include", "exclude", "fail"]


class Status(StrEnum):
    """A file's or a unit's state: ``check`` prints it, 报送情况 lists it, the portal shows it.

    通过 and 有警告 are the submitted ones (warnings need a 说明, not a correction).
    """

    SUBMITTED = "通过"
    WARNINGS = "有警告"
    ERRORS = "有错误"
    EMPTY = "空表"
    DUPLICATE = "重复"
    UNKNOWN = "不在名单"
    UNREADABLE = "无法读取"
    MISSING = "未报送"


@dataclass(frozen=True)
class Submission:
    """One readable input: a unit's (or a lower summary's) report and its issues."""

    unit: Unit  # the roster's unit when it is on the roster, else the report's own
    report: Report
    file: str
    #: when the file says it was saved (docProps), else the file system's time; see ``time_source``
    mtime: float
    issues: tuple[Issue, ...]
    included: bool = False
    #: where each value was read ((sheet, A1)); empty for a JSON report
    cells: Mapping[CellKey, tuple[str, str]] | None = None
    time_source: str = "file"

    @property
    def errors(self) -> int:
        return sum(1 for i in self.issues if i.is_error)

    @property
    def warnings(self) -> int:
        return sum(1 for i in self.issues if i.is_warning)


@dataclass(frozen=True)
class Entry:
    """One line of 报送情况: a roster unit, a unit not on the roster, or an unreadable file."""

    unit: Unit
    status: Status
    files: tuple[str, ...] = ()
    mtimes: tuple[float, ...] = ()
    errors: int = 0
    warnings: int = 0
    included: bool = False
    note: str = ""


@dataclass(frozen=True)
class Merged:
    """The outcome of a merge: the summed report and everything the officer has to know."""

    report: Report
    #: 报送情况, in roster order, then units not on the roster, then unreadable files.
    entries: tuple[Entry, ...]
    #: Every readable submission in 明细 order (roster order, then by code and name).
    submissions: tuple[Submission, ...]
    #: Issues of the summed report itself (its checks, and R6–R8 against last year's total).
    total_issues: tuple[Issue, ...]
    #: Issues of the merge itself: duplicates, units not on the roster, missing units, unreadable files.
    merge_issues: tuple[Issue, ...]
    generated_at: dt.datetime
    on_error: OnError = "include"
    roster: tuple[Unit, ...] | None = None
    #: Set when the summary is provisional (e.g. the portal's, from units not yet accepted).
    provisional: str = ""
    #: Files received that are not workbooks: (path, why), shown in 报送情况.
    skipped: tuple[tuple[str, str], ...] = ()

    @property
    def included(self) -> tuple[Submission, ...]:
        return tuple(s for s in self.submissions if s.included)

    @cached_property
    def _explanations(self) -> dict[str, tuple[Explanation, ...]]:
        return {s.file: s.report.explanations for s in self.submissions if s.report.explanations}

    def explanation(self, issue: Issue) -> str:
        """The 说明 a unit's file gives for one of its warnings ("" when none)."""
        given = self._explanations.get(issue.file)
        found = explanation_for(issue, given) if given else None
        return found.text if found is not None else ""

    @property
    def issues(self) -> list[Issue]:
        """Every issue: the summary's, the merge's, then each unit's in 明细 order."""
        out = list(self.total_issues) + list(self.merge_issues)
        for s in self.submissions:
            out.extend(s.issues)
        return out

    def counts(self) -> dict[Status, int]:
        c = Counter(e.status for e in self.entries)
        return {s: c.get(s, 0) for s in Status}

    @property
    def complete(self) -> bool:
        """Every entry 已报送 (or only warnings) and the summary's own checks pass."""
        return all(e.status in (Status.SUBMITTED, Status.WARNINGS) for e in self.entries) and not any(
            i.is_error for i in self.total_issues
        )
