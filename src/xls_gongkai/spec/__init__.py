"""Format definitions: the declarative description of a report, loaded from YAML.

A :class:`Format` holds the sections, tables (rows and columns as label trees with stable ids),
the kind of every value cell, the cross-check rules and the summary charts. Everything else —
the workbook layout, the Excel formulas, the Python checks, the readers, the summary — is
derived from it, so a table's shape or a rule is written down once, in ``templates/*.yaml``.
This package is the only place that knows those shapes.
"""

from xls_gongkai.spec.builtin import builtin_formats, find_format, format_for_year, get_format, load_format
from xls_gongkai.spec.load import parse_format
from xls_gongkai.spec.model import (
    PATH_SEP,
    SPEC_VERSION,
    VALUE_LIMIT,
    CellKey,
    CellKind,
    Chart,
    Each,
    Equation,
    Fact,
    Format,
    Indicator,
    Node,
    Rule,
    RuleKind,
    Section,
    Severity,
    Table,
    Term,
)

__all__ = [
    "PATH_SEP",
    "SPEC_VERSION",
    "VALUE_LIMIT",
    "CellKey",
    "CellKind",
    "Chart",
    "Each",
    "Equation",
    "Fact",
    "Format",
    "Indicator",
    "Node",
    "Rule",
    "RuleKind",
    "Section",
    "Severity",
    "Table",
    "Term",
    "builtin_formats",
    "find_format",
    "format_for_year",
    "get_format",
    "load_format",
    "parse_format",
]
