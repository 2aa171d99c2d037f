"""``xls-gongkai import``: published report documents (txt/md/html/docx/pdf) → checked data."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from xls_gongkai.cli.common import (
    CsvOpt,
    FormatOpt,
    JobsOpt,
    JsonOpt,
    ParquetOpt,
    console,
    counts_text,
    fail,
    format_option,
    print_issues,
    progress_bar,
    shown,
    variants,
)

DocumentsArg = Annotated[
    list[Path],
    typer.Argument(
        help="已发布的年度报告：纯文本 .txt（表格为制表符或空格分隔）、Markdown .md、网页 .html、Word .docx、PDF .pdf（需 pdftotext）。",
        show_default=False,
    ),
]
PreviousDocOpt = Annotated[
    Path | None,
    typer.Option(
        "--previous",
        "-p",
        help="上一年度的报告（报告 JSON、填好的工作簿或已发布的报告文档），用于跨年度核对（R6–R8，警告）。",
        show_default=False,
    ),
]
ReportOpt = Annotated[
    Path | None,
    typer.Option(
        "--report",
        "-o",
        help="导入和校验的结果：.xlsx（汇总+问题清单）、.csv（问题清单）或 .json（与 check --report 相同）。",
        show_default=False,
    ),
]


def import_cmd(
    files: DocumentsArg,
    year: Annotated[
        int | None, typer.Option("--year", "-y", help="报告年度；默认从标题读取。", show_default=False)
    ] = None,
    unit: Annotated[
        str | None, typer.Option("--unit", "-u", help="单位名称；默认从标题读取。", show_default=False)
    ] = None,
    format_name: FormatOpt = None,
    json_out: JsonOpt = None,
    csv_out: CsvOpt = None,
    parquet_out: ParquetOpt = None,
    previous: PreviousDocOpt = None,
    report_out: ReportOpt = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="只列错误，不列警告和提示。")] = False,
    jobs: JobsOpt = None,
) -> None:
    """导入已发布的政府信息公开工作年度报告（文本、网页、Word、PDF），读出表格数据并按全部勾稽关系校验。

    自动判断格式（2019 试行 / 2021 修订，或 --format 给出的地方变体）和年度；容忍标签错字、空白单元格、
    单元格中的文字和单位（“251000元”按万元换算）、未拆分的（六）、重新编号的章节；并核对“一、总体情况”
    中复述的数字与表格是否一致（R9，警告）。整篇印成一行、每行数字连成一串的网页（“801000081”）按勾稽关系
    拆开；有几种拆法都说得通时列出各种拆法，该行不导入，不猜。

    屏幕上先列错误，再列警告（--quiet 只列错误）。退出码：0 没有错误；1 发现数据错误；2 文件无法读取或用法错误。

    示例：

      xls-gongkai import 2024年报.txt

      xls-gongkai import 2023年报.pdf --json 2023.json   # 留作上年数据

      xls-gongkai import 报告/*.html --csv 数据.csv --json 数据.json --report 问题清单.xlsx

      xls-gongkai import 2024年报.docx --previous 2023.json   # 核对跨年度关系
    """
    from xls_gongkai.batch.export import (
        check_report_path,
        check_tidy_path,
        result_sources,
        write_check_report,
        write_tidy,
    )
    from xls_gongkai.batch.pipeline import Batch, Item, load_report_file, status_of
    from xls_gongkai.batch.read import import_many
    from xls_gongkai.errors import XlsGongkaiError

    out = console()
    try:
        targets = [check_tidy_path(p) for p in (csv_out, parquet_out, json_out) if p is not None]
        if report_out is not None:
            check_report_path(report_out)
        fmt = format_option(format_name)
        last = load_report_file(previous, variants(fmt)) if previous is not None else None
        with progress_bar("导入") as step:
            results = import_many(
                files, jobs=jobs, progress=step, fmt=fmt, formats=variants(fmt), year=year, unit=unit, previous=last
            )
        batch = Batch(tuple(Item(r, r.report.unit if r.report else None, status_of(r, True)) for r in results))
        for item in batch.items:
            res, rep = item.result, item.result.report
            what = (
                f"{shown(rep.unit.name or '（单位未知）')} {rep.year} 年度，{rep.format.name}格式，读出 {len(rep.values)} 个数值"
                if rep
                else "无法读取"
            )
            out.print(f"{item.status.value} {shown(Path(res.source).name)}：{what} —— {counts_text(res.issues)}")
            print_issues(out, res.issues, not quiet)
        sources = result_sources(results)
        for target in targets:
            out.print(f"已写出 {shown(str(write_tidy(sources, target)))}（{len(sources)} 份报告）")
        if report_out is not None:
            out.print(f"已写出 {shown(str(write_check_report(batch, report_out)))}")
    except XlsGongkaiError as exc:
        raise fail(exc) from exc
    raise typer.Exit(batch.exit_code)
