"""``xls-gongkai import``: published report documents (txt/md/html/docx) → checked data."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from xls_gongkai.errors import UsageError, XlsGongkaiError
from xls_gongkai.issues import Result
from xls_gongkai.report import Report


def import_cmd(
    files: Annotated[
        list[Path],
        typer.Argument(
            help="已发布的年度报告：纯文本 .txt（表格为制表符或空格分隔）、Markdown .md、网页 .html、Word .docx、PDF .pdf（需 pdftotext）。",
            show_default=False,
        ),
    ],
    year: Annotated[int | None, typer.Option("--year", help="报告年度；默认从标题读取。")] = None,
    unit: Annotated[str | None, typer.Option("--unit", help="单位名称；默认从标题读取。")] = None,
    format_name: Annotated[
        str | None,
        typer.Option("--format", help="格式 ID（gongkai-2019 / gongkai-2021）；默认按表格标签判断。"),
    ] = None,
    json_out: Annotated[
        Path | None,
        typer.Option(
            "--json",
            help="把导入的数据写成报告 JSON（可供 merge --previous、render 使用）；多个文件时为文件夹，每份报告一个 JSON。",
        ),
    ] = None,
    csv_out: Annotated[
        Path | None,
        typer.Option(
            "--csv", help="把全部报告的数据写成一个整洁表 CSV（每个单元格一行，UTF-8 带 BOM，Excel 可直接打开）。"
        ),
    ] = None,
    previous: Annotated[
        Path | None,
        typer.Option(
            "--previous",
            help="上一年度的报告（报告 JSON、填好的工作簿或已发布的报告文档），用于跨年度核对（R6–R8，警告）。",
        ),
    ] = None,
    report_out: Annotated[
        Path | None,
        typer.Option(
            "--report",
            "-o",
            help="把导入和校验的结果写入文件：.xlsx（汇总+问题清单）、.csv（问题清单）或 .json（与 check --report 相同）。",
            show_default=False,
        ),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="只列错误，不列警告。")] = False,
) -> None:
    """导入已发布的政府信息公开工作年度报告（文本、网页、Word、PDF），读出表格数据并按全部勾稽关系校验。

    自动判断格式（2019 试行 / 2021 修订）和年度；容忍标签错字、空白单元格、单元格中的文字和单位
    （“251000元”按万元换算）、未拆分的（六）、重新编号的章节；并核对“一、总体情况”中复述的数字
    （受理、办结、结转、复议、诉讼）与表格是否一致（R9，警告）。

    退出码：0 没有错误；1 发现数据错误；2 文件无法读取或用法错误。

    示例：

      xls-gongkai import 2024年报.txt

      xls-gongkai import 2023年报.pdf --json 2023.json   # 留作上年数据

      xls-gongkai import 报告/*.html --csv 数据.csv --report 问题清单.xlsx

      xls-gongkai import 2024年报.docx --previous 2023.json   # 核对跨年度关系
    """
    from xls_gongkai.cli import fail
    from xls_gongkai.documents.importer import import_document, import_many
    from xls_gongkai.report import reports_to_frame

    if json_out is not None and csv_out is not None:
        raise fail(UsageError("--json 与 --csv 只能选一个。"))
    try:
        last = _load_previous(previous) if previous is not None else None
        if len(files) == 1:
            results = [import_document(files[0], fmt=format_name, year=year, unit=unit, previous=last)]
        else:
            results = import_many(files, fmt=format_name, year=year, unit=unit, previous=last)
    except XlsGongkaiError as exc:
        raise fail(exc) from exc

    unreadable = False
    errors = 0
    for result in results:
        unreadable |= _print(result, quiet)
        errors += len(result.errors)

    reports = [r.report for r in results if r.report is not None]
    try:
        if report_out is not None:
            from xls_gongkai.batch.check import Batch, write_check_report

            written = write_check_report(Batch(results=tuple(results)), report_out)
            typer.echo(f"已写出 {written}")
        if json_out is not None and reports:
            _write_json(json_out, results, several=len(files) > 1)
        if csv_out is not None and reports:
            frame = reports_to_frame(reports)
            csv_out.parent.mkdir(parents=True, exist_ok=True)
            frame.to_csv(csv_out, index=False, encoding="utf-8-sig")
            typer.echo(f"已写出 {csv_out}（{len(reports)} 份报告，{len(frame)} 行）")
    except XlsGongkaiError as exc:
        raise fail(exc) from exc
    except OSError as exc:
        raise fail(UsageError(f"无法写出输出文件：{exc}。请检查路径和权限。")) from exc
    if unreadable:
        raise typer.Exit(2)
    if errors:
        raise typer.Exit(1)


def _print(result: Result, quiet: bool) -> bool:
    """Print one file's outcome; True when the file could not be read."""
    name = Path(result.source).name
    if result.report is None:
        for issue in result.issues:
            typer.echo(f"{name}：无法读取 —— {issue.message}", err=True)
        return True
    report = result.report
    fmt = report.format
    n_err, n_warn = len(result.errors), len(result.warnings)
    verdict = "未发现错误" if not n_err else f"{n_err} 个错误"
    typer.echo(
        f"{name}：{report.unit.name or '（单位未知）'} {report.year} 年度，{fmt.name}格式，"
        f"读出 {len(report.values)} 个数值 —— {verdict}，{n_warn} 个警告"
    )
    for issue in result.issues:
        if quiet and not issue.is_error:
            continue
        typer.echo(f"  [{issue.severity.label}] {issue.code}：{issue.message}")
    return False


def _write_json(out: Path, results: list[Result], several: bool) -> None:
    if not several:
        report = results[0].report
        assert report is not None  # callers pass only files that were read
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(report.to_json(), encoding="utf-8")
        typer.echo(f"已写出 {out}")
        return
    out.mkdir(parents=True, exist_ok=True)
    written = 0
    for result in results:
        if result.report is None:
            continue
        target = out / f"{Path(result.source).stem}.json"
        target.write_text(result.report.to_json(), encoding="utf-8")
        written += 1
    typer.echo(f"已写出 {written} 个报告 JSON 到 {out}")


def _load_previous(path: Path) -> Report:
    """Last year's report from a Report JSON, a filled workbook or a published document."""
    from xls_gongkai.documents.importer import SUFFIXES, import_document

    if not path.is_file():
        raise UsageError(f"找不到上一年度的报告 {path}。请检查 --previous 的路径。")
    suffix = path.suffix.lower()
    if suffix == ".json":
        try:
            return Report.from_json(path.read_text(encoding="utf-8-sig"))
        except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
            raise UsageError(f"{path} 不是报告 JSON：{exc}。请用 xls-gongkai import --json 生成。") from exc
    if suffix in SUFFIXES:
        report = import_document(path).report
    else:
        from xls_gongkai.reading.reader import read_workbook

        report = read_workbook(path).report
    if report is None:
        raise UsageError(f"无法从 {path} 读出上一年度的报告数据。")
    return report
