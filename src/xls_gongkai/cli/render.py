"""``xls-gongkai render``: a checked Report (JSON or filled workbook) → the annual report document."""

from __future__ import annotations

import json
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from xls_gongkai.errors import UsageError, XlsGongkaiError
from xls_gongkai.issues import Issue
from xls_gongkai.report import Report


class To(StrEnum):
    DOCX = "docx"
    MD = "md"
    HTML = "html"


_WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods")


def load_report(path: Path) -> Report:
    """A Report from a JSON file (``Report.to_json``) or from a filled / summary workbook.

    Raises :class:`UsageError` (JSON not a report) or the reader's :class:`WorkbookError`.
    """
    if not path.is_file():
        raise UsageError(f"找不到输入文件 {path}。请检查路径。")
    if path.suffix.lower() in _WORKBOOK_SUFFIXES:
        from xls_gongkai.reading.reader import read_workbook

        result = read_workbook(path)
        if result.report is None:
            raise UsageError(f"无法从工作簿 {path} 读出报告数据。请先用 xls-gongkai check 检查该文件。")
        return result.report
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"), parse_float=Decimal)
        if isinstance(data, dict) and "reports" in data and isinstance(data["reports"], list) and data["reports"]:
            data = data["reports"][0]  # the output of `import --json` holds a list of reports
        if isinstance(data, dict) and "report" in data and isinstance(data["report"], dict):
            data = data["report"]
        return Report.from_dict(data)
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
        raise UsageError(
            f"{path} 不是报告数据文件（JSON 或填好的工作簿）：{exc}。请用 xls-gongkai import --json 或 read --json 生成。"
        ) from exc


def data_errors(report: Report) -> list[Issue]:
    """The rule errors of the data about to be published.

    Blank totals are taken as the sum of their parts first (as the importer does): a published
    table that leaves a total blank claims nothing wrong, while a typed total that disagrees does.
    """
    from xls_gongkai.documents.importer import totals_filled
    from xls_gongkai.rules import check_report

    return [i for i in check_report(totals_filled(report)) if i.is_error]


def render_cmd(
    input_file: Annotated[
        Path, typer.Argument(help="报告数据：JSON（import/read --json 的输出）或填好的工作簿、汇总表。")
    ],
    to: Annotated[To, typer.Option("--to", help="输出格式：docx（Word）、md（Markdown）或 html（网页）。")] = To.DOCX,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="输出文件；默认与输入同名、换扩展名。md/html 可用 - 输出到屏幕。"),
    ] = None,
) -> None:
    """由核对无误的数据生成年度报告文稿：标题、一至六部分、按官方版式排好的表二至表四。

    文字部分取自数据中的 s1、s5、s6；缺少的部分、以及 2021 年起六中缺少的信息处理费说明，会插入醒目的“【待补充】”语句，并在屏幕上提示。一、总体情况为空时，另附一段由表三、表四数字写成的摘要，可直接采用。

    生成前按全部勾稽关系核对数据：有错误时仍生成文稿，但逐条提示并以退出码 1 结束，请改正后再发布。

    示例：

      xls-gongkai render 坡头镇.json --to docx

      xls-gongkai render 汇总表.xlsx --to html --out 年报.html

      xls-gongkai render 坡头镇.json --to md --out -
    """
    from xls_gongkai.cli import fail
    from xls_gongkai.documents.render import missing_statements, render

    try:
        report = load_report(input_file)
    except XlsGongkaiError as exc:
        raise fail(exc) from exc
    target = out if out is not None else input_file.with_suffix(f".{to.value}")
    if str(target) == "-":
        if to is To.DOCX:
            raise fail(UsageError("docx 不能输出到屏幕，请用 --out 指定文件。"))
        typer.echo(render(report, to.value), nl=False)  # type: ignore[arg-type]
    else:
        if target.resolve() == input_file.resolve():
            raise fail(UsageError(f"输出文件 {target} 与输入相同，请用 --out 指定另一个文件。"))
        try:
            render(report, to.value, target)
        except OSError as exc:
            raise fail(UsageError(f"无法写入 {target}：{exc}。")) from exc
        typer.echo(f"已生成 {target}")
    for note in missing_statements(report):
        typer.echo(f"提示：{note}", err=True)
    errors = data_errors(report)
    if errors:
        typer.echo(f"注意：数据有 {len(errors)} 处错误，文稿中的表格会带着这些错误，请改正后再发布：", err=True)
        for issue in errors[:10]:
            typer.echo(f"  [{issue.code}] {issue.message}", err=True)
        if len(errors) > 10:
            typer.echo(f"  ……另有 {len(errors) - 10} 处，请用 xls-gongkai check 查看全部。", err=True)
        raise typer.Exit(1)
