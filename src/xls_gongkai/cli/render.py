"""``xls-gongkai render``: a checked report (JSON, filled workbook or summary) → the annual report document."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from xls_gongkai.cli.common import FormatOpt, fail, format_option, variants, visible

if TYPE_CHECKING:
    from xls_gongkai.report import Report


class To(StrEnum):
    DOCX = "docx"
    MD = "md"
    HTML = "html"


def _summary_units(path: Path, report: Report) -> list[str]:
    """For a summary workbook: the units summed with errors, as its 报送情况 lists them (else
    those of its 明细 whose figures fail the rules)."""
    if report.units <= 1 or path.suffix.lower() not in (".xlsx", ".xlsm"):
        return []
    from xls_gongkai.documents.render import units_with_errors
    from xls_gongkai.reading.detail import read_detail, units_in_error

    listed = units_in_error(path)
    return listed if listed is not None else units_with_errors(read_detail(path, report.format, report.year))


def render_cmd(
    input_file: Annotated[
        Path, typer.Argument(help="报告数据：JSON（import/read --json 的输出）或填好的工作簿、汇总表。")
    ],
    to: Annotated[To, typer.Option("--to", help="输出格式：docx（Word）、md（Markdown）或 html（网页）。")] = To.DOCX,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="输出文件；默认与输入同名、换扩展名。md/html 可用 - 输出到屏幕。")
    ] = None,
    title: Annotated[
        str | None,
        typer.Option("--title", help="文稿标题；默认由单位名称和年度组成（名称末尾的“汇总”“合计”不计入）。"),
    ] = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="数据有错误时不生成文稿（默认仍生成，并在文稿中标出）。")
    ] = False,
    format_name: FormatOpt = None,
) -> None:
    """由核对无误的数据生成年度报告文稿：标题、一至六部分、按官方版式排好的表二至表四。

    标题为“<单位名称><年度>年政府信息公开工作年度报告”；汇总表的名称（如“某某县汇总”“某某县（汇总）”）去掉“汇总”“合计”后作为单位名称，也可用 --title 指定标题。

    文字部分取自数据中的文字部分；缺少的部分、以及 2021 年起六中缺少的信息处理费说明，会插入醒目的“【待补充】”语句，并在屏幕上提示。一、总体情况为空时，另附一段由表三、表四数字写成的摘要，可直接采用。

    生成前按全部勾稽关系核对数据（汇总表还核对其中各单位的数字）。有错误时仍生成文稿，但在标题下加一段醒目的“【数据待核】”说明，并在每张有错误的表格下方逐条标出（如“【数据待核：表三“自然人”列 一+二≠（七）+四，相差 -16】”），屏幕上逐条提示，退出码为 1；请改正后再发布。加 --strict 时有错误就不生成文稿。

    退出码：0 数据无错误；1 数据有错误（文稿中已标出；--strict 时未生成）；2 文件无法使用或用法错误。

    示例：

      xls-gongkai render 坡头镇.json --to docx

      xls-gongkai render 全县汇总.xlsx --to docx --title "某某县2024年政府信息公开工作年度报告"

      xls-gongkai render 汇总表.xlsx --to html --out 年报.html

      xls-gongkai render 坡头镇.json --to md --out -
    """
    from xls_gongkai.batch.pipeline import load_report_file
    from xls_gongkai.documents.render import data_errors, data_notes, missing_statements, render
    from xls_gongkai.errors import UsageError, XlsGongkaiError

    try:
        report = load_report_file(input_file, variants(format_option(format_name)))
        errors = data_errors(report)
        units = _summary_units(input_file, report)
        target = out if out is not None else input_file.with_suffix(f".{to.value}")
        if str(target) == "-" and to is To.DOCX:
            raise UsageError("docx 不能输出到屏幕，请用 --out 指定文件。")
        if str(target) != "-" and target.resolve() == input_file.resolve():
            raise UsageError(f"输出文件 {target} 与输入相同，请用 --out 指定另一个文件。")
        notes = data_notes(report, errors, units)
        if not (strict and notes):
            if str(target) == "-":
                typer.echo(render(report, to.value, title=title, notes=notes), nl=False)
            else:
                render(report, to.value, target, title=title, notes=notes)
                typer.echo(f"已生成 {visible(str(target))}")
    except XlsGongkaiError as exc:
        raise fail(exc) from exc
    for note in missing_statements(report):
        typer.echo(f"提示：{visible(note)}", err=True)
    if not notes:
        return
    if errors:
        done = "未生成文稿（--strict）" if strict else "文稿中已用“【数据待核】”标出"
        typer.echo(f"注意：数据有 {len(errors)} 处错误，{done}，请改正后再发布：", err=True)
        for issue in errors[:10]:
            typer.echo(f"  [{issue.code}] {visible(issue.message)}", err=True)
        if len(errors) > 10:
            typer.echo(f"  ……另有 {len(errors) - 10} 处，请用 xls-gongkai check 查看全部。", err=True)
    if units:
        typer.echo(f"注意：汇总所含 {len(units)} 个单位的数据有错误：{visible('、'.join(units))}。", err=True)
    raise typer.Exit(1)
