"""What the commands share: option declarations (each written once), turning options into
library arguments, the progress bar, and printing results safely and in the same shape.

Only typer and rich are imported here at module level: ``xls-gongkai --help`` must start fast,
so the library is imported inside the functions that need it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape

if TYPE_CHECKING:
    from xls_gongkai.batch.roster import Roster
    from xls_gongkai.issues import Issue, Result
    from xls_gongkai.report import Unit
    from xls_gongkai.spec import Format

# --------------------------------------------------------------------------- options (declared once)

FilesArg = Annotated[
    list[Path],
    typer.Argument(help="工作簿文件或文件夹（文件夹中的 .xlsx .xlsm .xls .xlsb .ods 全部读取）。", show_default=False),
]
YearOpt = Annotated[
    int | None,
    typer.Option(
        "--year", "-y", help="报告年度；与文件中的年度不一致时报错。手工制作的工作簿用它补上年度。", show_default=False
    ),
]
UnitOpt = Annotated[
    str | None,
    typer.Option("--unit", "-u", help="单位名称（文件中没有单位时使用，如手工制作的工作簿）。", show_default=False),
]
CodeOpt = Annotated[str | None, typer.Option("--code", help="单位代码（与 --unit 同用）。", show_default=False)]
FormatOpt = Annotated[
    str | None,
    typer.Option(
        "--format",
        "-f",
        help="格式：gongkai-2019 / gongkai-2021、年度，或地方变体的 YAML 文件路径。",
        show_default=False,
    ),
]
RosterOpt = Annotated[
    Path | None,
    typer.Option(
        "--roster",
        "-r",
        help="单位名册（CSV 或 XLSX，列：代码、名称）：核对单位、找出重复和未报送的单位。",
        show_default=False,
    ),
]
PreviousOpt = Annotated[
    list[Path] | None,
    typer.Option(
        "--previous",
        "-p",
        help="上一年度的工作簿、汇总表或报告 JSON（文件或文件夹，可多次给出）：核对跨年衔接（R6–R8）、与上年相比的大幅变化（P2）和照抄上年的总体情况（T4），均为警告。",
        show_default=False,
    ),
]
StrictOpt = Annotated[
    bool, typer.Option("--strict", help="严格模式：每个空白的填报格都算错误（默认按 0 计，每张表一条提示）。")
]
JobsOpt = Annotated[
    int | None, typer.Option("--jobs", "-j", help="并行读取的进程数（默认：全部 CPU 核）。", show_default=False)
]
WarningsOpt = Annotated[bool, typer.Option("--warnings", "-w", help="在屏幕上也列出警告（错误总是全部列出）。")]
CsvOpt = Annotated[
    Path | None,
    typer.Option(
        "--csv", help="写整洁格式 CSV（每个数值一行，含 file、sheet、cell 列），UTF-8 带 BOM。", show_default=False
    ),
]
ParquetOpt = Annotated[
    Path | None, typer.Option("--parquet", help="写整洁格式 Parquet（列同 --csv；需要 pyarrow）。", show_default=False)
]
JsonOpt = Annotated[
    Path | None,
    typer.Option(
        "--json", help="写 JSON：每个文件的报告数据（可作 --previous 使用）、整洁格式的数值和问题。", show_default=False
    ),
]


def format_option(name: str | None) -> Format | None:
    """``--format``: a built-in id, a year, or the YAML file of a local variant."""
    if not name:
        return None
    from xls_gongkai.spec import get_format

    return get_format(name)


def variants(fmt: Format | None) -> tuple[Format, ...]:
    """The local variants a command must know besides the built-in formats."""
    return (fmt,) if fmt is not None and not fmt.builtin else ()


def unit_option(name: str | None, code: str | None) -> Unit | None:
    if name is None and code is None:
        return None
    from xls_gongkai.report import Unit

    return Unit((code or "").strip(), (name or "").strip())


def roster_option(path: Path | None) -> Roster | None:
    if path is None:
        return None
    from xls_gongkai.batch.roster import load_roster

    return load_roster(path)


def not_an_input(outputs: Sequence[Path | None], inputs: Sequence[Path]) -> list[Path]:
    """The outputs given, refused when one of them is a file named as an input (it would be
    overwritten); the rest are left out when a folder of inputs is read."""
    from xls_gongkai.errors import UsageError

    named = {p.resolve() for p in inputs if p.is_file()}
    outs = [p for p in outputs if p is not None]
    for p in outs:
        if p.resolve() in named:
            raise UsageError(f"输出文件 {p} 也是输入之一，会被覆盖。请换一个输出文件名")
    return outs


def check_year(year: int | None, fmt: Format | None) -> None:
    """A year no format covers is one usage error up front, not an error in every file."""
    if year is not None:
        from xls_gongkai.spec import format_for_year

        format_for_year(year, variants(fmt))


# --------------------------------------------------------------------------- output


# Control characters, escape sequences and bidirectional overrides from a file name or a
# unit's text would act on the officer's terminal; they are shown, visibly, instead.
_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


def visible(text: str) -> str:
    """Text safe to print: control and direction characters shown as ``\\x1b``, ``\\u202e``;
    bytes of a file name that are not valid UTF-8 shown as ``\\xb2``."""
    text = text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return _UNSAFE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def shown(text: str) -> str:
    """Text for rich: made visible, then its markup escaped."""
    return escape(visible(text))


def console(stderr: bool = False) -> Console:
    # soft_wrap: a long path or message stays one line (a terminal wraps it, a log keeps it whole).
    return Console(highlight=False, soft_wrap=True, stderr=stderr)


def fail(exc: Exception) -> typer.Exit:
    """Print a library error as one line on stderr and return the Exit to raise."""
    from xls_gongkai.errors import XlsGongkaiError

    code = exc.exit_code if isinstance(exc, XlsGongkaiError) else 2
    typer.echo(f"错误：{visible(str(exc))}", err=True)
    return typer.Exit(code)


@contextmanager
def progress_bar(label: str) -> Iterator[Callable[[int, int], None]]:
    """A progress bar on stderr for batches (invisible for one or two files)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console(True),
        transient=True,
    ) as bar:
        task = bar.add_task(label, total=None, visible=False)

        def step(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total, visible=total > 2)

        yield step


