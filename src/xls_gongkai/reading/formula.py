"""Formulas typed into input cells, recomputed by us: a stored formula result is never trusted.

A clerk sometimes types ``=5+7`` or ``=D8+1`` where a number belongs. A spreadsheet program
computes it, so the clerk's sheet checks the result; ``check`` must do the same without believing
the result the file stores (a file written by a program that does not calculate stores none, and
a hand-edited file may store anything). :func:`parse_formula` reads the formula's text (Excel's
A1 syntax; the text is at most 8,192 characters and nesting is bounded, so parsing is linear and
never recurses without bound) and :func:`evaluate` computes it from the workbook's values.

Computed: numbers, ``+ - * / ^ %``, parentheses, references to cells of the same workbook
(``D8``, ``$D$8``, ``表三!D8``, ``'表 三'!D8``) and ``SUM``, ``ROUND``, ``ABS``, ``INT``, ``MAX``,
``MIN`` over cells and ranges. Anything else (text, comparisons, other functions) is not
computed: :attr:`Formula.tree` is None. A formula that refers to another workbook
(``[1]Sheet1!A1``), uses DDE (``cmd|'/c calc'!A0``) or a volatile function (``RAND()``,
``NOW()``…) has a result that changes outside the workbook: :attr:`Formula.unsafe` says why.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from xls_gongkai.numbers import Value

__all__ = ["Formula", "Unknown", "evaluate", "parse_formula"]

#: Functions whose result changes with time, chance or the workbook's surroundings.
VOLATILE = frozenset({"RAND", "RANDBETWEEN", "RANDARRAY", "NOW", "TODAY", "OFFSET", "INDIRECT", "INFO", "CELL"})
FUNCTIONS = frozenset({"SUM", "ROUND", "ABS", "INT", "MAX", "MIN"})
MAX_DEPTH = 64

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
    | (?P<string>"(?:[^"]|"")*")
    | (?P<func>[A-Za-z_][A-Za-z0-9_.]*)\(
    | (?P<ref>(?:(?P<sheet>'(?:[^']|'')+'|[^\s!'"()+\-*/^%,:&=<>{}\[\]]+)!)?
              \$?(?P<c0>[A-Za-z]{1,3})\$?(?P<r0>\d{1,7})(?::\$?(?P<c1>[A-Za-z]{1,3})\$?(?P<r1>\d{1,7}))?)
    | (?P<op>[-+*/^%(),])
    | (?P<other>.)
    )""",
    re.VERBOSE | re.DOTALL,
)


