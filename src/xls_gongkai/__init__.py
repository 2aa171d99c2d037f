"""xls-gongkai: 政府信息公开工作年度报告的 Excel 模板生成、读取校验、汇总与报告互转。

Library first: the CLI (``xls-gongkai``) is a thin layer over these functions.
"""

from xls_gongkai.errors import (
    RosterError,
    SpecError,
    TemplateMismatchError,
    UnreadableWorkbookError,
    UsageError,
    WorkbookError,
    XlsGongkaiError,
)
from xls_gongkai.issues import Code, Issue, Result
from xls_gongkai.reading.reader import read_many, read_workbook
from xls_gongkai.report import TIDY_COLUMNS, Report, Unit, reports_to_frame
from xls_gongkai.rules import check_report
from xls_gongkai.spec import Format, builtin_formats, format_for_year, get_format, load_format

__version__ = "0.1.0"

__all__ = [
    "TIDY_COLUMNS",
    "Code",
    "Format",
    "Issue",
    "Report",
    "Result",
    "RosterError",
    "SpecError",
    "TemplateMismatchError",
    "Unit",
    "UnreadableWorkbookError",
    "UsageError",
    "WorkbookError",
    "XlsGongkaiError",
    "__version__",
    "builtin_formats",
    "check_report",
    "format_for_year",
    "get_format",
    "load_format",
    "read_many",
    "read_workbook",
    "reports_to_frame",
]
