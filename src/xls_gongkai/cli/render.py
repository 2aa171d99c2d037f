"""``xls-gongkai render``: a checked report (JSON, filled workbook or summary) → the annual report document."""

from __future__ import annotations

from dataclasses import replace
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from xls_gongkai.cli.common import FormatOpt, fail, format_option, variants, visible


class To(StrEnum):
    DOCX = "docx"
    MD = "md"
    HTML = "html"


def render_cmd(
    input_file: Annotated[
        Path, typer.Argument(help="报告数据：JSON（import/read --json 的输出）或填好的工作簿、汇总表。")
    ],
    to: Annotated[To, typer.Option("--to", help="输出格式：docx（Word）、md（Markdown）或 html（网页）。")] = To.DOCX,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="输出文件；默认与输入同名、换扩展名。md/html 可用 - 输出到屏幕。")
    ] = None,
    format_name: FormatOpt = None,
) -> None:
    """由核对无误的数据生成年度报告文稿：标题、一至六部分、按官方版式排好的表二至表四。

    文字部分取自数据中的文字部分；缺少的部分、以及 2021 年起六中缺少的信息处理费说明，会插入醒目的“【待补充】”语句，并在屏幕上提示。一、总体情况为空时，另附一段由表三、表四数字写成的摘要，可直接采用。

    生成前按全部勾稽关系核对数据：有错误时仍生成文稿，但逐条提示并以退出码 1 结束，请改正后再发布。

    示例：

      xls-gongkai render 坡头镇.json --to docx

      xls-gongkai render 汇总表.xlsx --to html --out 年报.html

      xls-gongkai render 坡头镇.json --to md --out -
    """
    from xls_gongkai.batch.pipeline import load_report_file
    from xls_gongkai.documents.render import missing_statements, render
    from xls_gongkai.errors import UsageError, XlsGongkaiError
    from xls_gongkai.rules import check_report, with_totals

    try:
        report = load_report_file(input_file, variants(format_option(format_name)))
        target = out if out is not None else input_file.with_suffix(f".{to.value}")
        if str(target) == "-":
            if to is To.DOCX:
                raise UsageError("docx 不能输出到屏幕，请用 --out 指定文件。")
            typer.echo(render(report, to.value), nl=False)  # type: ignore[arg-type]
        else:
            if target.resolve() == input_file.resolve():
                raise UsageError(f"输出文件 {target} 与输入相同，请用 --out 指定另一个文件。")
            render(report, to.value, target)
            typer.echo(f"已生成 {visible(str(target))}")
    except XlsGongkaiError as exc:
        raise fail(exc) from exc
    for note in missing_statements(report):
        typer.echo(f"提示：{visible(note)}", err=True)
    # A published table that leaves a total blank claims nothing wrong; a typed one that disagrees does.
    filled = replace(report, values=with_totals(report.format, report.values, keep=report.values))
    errors = [i for i in check_report(filled) if i.is_error]
    if errors:
        typer.echo(f"注意：数据有 {len(errors)} 处错误，文稿中的表格会带着这些错误，请改正后再发布：", err=True)
        for issue in errors[:10]:
            typer.echo(f"  [{issue.code}] {visible(issue.message)}", err=True)
        if len(errors) > 10:
            typer.echo(f"  ……另有 {len(errors) - 10} 处，请用 xls-gongkai check 查看全部。", err=True)
        raise typer.Exit(1)