class Unknown(Exception):
    """The formula's value cannot be known: ``reason`` says why (an error value, text…)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Ref:
    sheet: str  # "" for the formula's own sheet
    first: tuple[int, int]  # 0-based (row, column)
    last: tuple[int, int]

    @property
    def is_range(self) -> bool:
        return self.first != self.last


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple[Expr, ...]


@dataclass(frozen=True)
class Op:
    op: str  # + - * / ^ (binary), "neg", "%"
    args: tuple[Expr, ...]


Expr = Decimal | Ref | Call | Op


@dataclass(frozen=True)
class Formula:
    """A formula typed into an input cell: its text (without "="), why its result cannot be
    relied on (``unsafe``, "" when it can) and its expression when we can compute it."""

    text: str
    unsafe: str
    tree: Expr | None


def _column(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n - 1


def _tokens(text: str) -> list[tuple[str, object]] | None:
    out: list[tuple[str, object]] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            if text[pos:].strip():
                return None
            break
        pos = m.end()
        kind = m.lastgroup if m.lastgroup not in ("sheet", "c0", "r0", "c1", "r1") else "ref"
        if m.group("number") is not None:
            out.append(("number", Decimal(m.group("number"))))
        elif m.group("func") is not None:
            out.append(("func", m.group("func").upper()))
        elif m.group("ref") is not None:
            sheet = m.group("sheet") or ""
            if sheet.startswith("'"):
                sheet = sheet[1:-1].replace("''", "'")
            first = (int(m.group("r0")) - 1, _column(m.group("c0")))
            last = (int(m.group("r1")) - 1, _column(m.group("c1"))) if m.group("c1") else first
            out.append(("ref", Ref(sheet, first, last)))
        elif m.group("op") is not None:
            out.append(("op", m.group("op")))
        else:
            out.append((kind or "other", m.group(0).strip()))
    return out


def _unsafe(text: str, tokens: Sequence[tuple[str, object]] | None) -> str:
    bare = re.sub(r'"(?:[^"]|"")*"', '""', text)  # what is inside strings does not count
    if "[" in bare:
        return "引用了其他工作簿"
    if "|" in bare:
        return "使用了 DDE（动态数据交换）"
    names = {str(v) for k, v in tokens or () if k == "func"}
    volatile = sorted(names & VOLATILE)
    if volatile:
        return f"使用了随时间或外部情况变化的函数 {volatile[0]}"
    return ""


def parse_formula(text: str) -> Formula:
    """The formula of a cell (its text, with or without the leading "=")."""
    text = text[1:] if text.startswith("=") else text
    tokens = _tokens(text) if len(text) <= 8192 else None
    unsafe = _unsafe(text, tokens)
    tree = None
    if tokens and not unsafe:
        parser = _Parser(tokens)
        try:
            tree = parser.expression(0)
            if parser.pos != len(tokens):
                tree = None
        except _Unsupported:
            tree = None
    return Formula(text, unsafe, tree)


class _Unsupported(Exception):
    pass


class _Parser:
    """Recursive descent over the tokens, Excel's precedence: unary minus binds tighter than ^."""

    def __init__(self, tokens: Sequence[tuple[str, object]]) -> None:
        self.tokens = tokens
        self.pos = 0

    def peek(self) -> tuple[str, object]:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else ("end", None)

    def take(self, op: str) -> bool:
        if self.peek() == ("op", op):
            self.pos += 1
            return True
        return False

    def expression(self, depth: int) -> Expr:
        if depth > MAX_DEPTH:
            raise _Unsupported
        left = self.term(depth)
        while self.peek()[0] == "op" and self.peek()[1] in ("+", "-"):
            op = str(self.tokens[self.pos][1])
            self.pos += 1
            left = Op(op, (left, self.term(depth)))
        return left

    def term(self, depth: int) -> Expr:
        left = self.power(depth)
        while self.peek()[0] == "op" and self.peek()[1] in ("*", "/"):
            op = str(self.tokens[self.pos][1])
            self.pos += 1
            left = Op(op, (left, self.power(depth)))
        return left

    def power(self, depth: int) -> Expr:
        left = self.unary(depth)
        while self.take("^"):
            left = Op("^", (left, self.unary(depth)))
        return left

    def unary(self, depth: int) -> Expr:
        if depth > MAX_DEPTH:
            raise _Unsupported
        if self.take("-"):
            return Op("neg", (self.unary(depth + 1),))
        if self.take("+"):
            return self.unary(depth + 1)
        value = self.primary(depth)
        while self.take("%"):
            value = Op("%", (value,))
        return value

    def primary(self, depth: int) -> Expr:
        kind, value = self.peek()
        self.pos += 1
        if kind == "number":
            assert isinstance(value, Decimal)
            return value
        if kind == "ref":
            assert isinstance(value, Ref)
            return value
        if kind == "func":
            name = str(value)
            if name not in FUNCTIONS:
                raise _Unsupported
            args: list[Expr] = []
            if not self.take(")"):
                while True:
                    args.append(self.expression(depth + 1))
                    if self.take(")"):
                        break
                    if not self.take(","):
                        raise _Unsupported
            return Call(name, tuple(args))
        if (kind, value) == ("op", "("):
            inner = self.expression(depth + 1)
            if not self.take(")"):
                raise _Unsupported
            return inner
        raise _Unsupported


