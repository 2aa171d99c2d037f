"""``xls-gongkai read``: filled workbooks → data (JSON per file, or tidy CSV/Parquet for pandas)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table as RichTable

from xls_gongkai.cli.check import (
    CodeOpt,
    FilesArg,
    FormatOpt,
    JobsOpt,
    RosterOpt,
    StrictOpt,
    UnitOpt,
    YearOpt,
    progress_bar,
    run_checks,
)
from xls_gongkai.errors import UsageError, XlsGongkaiError


def read(
    files: FilesArg,
    json_out: Annotated[
        Path | None,
        typer.Option(
            "--json", help="写 JSON：每个文件的单位、数值（含工作表和单元格）、问题和未识别的内容。", show_default=False
        ),
    ] = None,
    csv_out: Annotated[
        Path | None,
        typer.Option(
            "--csv", help="写整洁格式 CSV（每个数值一行，含 file、sheet、cell 列），UTF-8 带 BOM。", show_default=False
        ),
    ] = None,
    parquet_out: Annotated[
        Path | None,
        typer.Option("--parquet", help="写整洁格式 Parquet（列同 --csv；需要 pyarrow）。", show_default=False),
    ] = None,
    roster: RosterOpt = None,
    year: YearOpt = None,
    unit: UnitOpt = None,
    code: CodeOpt = None,
    format_name: FormatOpt = None,
    strict: StrictOpt = False,
    jobs: JobsOpt = None,
) -> None:
    """读取填好的工作簿，输出数据（JSON，或供 pandas 使用的整洁格式 CSV / Parquet）。

    不指定输出文件时在屏幕上列出每个文件读到的单位、年度和数值个数。问题的完整清单用 check 命令查看。
    退出码：0 全部读取且无错误；1 数据有错误；2 有文件无法读取，或用法错误。

    示例：

      xls-gongkai read 回收/ --csv 全县数据.csv

      xls-gongkai read 回收/ --roster 名册.csv --csv 全县数据.csv     # 手工表按名册补上单位代码

      xls-gongkai read 城关镇.xlsx --json 城关镇.json

      xls-gongkai read 手工表.xlsx --unit 城关镇 --code 001 --year 2024 --parquet 城关镇.parquet
    """
    from xls_gongkai.batch.check import collect_files, write_json, write_tidy
    from xls_gongkai.cli import fail

    console = Console(highlight=False, soft_wrap=True)
    try:
        outs = [p for p in (json_out, csv_out, parquet_out) if p is not None]
        if len(outs) > 1:
            raise UsageError("--json、--csv、--parquet 一次只能选一个")
        paths = collect_files(files)
        with progress_bar(len(paths), "读取") as step:
            batch = run_checks(paths, roster, format_name, year, unit, code, strict, jobs, step)
        results = list(batch.results)
        if outs:
            target = outs[0]
            written = write_json(results, target) if json_out is not None else write_tidy(results, target)
            console.print(f"已写入 {escape(str(written))}（{sum(1 for r in results if r.report)} 个文件）")
        table = RichTable(title="读取结果")
        for col in ("文件", "单位", "代码", "年度", "格式", "已填数值", "错误", "警告"):
            table.add_column(col)
        for res in results:
            rep = res.report
            if rep is None:
                table.add_row(escape(res.source), "[red]无法读取[/]", "", "", "", "", "1", "0")
                continue
            errors = sum(1 for i in res.issues if i.is_error)
            table.add_row(
                escape(res.source),
                escape(rep.unit.name),
                rep.unit.code,
                str(rep.year),
                rep.format_id,
                str(len(rep.values)),
                str(errors),
                str(len(res.issues) - errors),
            )
        if not outs or len(results) <= 50:
            console.print(table)
        for res in batch.unreadable:
            typer.echo(f"错误：{res.issues[0].message}", err=True)
        if batch.missing:
            typer.echo(
                f"名册中 {len(batch.missing)} 个单位未报送：" + "、".join(u.name for u in batch.missing), err=True
            )
    except XlsGongkaiError as exc:
        raise fail(exc) from exc
    raise typer.Exit(batch.exit_code)
