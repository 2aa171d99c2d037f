"""Loading a format definition from YAML, validating every key on the way.

A county officer edits these files (a local variant), so every complaint names the file and the
key path in Chinese (``tables[0].columns[0].kind：“money”不是可用的取值``). Every key of the file
is documented in ``docs/format-definition.md``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

import yaml

from xls_gongkai.errors import SpecError
from xls_gongkai.spec.model import (
    SPEC_VERSION,
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

_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_E = TypeVar("_E", bound=StrEnum)


class _Keys:
    """Typed access to the YAML tree, keeping the key path so every complaint can name it."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str, what: str) -> SpecError:
        return SpecError(f"格式定义文件 {self.source} 有误：{where}：{what}。请对照内置的格式定义修改。")

    def mapping(self, value: Any, where: str, known: set[str] | None = None) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.fail(where, "应为键值对（映射）")
        for key in value if known is not None else ():
            if key not in known:  # type: ignore[operator]
                raise self.fail(f"{where}.{key}", "不认识的键")
        return value

    def seq(self, value: Any, where: str) -> Sequence[Any]:
        if not isinstance(value, list):
            raise self.fail(where, "应为列表")
        return value

    def text(self, m: Mapping[str, Any], key: str, where: str, default: str | None = None) -> str:
        if key not in m or m[key] is None:
            if default is None:
                raise self.fail(f"{where}.{key}", "缺少此项")
            return default
        value = m[key]
        if not isinstance(value, str | int) or isinstance(value, bool):
            raise self.fail(f"{where}.{key}", "应为文字")
        return str(value)

    def texts(self, m: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
        """A list of texts, or one text standing for a list of one."""
        raw = m.get(key)
        if raw is None:
            return ()
        items = [raw] if isinstance(raw, str) else self.seq(raw, f"{where}.{key}")
        for i, item in enumerate(items):
            if not isinstance(item, str) or not item:
                raise self.fail(f"{where}.{key}[{i}]", "应为非空文字")
        return tuple(items)

    def ident(self, m: Mapping[str, Any], key: str, where: str) -> str:
        value = self.text(m, key, where)
        if not _ID.match(value):
            raise self.fail(f"{where}.{key}", f"“{value}”不是合法的 id（小写字母开头，只含小写字母、数字、下划线）")
        return value

    def year(self, m: Mapping[str, Any], key: str, where: str, required: bool) -> int | None:
        value = m.get(key)
        if value is None:
            if required:
                raise self.fail(f"{where}.{key}", "缺少此项")
            return None
        if not isinstance(value, int) or isinstance(value, bool) or not 1990 <= value <= 2100:
            raise self.fail(f"{where}.{key}", f"“{value}”不是合理的年份")
        return value

    def enum(self, m: Mapping[str, Any], key: str, where: str, enum: type[_E], default: _E | None) -> _E | None:
        if key not in m:
            return default
        try:
            return enum(m[key])
        except ValueError:
            allowed = "、".join(e.value for e in enum)
            raise self.fail(f"{where}.{key}", f"“{m[key]}”不是可用的取值（可用：{allowed}）") from None

    def pattern(self, text: str, where: str) -> str:
        try:
            compiled = re.compile(text)
        except re.error as exc:
            raise self.fail(where, f"不是合法的正则表达式（{exc}）") from None
        if compiled.groups < 1:
            raise self.fail(where, "正则表达式要用括号标出数字，例如 (\\d+)")
        return text


# --------------------------------------------------------------------------- tables


def _node(k: _Keys, raw: Any, where: str, parents: tuple[str, ...], depth: int, is_column: bool) -> Node:
    m = k.mapping(raw, where, {"id", "label", "kind", "decimals", "unit", "children"})
    node_id = k.ident(m, "id", where)
    label = k.text(m, "label", where, default="" if not is_column else None)
    path = (*parents, label)
    kind = k.enum(m, "kind", where, CellKind, None)
    decimals = m.get("decimals", 0)
    if not isinstance(decimals, int) or isinstance(decimals, bool) or not 0 <= decimals <= 6:
        raise k.fail(f"{where}.decimals", "应为 0 到 6 的整数")
    if decimals and kind is not CellKind.AMOUNT:
        raise k.fail(f"{where}.decimals", "只有 kind: amount 的单元格可以有小数位")
    unit = k.text(m, "unit", where, default="")
    children: tuple[Node, ...] = ()
    if "children" in m:
        raw_children = k.seq(m["children"], f"{where}.children")
        if not raw_children:
            raise k.fail(f"{where}.children", "不能为空列表")
        if kind is not None:
            raise k.fail(f"{where}.kind", "分组不能指定 kind，请写在其下的末级项上")
        children = tuple(
            _node(k, c, f"{where}.children[{i}]", path, depth + 1, is_column) for i, c in enumerate(raw_children)
        )
    return Node(node_id, label, path, depth, kind, decimals, unit, children)


def _table(k: _Keys, raw: Any, where: str) -> Table:
    m = k.mapping(raw, where, {"id", "sheet", "title", "corner", "rows", "columns"})
    table_id = k.ident(m, "id", where)
    rows = tuple(
        _node(k, r, f"{where}.rows[{i}]", (), 0, False) for i, r in enumerate(k.seq(m.get("rows"), f"{where}.rows"))
    )
    columns = tuple(
        _node(k, c, f"{where}.columns[{i}]", (), 0, True)
        for i, c in enumerate(k.seq(m.get("columns"), f"{where}.columns"))
    )
    if not rows or not columns:
        raise k.fail(where, "表格至少要有一行一列")
    for label, nodes in (
        ("rows", [n for top in rows for n in top.walk()]),
        ("columns", [n for top in columns for n in top.walk()]),
    ):
        seen: set[str] = set()
        for n in nodes:
            if n.id in seen:
                raise k.fail(f"{where}.{label}", f"id“{n.id}”重复")
            seen.add(n.id)
    return Table(
        id=table_id,
        sheet=k.text(m, "sheet", where),
        title=k.text(m, "title", where),
        corner=k.text(m, "corner", where, default=""),
        rows=rows,
        columns=columns,
    )


def _cell_ref(k: _Keys, text: Any, where: str, tables: Mapping[str, Table]) -> CellKey:
    """``"t3.new.total"`` → ``("t3", "new", "total")``, checked against the tables."""
    parts = str(text).split(".")
    if len(parts) != 3:
        raise k.fail(where, f"“{text}”应写成 表id.行id.列id，例如 t3.new.total")
    t, r, c = parts
    if t not in tables:
        raise k.fail(where, f"没有 id 为“{t}”的表")
    if r not in tables[t].row_nodes or c not in tables[t].column_nodes:
        raise k.fail(where, f"表“{t}”没有行“{r}”或列“{c}”")
    return (t, r, c)


# --------------------------------------------------------------------------- rules

_RULE_KEYS = {
    "id",
    "title",
    "severity",
    "kind",
    "message",
    "short",
    "table",
    "tables",
    "each",
    "computes",
    "equations",
    "section",
    "facts",
    "summary",
    "mentions",
    "placeholder",
    "test",
    "params",
    "cells",
    "words",
}

#: The plausibility tests a rule may name, with the parameters each takes.
PLAUSIBLE_TESTS: Mapping[str, frozenset[str]] = {
    "yuan": frozenset({"at_least", "whole_at_least"}),  # an amount in 元 typed in a 万元 cell
    "jump": frozenset({"factor", "floor"}),  # against last year: × or ÷ factor, and by floor at least
    "peers": frozenset({"z", "min_units"}),  # within a batch: a robust z-score beyond z
}
#: The tests of a text rule, with the parameters each takes.
TEXT_TESTS: Mapping[str, frozenset[str]] = {
    "mentions": frozenset(),  # the section names one of ``mentions``
    "short": frozenset({"min_length"}),  # the section has at least min_length characters
    "contradicts": frozenset(),  # ``cells`` above zero while the section says one of ``words``
    "copied": frozenset({"similarity"}),  # the section is last year's text again
}


def _terms(k: _Keys, raw: Any, where: str) -> tuple[Term, ...]:
    items = k.seq(raw, where)
    if not items:
        raise k.fail(where, "不能为空")
    return tuple(Term.parse(str(x)) for x in items)


def _equations(
    k: _Keys,
    m: Mapping[str, Any],
    where: str,
    kind: RuleKind,
    each: Each,
    table_ids: tuple[str, ...],
    tables: Mapping[str, Table],
) -> tuple[Equation, ...]:
    equations: list[Equation] = []
    for i, raw_eq in enumerate(k.seq(m.get("equations"), f"{where}.equations")):
        ew = f"{where}.equations[{i}]"
        em = k.mapping(raw_eq, ew, {"lhs", "rhs", "name"})
        eq = Equation(
            _terms(k, em.get("lhs"), f"{ew}.lhs"), _terms(k, em.get("rhs"), f"{ew}.rhs"), str(em.get("name", ""))
        )
        for t in table_ids:
            nodes = tables[t].row_nodes if each is Each.COLUMN else tables[t].column_nodes
            for term in (*eq.lhs, *eq.rhs):
                if term.id not in nodes:
                    what = "行" if each is Each.COLUMN else "列"
                    raise k.fail(ew, f"表“{t}”没有 id 为“{term.id}”的{what}")
            if kind is RuleKind.EQUATION and any(term.previous for term in (*eq.lhs, *eq.rhs)):
                raise k.fail(ew, "prev. 只能用于 kind: previous 的规则")
        equations.append(eq)
    if not equations:
        raise k.fail(f"{where}.equations", "不能为空")
    return tuple(equations)


def _check_computes(
    k: _Keys,
    where: str,
    equations: tuple[Equation, ...],
    each: Each,
    table_ids: tuple[str, ...],
    tables: Mapping[str, Table],
) -> None:
    for eq in equations:
        if len(eq.lhs) != 1 or eq.lhs[0].sign < 0:
            raise k.fail(where, "computes: true 的规则左边只能有一个单元格（合计）")
        for t in table_ids:
            nodes = tables[t].row_nodes if each is Each.COLUMN else tables[t].column_nodes
            if not nodes[eq.lhs[0].id].is_leaf:
                raise k.fail(where, "合计必须是末级行或列")


def _facts(k: _Keys, raw: Any, where: str, tables: Mapping[str, Table]) -> tuple[Fact, ...]:
    out: list[Fact] = []
    for i, item in enumerate(k.seq(raw, where)):
        fw = f"{where}[{i}]"
        fm = k.mapping(item, fw, {"name", "pattern", "patterns", "cells", "clause"})
        patterns = k.texts(fm, "patterns", fw) + k.texts(fm, "pattern", fw)
        if not patterns:
            raise k.fail(fw, "要写 pattern 或 patterns")
        cells = tuple(
            _cell_ref(k, c, f"{fw}.cells[{j}]", tables) for j, c in enumerate(k.seq(fm.get("cells"), f"{fw}.cells"))
        )
        if not cells:
            raise k.fail(f"{fw}.cells", "不能为空")
        clause = _facts(k, fm["clause"], f"{fw}.clause", tables) if "clause" in fm else ()
        out.append(
            Fact(
                name=k.text(fm, "name", fw),
                patterns=tuple(k.pattern(p, f"{fw}.patterns") for p in patterns),
                cells=cells,
                clause=clause,
            )
        )
    return tuple(out)


#: ``{t3.new.total}`` or ``{t4.cases.direct_total+t4.cases.after_total}`` in a summary sentence.
PLACEHOLDER = re.compile(r"\{([^{}]+)\}")


def _summary(k: _Keys, text: str, where: str, tables: Mapping[str, Table]) -> str:
    for m in PLACEHOLDER.finditer(text):
        for part in m.group(1).split("+"):
            _cell_ref(k, part.strip(), where, tables)
    return re.sub(r"\s*\n\s*", "", text)


def _rule(k: _Keys, raw: Any, where: str, tables: Mapping[str, Table], sections: Mapping[str, Section]) -> Rule:
    m = k.mapping(raw, where, _RULE_KEYS)
    kind = k.enum(m, "kind", where, RuleKind, RuleKind.EQUATION)
    assert kind is not None  # a default was given
    severity = k.enum(m, "severity", where, Severity, None)
    if severity is None:
        raise k.fail(f"{where}.severity", "缺少此项（error、warning 或 notice）")
    table_ids: tuple[str, ...] = ()
    if "table" in m:
        table_ids = (k.text(m, "table", where),)
    elif "tables" in m:
        table_ids = tuple(str(t) for t in k.seq(m["tables"], f"{where}.tables"))
    for t in table_ids:
        if t not in tables:
            raise k.fail(f"{where}.table", f"没有 id 为“{t}”的表")
    each = k.enum(m, "each", where, Each, None)
    equations: tuple[Equation, ...] = ()
    if kind in (RuleKind.EQUATION, RuleKind.PREVIOUS):
        if not table_ids or each is None:
            raise k.fail(where, "等式规则要写明 table 和 each（row 或 column）")
        equations = _equations(k, m, where, kind, each, table_ids, tables)
    computes = bool(m.get("computes", False))
    if computes:
        assert each is not None
        _check_computes(k, where, equations, each, table_ids, tables)
    section = ""
    if kind in (RuleKind.RESTATED, RuleKind.TEXT):
        section = k.text(m, "section", where)
        if section not in sections or sections[section].kind != "text":
            raise k.fail(f"{where}.section", f"没有 id 为“{section}”的文字部分")
    facts = _facts(k, m.get("facts"), f"{where}.facts", tables) if kind is RuleKind.RESTATED else ()
    mentions = k.texts(m, "mentions", where)
    test: str = ""
    params: tuple[tuple[str, Decimal], ...] = ()
    if kind is RuleKind.PLAUSIBLE:
        test, params = _test(k, m, where, PLAUSIBLE_TESTS, None)
    elif kind is RuleKind.TEXT:
        test, params = _test(k, m, where, TEXT_TESTS, "mentions")
    cells = tuple(
        _cell_ref(k, c, f"{where}.cells[{j}]", tables) for j, c in enumerate(k.seq(m.get("cells", []), where))
    )
    words = k.texts(m, "words", where)
    _check_test(k, where, test, mentions, cells, words)
    return Rule(
        id=k.text(m, "id", where),
        title=k.text(m, "title", where),
        severity=severity,
        kind=kind,
        message=k.text(m, "message", where),
        short=k.text(m, "short", where, default=""),
        tables=table_ids,
        each=each,
        computes=computes,
        equations=equations,
        section=section,
        facts=facts,
        summary=_summary(k, k.text(m, "summary", where, ""), f"{where}.summary", tables),
        mentions=mentions,
        placeholder=k.text(m, "placeholder", where, ""),
        test=test,
        params=params,
        cells=cells,
        words=words,
    )


def _check_test(
    k: _Keys, where: str, test: str, mentions: tuple[str, ...], cells: tuple[CellKey, ...], words: tuple[str, ...]
) -> None:
    """What each test needs besides its parameters."""
    if test == "mentions" and not mentions:
        raise k.fail(f"{where}.mentions", "文字规则要写明必须提到的词")
    if test in ("jump", "peers", "contradicts") and not cells:
        raise k.fail(f"{where}.cells", f"{test} 检验要写明所看的单元格（表id.行id.列id）")
    if test == "contradicts" and not words:
        raise k.fail(f"{where}.words", "contradicts 检验要写明与数字矛盾的词")


def _test(
    k: _Keys, m: Mapping[str, Any], where: str, tests: Mapping[str, frozenset[str]], default: str | None
) -> tuple[str, tuple[tuple[str, Decimal], ...]]:
    test = k.text(m, "test", where, default)
    if test not in tests:
        raise k.fail(f"{where}.test", f"“{test}”不是可用的检验（可用：{'、'.join(tests)}）")
    raw = k.mapping(m.get("params", {}), f"{where}.params", set(tests[test]))
    params: list[tuple[str, Decimal]] = []
    for name, value in raw.items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise k.fail(f"{where}.params.{name}", "应为数字")
        params.append((str(name), Decimal(repr(value)) if isinstance(value, float) else Decimal(value)))
    return test, tuple(params)


# --------------------------------------------------------------------------- the format


def _sections(k: _Keys, raw: Any, tables: Mapping[str, Table]) -> tuple[Section, ...]:
    sections: list[Section] = []
    for i, raw_s in enumerate(k.seq(raw, "sections")):
        where = f"sections[{i}]"
        sm = k.mapping(raw_s, where, {"id", "label", "kind", "tables", "prompt", "aliases", "length"})
        kind = k.text(sm, "kind", where)
        if kind not in ("text", "tables"):
            raise k.fail(f"{where}.kind", "应为 text 或 tables")
        length = sm.get("length", 0)
        if not isinstance(length, int) or isinstance(length, bool) or not 0 <= length <= 100_000:
            raise k.fail(f"{where}.length", "应为 0 到 100000 的整数（预计字数）")
        if length and kind != "text":
            raise k.fail(f"{where}.length", "只有 kind: text 的部分可以写预计字数")
        refs = tuple(str(t) for t in sm.get("tables", []) or [])
        for t in refs:
            if t not in tables:
                raise k.fail(f"{where}.tables", f"没有 id 为“{t}”的表")
        sections.append(
            Section(
                k.ident(sm, "id", where),
                k.text(sm, "label", where),
                kind,
                refs,
                k.text(sm, "prompt", where, ""),
                k.texts(sm, "aliases", where),
                length,
            )
        )
    if len({s.id for s in sections}) != len(sections):
        raise k.fail("sections", "部分的 id 有重复")
    return tuple(sections)


def _charts(k: _Keys, raw: Any, tables: Mapping[str, Table]) -> tuple[Chart, ...]:
    charts: list[Chart] = []
    for i, item in enumerate(k.seq(raw, "charts") if raw is not None else []):
        where = f"charts[{i}]"
        cm = k.mapping(item, where, {"kind", "title", "cell", "table", "rows", "column"})
        kind = k.text(cm, "kind", where)
        if kind == "bar":
            t, r, c = _cell_ref(k, k.text(cm, "cell", where), f"{where}.cell", tables)
        elif kind == "pie":
            t, r, c = k.text(cm, "table", where), k.text(cm, "rows", where), k.text(cm, "column", where)
            _cell_ref(k, f"{t}.{r}.{c}", where, tables)
            if tables[t].row_nodes[r].is_leaf:
                raise k.fail(f"{where}.rows", "饼图的 rows 应是分组行（取其下各项）")
        else:
            raise k.fail(f"{where}.kind", f"“{kind}”不是可用的取值（可用：bar、pie）")
        charts.append(Chart(kind, k.text(cm, "title", where), t, r, c))
    return tuple(charts)


_FORMAT_KEYS = {
    "spec_version",
    "id",
    "name",
    "document",
    "years",
    "sections",
    "tables",
    "rules",
    "charts",
    "indicators",
}


def _indicators(k: _Keys, raw: Any, tables: Mapping[str, Table]) -> tuple[Indicator, ...]:
    out: list[Indicator] = []
    for i, item in enumerate(k.seq(raw, "indicators") if raw is not None else []):
        where = f"indicators[{i}]"
        im = k.mapping(item, where, {"id", "name", "numerator", "denominator", "percent", "decimals"})
        parts = {
            side: tuple(
                _cell_ref(k, c, f"{where}.{side}[{j}]", tables) for j, c in enumerate(k.seq(im.get(side), where))
            )
            for side in ("numerator", "denominator")
        }
        if not parts["numerator"] or not parts["denominator"]:
            raise k.fail(where, "指标要写明 numerator 和 denominator（单元格列表）")
        decimals = im.get("decimals", 1)
        if isinstance(decimals, bool) or not isinstance(decimals, int) or not 0 <= decimals <= 6:
            raise k.fail(f"{where}.decimals", "应为 0 到 6 的整数")
        out.append(
            Indicator(
                k.ident(im, "id", where),
                k.text(im, "name", where),
                parts["numerator"],
                parts["denominator"],
                bool(im.get("percent", True)),
                decimals,
            )
        )
    if len({x.id for x in out}) != len(out):
        raise k.fail("indicators", "指标的 id 有重复")
    return tuple(out)


def _format(k: _Keys, raw: Any, digest: str, builtin: bool) -> Format:
    m = k.mapping(raw, "顶层", _FORMAT_KEYS)
    version = m.get("spec_version")
    if version != SPEC_VERSION:
        raise k.fail("spec_version", f"应为 {SPEC_VERSION}，实际为“{version}”")
    years = k.mapping(m.get("years"), "years", {"from", "to"})
    tables = tuple(_table(k, t, f"tables[{i}]") for i, t in enumerate(k.seq(m.get("tables"), "tables")))
    table_map = {t.id: t for t in tables}
    if len(table_map) != len(tables):
        raise k.fail("tables", "表的 id 有重复")
    sections = _sections(k, m.get("sections"), table_map)
    section_map = {s.id: s for s in sections}
    rules = tuple(
        _rule(k, r, f"rules[{i}]", table_map, section_map) for i, r in enumerate(k.seq(m.get("rules"), "rules"))
    )
    if len({r.id for r in rules}) != len(rules):
        raise k.fail("rules", "规则 id 有重复")
    year_from = k.year(years, "from", "years", required=True)
    assert year_from is not None  # required=True
    return Format(
        id=k.text(m, "id", "顶层"),
        name=k.text(m, "name", "顶层"),
        document=k.text(m, "document", "顶层", default=""),
        year_from=year_from,
        year_to=k.year(years, "to", "years", required=False),
        sections=sections,
        tables=tables,
        rules=rules,
        charts=_charts(k, m.get("charts"), table_map),
        indicators=_indicators(k, m.get("indicators"), table_map),
        source=k.source,
        digest=digest,
        builtin=builtin,
    )


def parse_format(text: str, source: str = "<文本>", *, builtin: bool = False) -> Format:
    """A format from the text of its definition; ``source`` names it in messages."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SpecError(f"格式定义文件 {source} 不是合法的 YAML：{exc}。") from exc
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return _format(_Keys(source), raw, digest, builtin)


def read_definition(path: str | Path) -> str:
    p = Path(path)
    try:
        return p.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise SpecError(f"无法读取格式定义文件 {p}：{reason}。请确认文件存在且为 UTF-8 编码。") from exc


# --------------------------------------------------------------------------- as plain data


def _node_dict(n: Node) -> dict[str, Any]:
    d: dict[str, Any] = {"id": n.id, "label": n.label, "path": n.path_text}
    if n.is_leaf:
        if n.kind:
            d["kind"] = n.kind.value
        if n.decimals:
            d["decimals"] = n.decimals
        if n.unit:
            d["unit"] = n.unit
    else:
        d["children"] = [_node_dict(c) for c in n.children]
    return d


def _fact_dict(f: Fact) -> dict[str, Any]:
    d: dict[str, Any] = {"name": f.name, "patterns": list(f.patterns), "cells": [".".join(c) for c in f.cells]}
    if f.clause:
        d["clause"] = [_fact_dict(c) for c in f.clause]
    return d


def _rule_dict(r: Rule) -> dict[str, Any]:
    d: dict[str, Any] = {
        "id": r.id,
        "title": r.title,
        "severity": r.severity.value,
        "kind": r.kind.value,
        "tables": list(r.tables),
        "each": r.each.value if r.each else None,
        "computes": r.computes,
        "equations": [
            {"name": e.name, "lhs": [str(t) for t in e.lhs], "rhs": [str(t) for t in e.rhs]} for e in r.equations
        ],
        "message": r.message,
    }
    if r.section:
        d["section"] = r.section
    if r.facts:
        d["facts"] = [_fact_dict(f) for f in r.facts]
    if r.summary:
        d["summary"] = r.summary
    if r.mentions:
        d["mentions"] = list(r.mentions)
    if r.placeholder:
        d["placeholder"] = r.placeholder
    if r.test:
        d["test"] = r.test
        d["params"] = {name: float(v) for name, v in r.params}
    if r.cells:
        d["cells"] = [".".join(c) for c in r.cells]
    if r.words:
        d["words"] = list(r.words)
    return d


def format_to_dict(fmt: Format) -> dict[str, Any]:
    """The structure as plain data (what ``formats show --json`` prints)."""
    return {
        "spec_version": SPEC_VERSION,
        "id": fmt.id,
        "name": fmt.name,
        "document": fmt.document,
        "source": fmt.source,
        "years": {"from": fmt.year_from, "to": fmt.year_to},
        "sections": [
            {"id": s.id, "label": s.label, "kind": s.kind, "tables": list(s.tables)}
            | ({"prompt": s.prompt} if s.prompt else {})
            | ({"aliases": list(s.aliases)} if s.aliases else {})
            | ({"length": s.length} if s.length else {})
            for s in fmt.sections
        ],
        "tables": [
            {
                "id": t.id,
                "sheet": t.sheet,
                "title": t.title,
                "corner": t.corner,
                "columns": [_node_dict(c) for c in t.columns],
                "rows": [_node_dict(r) for r in t.rows],
                "cells": [{"row": r, "column": c, "kind": t.cell_kind(r, c).value} for r, c in t.cells()],
            }
            for t in fmt.tables
        ],
        "rules": [_rule_dict(r) for r in fmt.rules],
        "charts": [
            {"kind": c.kind, "title": c.title, "table": c.table, "row": c.row, "column": c.column} for c in fmt.charts
        ],
        "indicators": [
            {
                "id": x.id,
                "name": x.name,
                "numerator": [".".join(c) for c in x.numerator],
                "denominator": [".".join(c) for c in x.denominator],
                "percent": x.percent,
                "decimals": x.decimals,
            }
            for x in fmt.indicators
        ],
    }
