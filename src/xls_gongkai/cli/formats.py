"""``xls-gongkai formats``: list the formats, or show one's tables and rules."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table as RichTable
from rich.tree import Tree

from xls_gongkai.cli.common import fail, format_option

if TYPE_CHECKING:
    from xls_gongkai.spec import Format, Node

app = typer.Typer(
    help="查看内置的报告格式（2019 试行、2021 修订）。",
    invoke_without_command=True,
    no_args_is_help=False,
    rich_markup_mode=None,
)


@app.callback(invoke_without_command=True)
def list_formats(ctx: typer.Context) -> None:
    """列出内置格式及其适用年度。

    示例：xls-gongkai formats
    """
    if ctx.invoked_subcommand is not None:
        return
    from xls_gongkai.spec import builtin_formats

    out = RichTable(title="内置格式")
    for col in ("ID", "名称", "适用年度", "文件依据", "表格数", "校验规则"):
        out.add_column(col)
    for fmt in builtin_formats():
        out.add_row(
            fmt.id, fmt.name, fmt.years_text, fmt.document, str(len(fmt.tables)), "、".join(r.id for r in fmt.rules)
        )
    Console().print(out)


@app.command("show")
def show(
    name: Annotated[str, typer.Argument(help="格式 ID（如 gongkai-2021）、报告年度（如 2024）或 YAML 文件路径。")],
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出完整结构（供程序使用）。")] = False,
) -> None:
    """显示一个格式的全部表格（行、列的 ID、标签、层级路径、单元格类型）和勾稽关系。

    示例：

      xls-gongkai formats show 2024

      xls-gongkai formats show gongkai-2019 --json > 2019.json
    """
    from xls_gongkai.errors import XlsGongkaiError

    try:
        fmt = format_option(name)
    except XlsGongkaiError as exc:
        raise fail(exc) from exc
    assert fmt is not None
    if as_json:
        typer.echo(json.dumps(fmt.to_dict(), ensure_ascii=False, indent=2))
        return
    _print(fmt)


def _add(tree: Tree, node: Node) -> None:
    text = f"[bold]{node.label or '（无标签）'}[/]  [dim]{node.id}[/]"
    if node.is_leaf and node.kind:
        text += f"  [cyan]{node.kind.label}{'，' + node.unit if node.unit else ''}[/]"
    branch = tree.add(text)
    for child in node.children:
        _add(branch, child)


def _print(fmt: Format) -> None:
    from xls_gongkai.rules import expand
    from xls_gongkai.spec import RuleKind

    console = Console()
    console.print(f"[bold]{fmt.name}[/]（{fmt.id}）  适用：{fmt.years_text}")
    console.print(fmt.document)
    for section in fmt.sections:
        console.print(f"\n[bold]{section.label}[/]" + ("  （文字）" if section.kind == "text" else ""))
        for tid in section.tables:
            t = fmt.table(tid)
            tree = Tree(f"[bold]{t.title}[/]  [dim]{t.id}，工作表“{t.sheet}”[/]")
            cols = tree.add("列")
            for c in t.columns:
                _add(cols, c)
            rows = tree.add("行")
            for r in t.rows:
                _add(rows, r)
            console.print(tree)
    checks = expand(fmt)
    out = RichTable(title="勾稽关系与校验规则")
    for col in ("ID", "名称", "级别", "适用", "校验数", "说明"):
        out.add_column(col)
    for rule in fmt.rules:
        n = sum(1 for c in checks if c.rule is rule)
        where = "、".join(rule.tables) if rule.tables else "全部表格"
        if rule.kind is RuleKind.PREVIOUS:
            where += "（需上年数据）"
        elif rule.section:
            where = fmt.section_map[rule.section].label
        out.add_row(rule.id, rule.title, rule.severity.label, where, str(n), rule.message)
    console.print(out)
