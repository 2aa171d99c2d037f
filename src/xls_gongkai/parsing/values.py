"""Parse one raw cell value, as a spreadsheet reader returns it, into a number of a cell kind.

Clerks type numbers as text, with full-width digits, thousands separators, units ("251000元")
and notes ("22（其中修订16件）"). :func:`parse_cell` accepts what is unambiguous and says what it
did, so the reader can turn that into an issue that keeps the original text; anything else is
``not-a-number``. Negative and fractional counts are *kept*: rule R5 reports them, with the cell.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from xls_gongkai.issues import Code
from xls_gongkai.numbers import Value, coerce_value, format_number
from xls_gongkai.spec import CellKind, Severity

__all__ = ["Parsed", "cell_text", "is_blank", "parse_cell"]


@dataclass(frozen=True)
class Parsed:
    """What one cell holds: a value (None when blank or unusable) and, if noteworthy, why.

    ``code`` is ``""`` for a clean number, else :data:`Code.MISSING`, :data:`Code.NOT_A_NUMBER`,
    :data:`Code.NUMBER_IN_TEXT` or :data:`Code.UNIT_CONVERTED`; ``note`` is a Chinese phrase
    describing what was found or done (``"“251000元”按 25.1 万元计"``).
    """

    value: Value | None
    code: str = ""
    note: str = ""

    @property
    def blank(self) -> bool:
        return self.code == Code.MISSING

    @property
    def severity(self) -> Severity | None:
        """Severity of the issue this parse implies (blank cells: the reader decides)."""
        if not self.code:
            return None
        return Severity.ERROR if self.code == Code.NOT_A_NUMBER else Severity.WARNING


_SPACES = re.compile(r"[\s\u00a0\u3000\u200b\ufeff]+")
# Minus signs a clerk may paste: U+2212 minus, en dash, full-width hyphen (NFKC maps the last).
_MINUS = str.maketrans({"\u2212": "-", "\u2013": "-", "\ufe63": "-"})
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
_PLAIN = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$")
_THOUSANDS = re.compile(r"^([+-]?)(\d{1,3}(?:,\d{3})+)(\.\d+)?$")
_MONEY = re.compile(r"^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(万元|万|元)(?:人民币)?$")
_COUNT_SUFFIX = re.compile(r"^([+-]?\d+(?:\.\d+)?)(件|个|项|起|次|条|宗|人|家|份|批)$")
# "22（其中修订16件）", "55(含自然失效29件)": a leading number, then a note in brackets.
_LEADING_NOTE = re.compile(r"^([+-]?\d+(?:\.\d+)?)(?:件|个|项)?[(\[【{](.*)[)\]】}]$")
# Dashes and words that mean "none" in the tables of published reports.
_NONE_WORDS = frozenset({"-", "--", "—", "——", "－", "/", "无", "没有", "零"})


def is_blank(raw: object) -> bool:
    """Whether a raw cell value is empty (None, "" or only spaces)."""
    return raw is None or (isinstance(raw, str) and not _SPACES.sub("", raw))


def cell_text(raw: object) -> str:
    """A raw value as a clerk would read it in the cell (for messages and 未识别的内容)."""
    if raw is None:
        return ""
    if isinstance(raw, bool):
        return "TRUE" if raw else "FALSE"
    if isinstance(raw, float):
        if math.isfinite(raw):
            return format_number(raw)
        return str(raw)
    if isinstance(raw, Decimal):
        return format_number(raw)
    return str(raw)


def _normalise(text: str) -> str:
    # NFKC turns full-width digits, commas, dots and brackets into ASCII.
    return _SPACES.sub("", unicodedata.normalize("NFKC", text).translate(_MINUS))


def _number(text: str) -> Decimal | None:
    m = _THOUSANDS.match(text)
    if m:
        text = m.group(1) + m.group(2).replace(",", "") + (m.group(3) or "")
    if not _PLAIN.match(text):
        return None
    try:
        return Decimal(text)
    except InvalidOperation:  # pragma: no cover - the regex admits only valid decimals
        return None


def _value(kind: CellKind, d: Decimal) -> Value:
    # coerce_value keeps a fractional count as Decimal so that R5 can report it.
    return coerce_value(kind, d)


def parse_cell(raw: object, kind: CellKind, unit: str = "") -> Parsed:
    """Parse what a spreadsheet reader returned for one input cell of ``kind``.

    ``unit`` is the cell's unit from the format (``"万元"``); amounts written with 元 or 万元
    are converted to it with a warning.

    >>> parse_cell("１，２３４", CellKind.COUNT).value
    1234
    >>> parse_cell("251000元", CellKind.AMOUNT, "万元")
    Parsed(value=Decimal('25.1'), code='unit-converted', note='“251000元”按 25.1 万元计')
    """
    if type(raw) is float and raw.is_integer() and kind is not CellKind.AMOUNT:
        # What almost every cell holds: a whole number typed as a number.
        return Parsed(int(raw))
    if is_blank(raw):
        return Parsed(None, Code.MISSING, "未填写")
    if isinstance(raw, bool):
        return Parsed(None, Code.NOT_A_NUMBER, f"填的是逻辑值 {cell_text(raw)}，不是数字")
    if isinstance(raw, int):
        return Parsed(_value(kind, Decimal(raw)))
    if isinstance(raw, float):
        if not math.isfinite(raw):
            return Parsed(None, Code.NOT_A_NUMBER, "不是有效数字")
        return Parsed(_value(kind, Decimal(repr(raw))))
    if isinstance(raw, Decimal):
        if not raw.is_finite():
            return Parsed(None, Code.NOT_A_NUMBER, "不是有效数字")
        return Parsed(_value(kind, raw))
    if isinstance(raw, dt.date | dt.time | dt.timedelta):
        # Excel turns "3-5" or "1/2" into a date: the clerk's number is lost.
        return Parsed(None, Code.NOT_A_NUMBER, f"填的内容被表格软件识别为日期或时间（{raw}），不是数字")
    if not isinstance(raw, str):
        return Parsed(None, Code.NOT_A_NUMBER, f"“{raw}”不是数字")
    return _parse_text(raw, kind, unit)


def _parse_text(raw: str, kind: CellKind, unit: str) -> Parsed:
    text = _normalise(raw)
    shown = raw.strip()
    d = _number(text)
    if d is not None:
        return Parsed(_value(kind, d))
    if text in _NONE_WORDS:
        return Parsed(0, Code.NUMBER_IN_TEXT, f"填的是“{shown}”，按 0 计")
    m = _MONEY.match(text)
    if m:
        amount = Decimal(m.group(1))
        written = "元" if m.group(2) == "元" else "万元"
        if kind is CellKind.AMOUNT and unit == "万元":
            converted = amount / 10000 if written == "元" else amount
            v = _value(kind, converted)
            return Parsed(v, Code.UNIT_CONVERTED, f"“{shown}”按 {format_number(v)} 万元计")
        if kind is CellKind.AMOUNT and unit == written:
            return Parsed(_value(kind, amount), Code.UNIT_CONVERTED, f"“{shown}”按 {format_number(amount)}{unit}计")
        return Parsed(None, Code.NOT_A_NUMBER, f"“{shown}”是金额，本单元格应填{kind.label}")
    m = _COUNT_SUFFIX.match(text)
    if m and kind is not CellKind.AMOUNT:
        v = _value(kind, Decimal(m.group(1)))
        return Parsed(v, Code.NUMBER_IN_TEXT, f"“{shown}”按 {format_number(v)} 计")
    m = _LEADING_NOTE.match(text)
    if m:
        v = _value(kind, Decimal(m.group(1)))
        return Parsed(v, Code.NUMBER_IN_TEXT, f"“{shown}”取 {format_number(v)}，括号内的说明未计入")
    numbers = _NUMBER.findall(text)
    if len(numbers) == 1 and not re.search(r"[%‰/~\-至到]", text.replace(numbers[0], "", 1)):
        # One number in words ("共22件"): take it, but keep the text in the warning.
        v = _value(kind, Decimal(numbers[0]))
        return Parsed(v, Code.NUMBER_IN_TEXT, f"“{shown}”取 {format_number(v)}")
    if numbers:
        return Parsed(None, Code.NOT_A_NUMBER, f"“{shown}”中的数字不能确定取哪一个，请只填一个{kind.label}")
    return Parsed(None, Code.NOT_A_NUMBER, f"“{shown}”不是数字，请填{kind.label}")
