"""Issues: problems found in the data, collected into results instead of raised.

Every problem that is not a rule of the format has one entry in :data:`CATALOGUE` — its code,
its one severity, a Chinese title, the message template and what to do — in the manner of
frictionless's error catalogue. Call sites say *which* problem and fill in the template's
fields (:meth:`IssueType.make`); they never choose a severity or write a message of their own,
so the same problem reads the same in ``check``, ``merge``, ``import`` and the portal. The
README's table of issue codes is generated from this catalogue (and tested against it). Rule
issues (R1…, T1) take their severity and message from the format definition.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from decimal import Decimal
from typing import Any, Literal, cast, get_args

from xls_gongkai.errors import one_line, printable
from xls_gongkai.report import CellKey, Explanation, Report
from xls_gongkai.spec import Format, Severity

__all__ = [
    "CATALOGUE",
    "HINT_CODES",
    "Code",
    "Issue",
    "IssueType",
    "Result",
    "Unrecognised",
    "explanation_for",
    "explanation_key",
]


@dataclass(frozen=True)
class Issue:
    """One problem, located as precisely as it can be.

    ``code`` is the rule id (``R1``…, ``T1``) or a catalogue code; ``cell`` is the A1 address of
    the first cell involved and ``cells`` all of them. ``key`` names the check a rule issue
    comes from (``R1|t3|natural|0``): what a 说明 refers to.
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
    key: str = ""

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    @property
    def is_warning(self) -> bool:
        return self.severity is Severity.WARNING

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["severity"] = self.severity.value
        d["cells"] = list(self.cells)
        return d

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Issue:
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


def explanation_key(i: Issue) -> str:
    """What a 说明 (explanation) of this issue is filed under, stable across versions of a file:
    a rule's check (``R7|t2_1|regulations|0``), else the problem and the cell it is about."""
    if i.key:
        return i.key
    if i.table:
        return "|".join((i.code, i.table, i.row, i.column))
    return "|".join((i.code, i.sheet, i.cell))


def _written_by(e: Explanation, i: Issue) -> bool:
    if e.unit.code:
        return e.unit.code == i.unit_code
    return not e.unit.name or e.unit.name == i.unit_name


def explanation_for(i: Issue, explanations: Iterable[Explanation]) -> Explanation | None:
    """The 说明 of a warning: one filed under its own key (:func:`explanation_key`), else one
    filed under its rule or code (a template's 说明 sheet has a row per warning rule), written
    by the issue's unit (or by the report's own unit, when no unit is named). Errors are never
    explained away, and the general 说明 explains no warning in particular."""
    if not i.is_warning:
        return None
    key, rule = explanation_key(i), i.code
    best: Explanation | None = None
    for e in explanations:
        if not _written_by(e, i):
            continue
        if e.key == key:
            return e
        if e.key == rule and best is None:
            best = e
    return best


@dataclass(frozen=True)
class IssueType:
    """One kind of problem: its code, its severity, and how it is told.

    ``template`` and ``action`` are ``str.format`` templates over the fields given to
    :meth:`make`; the message is the template, then what to do.
    """

    code: str
    severity: Severity
    title: str
    template: str
    action: str = ""
    description: str = ""

    def make(self, *, where: Mapping[str, Any] | None = None, **params: Any) -> Issue:
        """An issue of this type: ``params`` fill the template (and may be Issue fields too)."""
        located = {k: v for k, v in {**(where or {}), **params}.items() if k in _ISSUE_FIELDS}
        if "file" in located:
            located["file"] = printable(str(located["file"]))
        message = self.template.format(**params)
        action = self.action.format(**params)
        if action:
            message = f"{message.rstrip('。')}。{action}"
        if not message.endswith(("。", "？", "！", "）")):
            message += "。"
        # A message is one line of text safe to print and to store (a clerk's cell or a file
        # name may carry line breaks, control characters or bytes that are not UTF-8).
        message = one_line(message)
        return Issue(code=self.code, severity=self.severity, message=message, **located)