#: The value of one cell: a number, None for a blank, or :class:`Unknown` raised for text or an
#: error value. ``(sheet, row, column)``, 0-based.
Lookup = Callable[[str, int, int], Value | None]


def evaluate(formula: Formula, sheet: str, lookup: Lookup) -> Value:
    """The formula's value on ``sheet`` (the sheet its cell is on).

    Raises :class:`Unknown` when it cannot be known: a cell it needs holds text or an error
    value, it divides by zero, or it is not one we compute (``tree`` None, or ``unsafe``).
    """
    if formula.tree is None or formula.unsafe:
        raise Unknown(formula.unsafe or "公式超出本工具能复核的范围")
    result = _eval(formula.tree, sheet, lookup)
    if isinstance(result, Ref):
        result = _cell(result, sheet, lookup)
    return _tidy(result)


def _tidy(v: Decimal) -> Value:
    return int(v) if v == v.to_integral_value() else v.normalize()


def _cell(ref: Ref, sheet: str, lookup: Lookup) -> Decimal:
    if ref.is_range:
        raise Unknown("公式把一个区域当作一个数使用")
    v = lookup(ref.sheet or sheet, *ref.first)
    return Decimal(0) if v is None else Decimal(v)


def _values(arg: Expr, sheet: str, lookup: Lookup) -> list[Decimal]:
    """The numbers an argument of SUM/MAX/MIN gives: a range's numbers (blanks skipped)."""
    if not isinstance(arg, Ref):
        return [_eval_number(arg, sheet, lookup)]
    out = []
    (r0, c0), (r1, c1) = arg.first, arg.last
    if (r1 - r0 + 1) * (c1 - c0 + 1) > 100_000:
        raise Unknown("公式引用的区域过大")
    for r in range(min(r0, r1), max(r0, r1) + 1):
        for c in range(min(c0, c1), max(c0, c1) + 1):
            v = lookup(arg.sheet or sheet, r, c)
            if v is not None:
                out.append(Decimal(v))
    return out


def _eval_number(e: Expr, sheet: str, lookup: Lookup) -> Decimal:
    v = _eval(e, sheet, lookup)
    return _cell(v, sheet, lookup) if isinstance(v, Ref) else v


def _eval(e: Expr, sheet: str, lookup: Lookup) -> Decimal | Ref:
    if isinstance(e, Decimal | Ref):
        return e
    if isinstance(e, Call):
        return _call(e, sheet, lookup)
    args = [_eval_number(a, sheet, lookup) for a in e.args]
    try:
        return _operate(e.op, args)
    except (InvalidOperation, OverflowError, ValueError) as exc:
        raise Unknown("公式的结果不是有效数字（#NUM!）") from exc


def _operate(op: str, args: list[Decimal]) -> Decimal:
    if op == "neg":
        return -args[0]
    if op == "%":
        return args[0] / 100
    a, b = args
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if op == "/":
        if b == 0:
            raise Unknown("公式除以零（#DIV/0!）")
        return a / b
    result = float(a) ** float(b)
    if isinstance(result, complex) or not math.isfinite(result):
        raise ValueError(op)
    return Decimal(repr(result))


def _call(e: Call, sheet: str, lookup: Lookup) -> Decimal:
    if e.name in ("SUM", "MAX", "MIN"):
        numbers = [v for a in e.args for v in _values(a, sheet, lookup)]
        if e.name == "SUM":
            return sum(numbers, Decimal(0))
        return (max if e.name == "MAX" else min)(numbers, default=Decimal(0))
    args = [_eval_number(a, sheet, lookup) for a in e.args]
    if e.name == "ABS" and len(args) == 1:
        return abs(args[0])
    if e.name == "INT" and len(args) == 1:
        return args[0].to_integral_value(rounding="ROUND_FLOOR")
    if e.name == "ROUND" and len(args) == 2:
        places = int(args[1])
        return args[0].quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP)
    raise Unknown(f"函数 {e.name} 的参数个数不对")
