"""Issues: problems found in the data, collected into results instead of raised."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import TYPE_CHECKING, Any

from xls_gongkai.spec import Severity

if TYPE_CHECKING:
    import pandas as pd

    from xls_gongkai.report import Report


class Code:
    """Stable codes of the problems that are not rules of the format (rules use their id, R1…)."""

    MISSING = "missing-value"  # an input cell left blank
    NOT_A_NUMBER = "not-a-number"  # text that holds no usable number
    NUMBER_IN_TEXT = "number-in-text"  # "22（其中修订16件）": the number taken, text kept
    UNIT_CONVERTED = "unit-converted"  # "251000元" converted to 万元
    TOTAL_OVERWRITTEN = "total-overwritten"  # a computed total typed over with another value
    STRUCTURE_CHANGED = "structure-changed"  # rows/columns moved; located by label
    UNRECOGNISED = "unrecognised-content"  # 未识别的内容 outside the input cells
    LABEL_NOT_FOUND = "label-not-found"  # a row or column of the format is not in the sheet
    YEAR_MISMATCH = "year-mismatch"
    UNIT_MISMATCH = "unit-mismatch"
    UNIT_NAME_BLANK = "unit-name-blank"
    OTHER_FORMAT = "other-format"  # a template of the other format version
    NOT_IN_ROSTER = "not-in-roster"
    DUPLICATE = "duplicate-unit"
    TEXT_MISSING = "text-missing"  # a text section left empty
    FILE_UNREADABLE = "file-unreadable"  # the whole file could not be used


@dataclass(frozen=True)
class Issue:
    """One problem, located as precisely as it can be.

    ``code`` is the rule id (``R1``…``R9``) or one of :class:`Code`; ``cell`` is the A1 address
    of the first cell involved and ``cells`` all of them.
    """

    code: str
    severity: Severity
    message: str
    unit_code: str = ""
    unit_name: str = ""
    file: str = ""
    sheet: str = ""
    cell: str = ""
    cells: tuple[str, ...] = ()
    table: str = ""
    row: str = ""
    column: str = ""
    row_label: str = ""
    column_label: str = ""
    expected: str = ""
    found: str = ""

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["severity"] = self.severity.value
        d["cells"] = list(self.cells)
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Issue:
        kwargs = {f.name: data[f.name] for f in fields(cls) if f.name in data}
        kwargs["severity"] = Severity(kwargs["severity"])
        kwargs["cells"] = tuple(kwargs.get("cells", ()))
        return cls(**kwargs)

    def where(self) -> str:
        """Where it is, in words: ``文件 a.xlsx 工作表“表三”单元格 D7``."""
        parts = []
        if self.file:
            parts.append(f"文件 {self.file}")
        if self.sheet:
            parts.append(f"工作表“{self.sheet}”")
        if self.cell:
            parts.append(f"单元格 {self.cell}")
        return " ".join(parts)


ISSUE_COLUMNS = tuple(f.name for f in fields(Issue))


def issues_to_frame(issues: Iterable[Issue]) -> pd.DataFrame:
    import pandas as pd

    rows = [i.to_dict() | {"cells": " ".join(i.cells)} for i in issues]
    return pd.DataFrame(rows, columns=list(ISSUE_COLUMNS))


@dataclass(frozen=True)
class Result:
    """A report read (or imported) from one source, with every issue found in it."""

    report: Report | None
    issues: Sequence[Issue] = ()
    source: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.is_error]

    @property
    def warnings(self) -> list[Issue]:
        return [i for i in self.issues if not i.is_error]

    @property
    def valid(self) -> bool:
        return self.report is not None and not self.errors

    def flatten(self, *names: str) -> list[tuple[Any, ...]]:
        """The issues as tuples of the named fields — handy in tests and quick looks."""
        return [tuple(getattr(i, n) for n in names) for i in self.issues]
