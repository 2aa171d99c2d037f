"""``xls-gongkai read``: filled workbooks → data (tidy CSV/Parquet for pandas, JSON)."""

from __future__ import annotations

import typer

from xls_gongkai.cli.common import (
    CodeOpt,
    CsvOpt,
    FilesArg,
    FormatOpt,
    JobsOpt,
    JsonOpt,
    ParquetOpt,
    RosterOpt,
    StrictOpt,
    UnitOpt,
    YearOpt,
    check_year,
    console,
    counts_text,
    fail,
    format_option,
    not_an_input,
    progress_bar,
    roster_option,
    shown,
    unit_option,
    variants,
    who,
)


def read(
    files: FilesArg,
    csv_out: CsvOpt = None,
    parquet_out: ParquetOpt = None,
    json_out: JsonOpt = None,
    roster: RosterOpt = None,
    year: YearOpt = None,
    unit: UnitOpt = None,
    code: CodeOpt = None,
    format_name: FormatOpt = None,
    strict: StrictOpt = False,
    jobs: JobsOpt = None,
) -> None:
    """读取填好的工作簿，输出数据：供 pandas 使用的整洁格式 CSV / Parquet，或 JSON（可同时输出几种）。

    不指定输出文件时在屏幕上列出每个文件读到的单位、年度和数值个数。问题的完整清单用 check 命令查看。
    退出码：0 全部读取且无错误；1 数据有错误；2 有文件无法读取，或用法错误。

    示例：

      xls-gongkai read 回收/ --csv 全县数据.csv

      xls-gongkai read 回收/ --roster 名册.csv --csv 全县数据.csv --json 全县数据.json

      xls-gongkai read 手工表.xlsx --unit 城关镇 --code 001 --year 2024 --parquet 城关镇.parquet
    """
    from xls_gongkai.batch.export import check_tidy_path, result_sources, write_tidy
    from xls_gongkai.batch.pipeline import run_batch
    from xls_gongkai.errors import XlsGongkaiError

    out = console()
    try:
        targets = not_an_input([check_tidy_path(p) for p in (csv_out, parquet_out, json_out) if p is not None], files)
        fmt = format_option(format_name)
        check_year(year, fmt)
        with progress_bar("读取") as step:
            batch = run_batch(
                files,
                exclude=targets,
                roster=roster_option(roster),
                formats=variants(fmt),
                jobs=jobs,
                progress=step,
                fmt=fmt,
                year=year,
                unit=unit_option(unit, code),
                strict=strict,
            )
        sources = result_sources(batch.results)
        for target in targets:
            out.print(f"已写入 {shown(str(write_tidy(sources, target)))}（{len(sources)} 个文件）")
        if not targets or len(batch.items) <= 50:
            for item in batch.items:
                res, rep = item.result, item.result.report
                filled = f"{rep.year} 年度  {rep.format.name}  已填 {len(rep.values)} 个数值" if rep else ""
                out.print(
                    f"{item.status.value} {shown(res.source)}  {shown(who(res, item.unit))}  {filled}  {counts_text(res.issues)}"
                )
        for s in batch.skipped:
            out.print(f"未读取 {shown(str(s.path))}  {shown(s.reason)}")
        if batch.missing:
            names = "、".join(u.name for u in batch.missing)
            typer.echo(f"名册中 {len(batch.missing)} 个单位未报送：{names}", err=True)
    except XlsGongkaiError as exc:
        raise fail(exc) from exc
    raise typer.Exit(batch.exit_code)
