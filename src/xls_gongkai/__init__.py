"""xls-gongkai: 政府信息公开工作年度报告的 Excel 模板生成、读取校验、汇总与报告互转。

Library first: the CLI (``xls-gongkai``) and the portal are thin layers over these names. They
are imported on first use (PEP 562), so ``import xls_gongkai`` and ``xls-gongkai --help`` stay
fast and a name's module is loaded only by those who need it.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.2.0"

#: public name → module that defines it
_PUBLIC: dict[str, str] = {
    # errors
    "XlsGongkaiError": "xls_gongkai.errors",
    "SpecError": "xls_gongkai.errors",
    "UsageError": "xls_gongkai.errors",
    "RosterError": "xls_gongkai.errors",
    "WorkbookError": "xls_gongkai.errors",
    "UnreadableWorkbookError": "xls_gongkai.errors",
    "TemplateMismatchError": "xls_gongkai.errors",
    # formats
    "Format": "xls_gongkai.spec",
    "builtin_formats": "xls_gongkai.spec",
    "format_for_year": "xls_gongkai.spec",
    "get_format": "xls_gongkai.spec",
    "load_format": "xls_gongkai.spec",
    # data
    "Report": "xls_gongkai.report",
    "Unit": "xls_gongkai.report",
    "Explanation": "xls_gongkai.report",
    "TIDY_COLUMNS": "xls_gongkai.report",
    "reports_to_frame": "xls_gongkai.report",
    "Issue": "xls_gongkai.issues",
    "Result": "xls_gongkai.issues",
    "Code": "xls_gongkai.issues",
    "CATALOGUE": "xls_gongkai.issues",
    "check_report": "xls_gongkai.rules",
    # workbooks
    "WriteOptions": "xls_gongkai.workbook.writer",
    "write_workbook": "xls_gongkai.workbook.writer",
    "generate_templates": "xls_gongkai.workbook.writer",
    "annotate": "xls_gongkai.workbook.annotate",
    "read_workbook": "xls_gongkai.reading.reader",
    "read_many": "xls_gongkai.batch.read",
    "read_one": "xls_gongkai.batch.single",
    # documents
    "import_document": "xls_gongkai.documents.importer",
    "render": "xls_gongkai.documents.render",
    # batches
    "load_roster": "xls_gongkai.batch.roster",
    "check_files": "xls_gongkai.batch.check",
    "merge": "xls_gongkai.batch.merge",
    "merge_batch": "xls_gongkai.batch.merge",
    "run_batch": "xls_gongkai.batch.pipeline",
    "check_batch": "xls_gongkai.batch.pipeline",
    "write_summary": "xls_gongkai.workbook.summary",
}

__all__ = ["__version__", *_PUBLIC]


def __getattr__(name: str) -> Any:
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'xls_gongkai' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from xls_gongkai.batch.check import check_files
    from xls_gongkai.batch.merge import merge, merge_batch
    from xls_gongkai.batch.pipeline import check_batch, run_batch
    from xls_gongkai.batch.read import read_many
    from xls_gongkai.batch.roster import load_roster
    from xls_gongkai.batch.single import read_one
    from xls_gongkai.documents.importer import import_document
    from xls_gongkai.documents.render import render
    from xls_gongkai.errors import (
        RosterError,
        SpecError,
        TemplateMismatchError,
        UnreadableWorkbookError,
        UsageError,
        WorkbookError,
        XlsGongkaiError,
    )
    from xls_gongkai.issues import CATALOGUE, Code, Issue, Result
    from xls_gongkai.reading.reader import read_workbook
    from xls_gongkai.report import TIDY_COLUMNS, Explanation, Report, Unit, reports_to_frame
    from xls_gongkai.rules import check_report
    from xls_gongkai.spec import Format, builtin_formats, format_for_year, get_format, load_format
    from xls_gongkai.workbook.annotate import annotate
    from xls_gongkai.workbook.summary import write_summary
    from xls_gongkai.workbook.writer import WriteOptions, generate_templates, write_workbook