_ISSUE_FIELDS = frozenset(f.name for f in fields(Issue)) - {"code", "severity", "message"}

E, W, N = Severity.ERROR, Severity.WARNING, Severity.NOTICE

CATALOGUE: Mapping[str, IssueType] = {
    t.code: t
    for t in (
        # ---- values in cells
        IssueType(
            "blank-cells",
            N,
            "空白格",
            "{table_name}有 {count} 个空白的填报格",
            "已按 0 计；没有发生的事项请填 0",
            "填报格留空。校验和汇总都按 0 计；每张表合并为一条提示（--strict 时逐格报错）。",
        ),
        IssueType(
            "missing-value",
            E,
            "未填写（严格）",
            "{place}未填写",
            "没有发生的请填 0",
            "--strict 时每个空白的填报格都是错误。",
        ),
        IssueType("not-a-number", E, "不是数字", "{place}：{note}", "请只填数字", "单元格里的内容不是可用的数字。"),
        IssueType(
            "number-in-text",
            W,
            "文字中的数字",
            "{place}：{note}",
            "请核对；填报时请只填数字",
            "已发布报告的表格中数字带有文字（“22（其中修订16件）”），取出数字并提示。",
        ),
        IssueType(
            "unit-converted",
            W,
            "金额单位换算",
            "{place}：{note}",
            "请核对金额单位",
            "金额带单位（“251000元”），已换算为本单元格的单位（万元）。",
        ),
        IssueType(
            "formula-in-input",
            W,
            "填数格中有公式",
            "{place}：{note}",
            "请直接填写数字",
            "应直接填数的单元格中是公式（如 =5+7 或 =D8+1）：本工具重新计算它（不采信文件里保存的结果）并按结果计入。",
        ),
        IssueType(
            "formula-unsafe",
            E,
            "无法核对的公式",
            "{place}：{note}",
            "请删除公式，直接填写数字",
            "应直接填数的单元格中的公式引用了其他工作簿、使用 DDE 或随时间变化的函数（RAND、NOW 等），结果无法核对。",
        ),
        IssueType(
            "total-overwritten",
            E,
            "合计被改写",
            "{place}是合计，按明细应为 {expected}，表中填的是 {found}",
            "合计由公式自动计算，请核对明细数字，不要手工改写合计",
            "锁定的合计格被手工填了与明细不符的数。",
        ),
        # ---- where failing relations most likely went wrong (rules.localise): hints beside the
        # errors, never a problem of their own (a notice: no exit code, no status, no 说明)
        IssueType(
            "probable-cell",
            N,
            "很可能出错的单元格",
            "很可能是 {place}：{change}，则全部校验通过{rest}",
            "",
            "勾稽关系不成立时，找出改动最少的单元格使全部关系成立：只有一处能解释，或只有一处像常见的笔误"
            "（两位数字颠倒、漏一位或多一位数字、数字填到相邻的行或列、合计多算或漏算一项）时指出它。",
        ),
        IssueType(
            "candidate-cells",
            N,
            "可能出错的几处",
            "有 {count} 处改动都能使全部校验通过，无法确定是哪一处：{places}",
            "请逐一核对",
            "几处改动同样能解释不成立的勾稽关系时一并列出，不作猜测（多于 6 处时不列）。",
        ),
        # ---- structure of the workbook or document
        IssueType(
            "layout-moved",
            W,
            "模板结构被改动",
            "{tables}的行或列被移动、插入或删除过（模板结构已改变），已按标签重新定位数据",
            "请核对读取结果；今后请勿改动模板的行列",
            "模板的行列被改动过，按标签找到了数据。",
        ),
        IssueType(
            "other-version",
            W,
            "其他版本的模板",
            "本模板由另一版本的 xls-gongkai 生成（版式指纹不同），已逐项核对标签读取",
            "",
            "模板版式与本版本不同。",
        ),
        IssueType(
            "hand-made",
            W,
            "手工制作的表格",
            "本文件不是 xls-gongkai 生成的模板（{how}），已按行列标签识别为“{format}”格式的表格",
            "请核对读取结果",
            "不是本工具生成的模板（手工照官方表样制作，或另存为其他格式），按标签读取。",
        ),
        IssueType(
            "group-as-one-row",
            W,
            "分组按一行填报",
            "{table_name}“{label}”按一行填报，其下各分项（{parts}）的数字未知",
            "汇总时只能使用合计数",
            "2021 格式的（六）其他处理按 2019 格式填成了一行。",
        ),
        IssueType(
            "label-not-found",
            E,
            "找不到表格或行列",
            "{note}",
            "该部分数据未能读取，请使用原模板填报",
            "工作簿中找不到某张表、某一行或某一列。",
        ),
        IssueType(
            "not-in-document", W, "报告中缺少表格或行", "{note}", "其数据未导入", "导入的报告中没有某张表或某些行。"
        ),
        IssueType(
            "unrecognised-content",
            W,
            "未识别的内容",
            "{note}",
            "如是数据，请填到对应的单元格",
            "填报格以外填写的内容，未读入（保留在结果中）。",
        ),
        IssueType(
            "document-fragment",
            N,
            "未识别的文字",
            "{note}",
            "",
            "导入的报告的表格中没有数字、未能识别的文字：多为折行的标签或表头碎片，未导入。",
        ),
        IssueType(
            "not-imported",
            W,
            "未导入的内容",
            "{note}",
            "",
            "导入的报告中未能识别、未导入的内容：折行的标签、表头碎片、本格式没有的表格项。",
        ),
        IssueType(
            "digits-ambiguous",
            W,
            "数字串拆分不唯一",
            "{place}的数字连在一起（“{found}”），有 {count} 种拆分都符合{basis}：{candidates}",
            "该行未导入，请对照报告原件填写",
            "报告全文排成一行、数字连在一起时，按勾稽关系拆分；不止一种拆分符合全部规则时列出各种拆分，不作猜测。",
        ),
        IssueType(
            "digits-unsplit",
            W,
            "数字串无法拆分",
            "{place}的数字连在一起（“{found}”），{reason}",
            "该行未导入，请对照报告原件填写",
            "报告全文排成一行、数字连在一起时，没有一种拆分符合本行的勾稽关系（常因留空的单元格），或可能的拆分过多。",
        ),
        IssueType(
            "document-blank-cells",
            N,
            "报告中的空白格",
            "{name}有 {count} 个单元格空白{detail}",
            "空白按未填写处理，校验时按 0 计",
            "已发布报告的表格中留空的单元格（留空的合计按各项之和校验）。",
        ),
        IssueType("text-missing", W, "文字部分未填写", "“{section}”没有内容", "请补充", "正文的文字部分为空。"),
        # ---- identity: year, format, unit
        IssueType(
            "year-mismatch",
            E,
            "年度不符",
            "文件中的报告年度是 {found} 年，但本次收集的是 {expected} 年度",
            "请确认是否提交错了年度的报表",
            "报表的年度与本次收集的年度不同。",
        ),
        IssueType(
            "year-in-doubt",
            W,
            "年度存疑",
            "{note}",
            "请核对年度",
            "导入的报告中年度前后不一：标题与统计期限、标题与指定的年度、本年与上一年度报告。",
        ),
        IssueType(
            "format-unknown",
            W,
            "格式定义未提供",
            "文件记录的格式是“{found}”，不是内置格式，也没有给出它的定义，已按行列标签识别",
            "如为地方变体，请用 --format 指定它的定义文件（YAML）",
            "模板由地方变体生成，而本次没有用 --format 给出该变体的定义。",
        ),
        IssueType("year-unknown", W, "年度不明", "{note}", "请用 --year 指定年度", "文件中找不到报告年度。"),
        IssueType("other-format", E, "格式不符", "{note}", "请改用正确格式的模板重新填报", "报表用了另一版本的格式。"),
        IssueType("unit-mismatch", E, "单位不符", "{note}", "请核对", "文件中的单位与指定的单位不一致。"),
        IssueType(
            "unit-changed",
            W,
            "填报说明被改动",
            "“填报说明”中的{label}是“{found}”，模板的隐藏记录是“{expected}”，已按表中所写读取",
            "请核对单位和年度；确需更改的，请向发放模板的单位索取新模板",
            "模板上锁定的单位或年度被改写：按表中所写读取（隐藏记录只作参考）。",
        ),
        IssueType(
            "meta-mismatch",
            W,
            "隐藏记录与表中不符",
            "{note}",
            "请核对；以表中内容为准",
            "模板的隐藏记录（_meta）只作参考：与工作簿中看得到的内容不符时，按看得到的内容读取并提示。",
        ),
        IssueType(
            "unit-name-blank",
            E,
            "没有单位名称",
            "文件中没有填报单位名称",
            "{how}，或用 --unit 指定",
            "工作簿中没有单位名称。",
        ),
        IssueType("unit-unknown", W, "单位不明", "{note}", "请用 --unit 指定", "导入的报告中找不到单位名称。"),
        # ---- the batch: roster, duplicates
        IssueType(
            "not-in-roster",
            E,
            "不在名册",
            "单位“{name}”（代码 {code}）不在单位名册 {roster} 中",
            "请核对单位名称和代码，或补充名册；未计入汇总",
            "文件的单位不在名册中（check 与 merge 相同）。",
        ),
        IssueType(
            "roster-mismatch", W, "与名册不一致", "{note}", "请核对", "单位代码与名称同名册中的不一致，已按其一对应。"
        ),
        IssueType(
            "unit-from-name",
            W,
            "按文件名或表头识别单位",
            "{note}",
            "请核对；今后请在表格上方写明“填报单位：单位名称”，或使用下发的模板填报",
            "手工制作的工作簿没有写明单位，按名册在文件名或表格上方的文字中找到了单位。",
        ),
        IssueType("duplicate-unit", E, "重复报送", "{note}", "{action}", "同一单位交了不止一份文件。"),
        IssueType(
            "summary-overlap",
            E,
            "汇总表与单位重复",
            "{note}",
            "请只给出汇总表或只给出各单位的报表",
            "汇总表中的单位又单独报送了，为免重复计算未计入。",
        ),
        IssueType("not-submitted", W, "未报送", "单位“{name}”（代码 {code}）未报送", "", "名册中的单位没有交文件。"),
        IssueType("file-unreadable", E, "文件无法使用", "{note}", "", "文件不是可用的工作簿或报告。"),
        IssueType(
            "empty-template",
            E,
            "空表",
            "本文件是没有填写任何数字的空白模板",
            "请填写后重新报送；没有发生的事项请填 0",
            "交回的是未填写的模板：不算已报送，不计入汇总。",
        ),
        # ---- what a workbook file holds besides its cells (reading.findings)
        IssueType(
            "container-content",
            W,
            "文件中含有宏或外部内容",
            "{detail}",
            "本工具不会运行或打开这些内容；如非必要，请删除后重新保存",
            "工作簿含宏、嵌入对象、外部链接、DDE 链接或外部数据连接；只读取单元格，不运行、不打开。",
        ),
        IssueType(
            "odd-entry-name",
            W,
            "文件内部有异常的部件名",
            "{detail}",
            "本工具不会解压这些部件；请用 Excel 或 WPS 打开后重新保存再提交",
            "工作簿（压缩包）内有 ../、绝对路径、反斜杠或控制字符的部件名，常见于被改动或恶意构造的文件。",
        ),
    )
}