#: Warnings of one kind listed per file (the rest of that kind counted); errors are listed in full.
SHOWN_PER_CODE = 5
_STYLE = {"error": "red", "warning": "yellow", "notice": "cyan"}


def print_issues(
    out: Console,
    issues: Sequence[Issue],
    show_warnings: bool,
    *,
    show_notices: bool = True,
    explain: Callable[[Issue], str] | None = None,
) -> None:
    """Errors first and all of them, with the hints that say which cell is probably wrong; then
    warnings (when asked), five of a kind and the rest of that kind counted, so one real warning
    is never buried under many alike; notices last. ``explain`` gives the unit's 说明 of a
    warning, shown beside it (已说明)."""
    from xls_gongkai.issues import CATALOGUE, HINT_CODES, by_severity

    folded: dict[str, int] = {}
    hidden = 0
    seen: dict[str, int] = {}
    ordered = by_severity(issues)
    listed = [i for i in ordered if i.is_error] + [i for i in ordered if i.code in HINT_CODES]
    for i in ordered:
        if i.is_error or i.code in HINT_CODES:
            continue
        if not show_warnings or (not i.is_warning and not show_notices):
            hidden += i.is_warning
        else:
            seen[i.code] = seen.get(i.code, 0) + 1
            if seen[i.code] <= SHOWN_PER_CODE:
                listed.append(i)
            else:
                folded[i.code] = folded.get(i.code, 0) + 1
    for i in listed:
        where = f"{i.sheet}!{i.cell}" if i.sheet and i.cell else (i.sheet or "—")
        said = explain(i) if explain is not None and i.is_warning else ""
        note = f"  [green]已说明：[/]{shown(said if len(said) <= 60 else said[:59] + '…')}" if said else ""
        out.print(
            f"  [{_STYLE[i.severity.value]}]{i.severity.label}[/] [dim]{i.code}[/] {shown(where)}  {shown(i.message)}{note}"
        )
    for code, n in folded.items():
        title = CATALOGUE[code].title if code in CATALOGUE else code
        out.print(f"  [dim]……另有 {n} 项“{shown(title)}”（{code}）未逐条列出，完整清单见 --report 输出[/]")
    if hidden:
        out.print(f"  [dim]……{hidden} 项警告未列出（加 --warnings 显示），完整清单见 --report 输出[/]")


def counts_text(issues: Sequence[Issue], explain: Callable[[Issue], str] | None = None) -> str:
    from xls_gongkai.issues import counts

    e, w, n = counts(issues)
    said = sum(1 for i in issues if i.is_warning and explain(i)) if explain is not None and w else 0
    warned = f"警告 {w}" + (f"（已说明 {said}）" if said else "")
    return f"错误 {e}，{warned}" + (f"，提示 {n}" if n else "")


def who(result: Result, unit: Unit | None = None) -> str:
    u = unit or (result.report.unit if result.report is not None else None)
    return u.label if u is not None else ""