class Code:
    """The catalogue's codes as names (rules use their own ids, R1…)."""

    BLANK_CELLS = "blank-cells"
    MISSING = "missing-value"
    NOT_A_NUMBER = "not-a-number"
    NUMBER_IN_TEXT = "number-in-text"
    UNIT_CONVERTED = "unit-converted"
    TOTAL_OVERWRITTEN = "total-overwritten"
    PROBABLE_CELL = "probable-cell"
    CANDIDATE_CELLS = "candidate-cells"
    FORMULA_IN_INPUT = "formula-in-input"
    FORMULA_UNSAFE = "formula-unsafe"
    LAYOUT_MOVED = "layout-moved"
    OTHER_VERSION = "other-version"
    HAND_MADE = "hand-made"
    GROUP_AS_ONE_ROW = "group-as-one-row"
    LABEL_NOT_FOUND = "label-not-found"
    NOT_IN_DOCUMENT = "not-in-document"
    NOT_IMPORTED = "not-imported"
    DIGITS_AMBIGUOUS = "digits-ambiguous"
    DIGITS_UNSPLIT = "digits-unsplit"
    FRAGMENT = "document-fragment"
    DOCUMENT_BLANKS = "document-blank-cells"
    UNRECOGNISED = "unrecognised-content"
    TEXT_MISSING = "text-missing"
    YEAR_MISMATCH = "year-mismatch"
    YEAR_IN_DOUBT = "year-in-doubt"
    YEAR_UNKNOWN = "year-unknown"
    FORMAT_UNKNOWN = "format-unknown"
    OTHER_FORMAT = "other-format"
    UNIT_MISMATCH = "unit-mismatch"
    UNIT_CHANGED = "unit-changed"
    META_MISMATCH = "meta-mismatch"
    UNIT_NAME_BLANK = "unit-name-blank"
    UNIT_UNKNOWN = "unit-unknown"
    NOT_IN_ROSTER = "not-in-roster"
    ROSTER_MISMATCH = "roster-mismatch"
    UNIT_FROM_NAME = "unit-from-name"
    DUPLICATE = "duplicate-unit"
    SUMMARY_OVERLAP = "summary-overlap"
    NOT_SUBMITTED = "not-submitted"
    FILE_UNREADABLE = "file-unreadable"
    EMPTY = "empty-template"
    CONTAINER_CONTENT = "container-content"
    ODD_ENTRY_NAME = "odd-entry-name"


#: Notices that say where the errors beside them most likely are: every front end shows them
#: with the errors (not folded away with the other notices).
HINT_CODES = frozenset({Code.PROBABLE_CELL, Code.CANDIDATE_CELLS})


def issue(code: str, /, **params: Any) -> Issue:
    """An issue of the catalogue's type ``code`` (see :meth:`IssueType.make`)."""
    return CATALOGUE[code].make(**params)


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Unrecognised:
    """Something found outside every known cell (kept, reported as 未识别的内容)."""

    sheet: str
    cell: str
    text: str


LocatedBy = Literal["template", "labels", "document", "json", ""]
_LOCATED_BY: frozenset[str] = frozenset(get_args(LocatedBy))


@dataclass(frozen=True)
class Result:
    """A report read (or imported) from one source, with every issue found in it.

    ``cells`` says where each value was read (sheet, A1) — empty for a JSON report or a
    document; ``container`` is the kind of file (xlsx, xls, ods, xlsb, json, txt, html, docx,
    pdf); ``located_by`` how its tables were found.
    """

    report: Report | None
    issues: tuple[Issue, ...] = ()
    source: str = ""
    container: str = ""
    located_by: LocatedBy = ""
    cells: Mapping[CellKey, tuple[str, str]] = field(default_factory=dict)
    unrecognised: tuple[Unrecognised, ...] = ()
    meta: Mapping[str, str] = field(default_factory=dict)
    #: What a document import found around the data (title, how the format was chosen, notes).
    notes: Mapping[str, Any] = field(default_factory=dict)
    #: Input cells of a workbook that held text or an error value instead of a number, as the
    #: cell showed it ("１２", "#REF!"): a marked-up copy puts them back, so that its sheet fails
    #: where the unit's did (they count 0 in the report's values).
    not_numbers: Mapping[CellKey, str] = field(default_factory=dict)

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.is_error]

    @property
    def warnings(self) -> list[Issue]:
        return [i for i in self.issues if i.severity is Severity.WARNING]

    @property
    def notices(self) -> list[Issue]:
        return [i for i in self.issues if i.severity is Severity.NOTICE]

    @property
    def valid(self) -> bool:
        return self.report is not None and not self.errors

    def flatten(self, *names: str) -> list[tuple[Any, ...]]:
        """The issues as tuples of the named fields — handy in tests and quick looks."""
        return [tuple(getattr(i, n) for n in names) for i in self.issues]

    def with_issues(self, *more: Issue) -> Result:
        from dataclasses import replace

        return replace(self, issues=(*self.issues, *more))

    # ------------------------------------------------------------------ serialisation

    def to_dict(self) -> dict[str, Any]:
        """The whole result as plain data (``json.dumps`` takes it): a server keeps a file's
        verdict without reading the file again. ``notes`` must hold plain data (a document
        import's do). Amounts go out as floats; :meth:`from_json` reads them back exactly."""
        return {
            "report": self.report.to_dict() if self.report is not None else None,
            "issues": [i.to_dict() for i in self.issues],
            "source": self.source,
            "container": self.container,
            "located_by": self.located_by,
            "cells": [
                {"table": t, "row": r, "column": c, "sheet": sheet, "cell": a1}
                for (t, r, c), (sheet, a1) in self.cells.items()
            ],
            "unrecognised": [asdict(u) for u in self.unrecognised],
            "meta": dict(self.meta),
            "notes": dict(self.notes),
            "not_numbers": [
                {"table": t, "row": r, "column": c, "text": v} for (t, r, c), v in self.not_numbers.items()
            ],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], formats: Sequence[Format] = ()) -> Result:
        """A result from :meth:`to_dict` data; the report's format is found by id among
        ``formats`` (the caller's local variants) and the built-in ones."""
        report = data.get("report")
        located_by = str(data.get("located_by", ""))
        if located_by not in _LOCATED_BY:
            raise ValueError(f"located_by 不能是 {located_by!r}")
        return cls(
            report=Report.from_dict(report, tuple(formats)) if report is not None else None,
            issues=tuple(Issue.from_dict(i) for i in data.get("issues", ())),
            source=str(data.get("source", "")),
            container=str(data.get("container", "")),
            located_by=cast(LocatedBy, located_by),
            cells={
                (str(c["table"]), str(c["row"]), str(c["column"])): (str(c["sheet"]), str(c["cell"]))
                for c in data.get("cells", ())
            },
            unrecognised=tuple(
                Unrecognised(str(u["sheet"]), str(u["cell"]), str(u["text"])) for u in data.get("unrecognised", ())
            ),
            meta={str(k): str(v) for k, v in dict(data.get("meta", {})).items()},
            notes=dict(data.get("notes", {})),
            not_numbers={
                (str(c["table"]), str(c["row"]), str(c["column"])): str(c["text"]) for c in data.get("not_numbers", ())
            },
        )

    def to_json(self, indent: int | None = None) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=indent)

    @classmethod
    def from_json(cls, text: str, formats: Sequence[Format] = ()) -> Result:
        # Amounts as Decimal straight from the text: 0.1 stays 0.1, never 0.1000000000000000055.
        return cls.from_dict(json.loads(text, parse_float=Decimal), formats)


def unreadable(source: str, message: str) -> Result:
    """The result of a file that could not be used at all (one ``file-unreadable`` issue)."""
    source = printable(source)
    return Result(report=None, issues=(issue(Code.FILE_UNREADABLE, note=message, file=source),), source=source)


def counts(issues: Iterable[Issue]) -> tuple[int, int, int]:
    """(errors, warnings, notices)."""
    e = w = n = 0
    for i in issues:
        if i.severity is Severity.ERROR:
            e += 1
        elif i.severity is Severity.WARNING:
            w += 1
        else:
            n += 1
    return e, w, n


def by_severity(issues: Sequence[Issue]) -> list[Issue]:
    """Errors first, then warnings, then notices; the order within each kept."""
    rank = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.NOTICE: 2}
    return sorted(issues, key=lambda i: rank[i.severity])
