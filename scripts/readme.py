"""Regenerate the README's generated sections from the code, so they cannot drift.

Sections between ``<!-- BEGIN name -->`` and ``<!-- END name -->`` are rewritten:

* ``commands`` — every command and every option, from the CLI's own definitions (its --help);
* ``issue-codes`` — the issue catalogue (code, severity, title, meaning, what to do);
* ``rules`` — the rules of the built-in formats, from their definition files.

Run ``.venv/bin/python scripts/readme.py`` after changing any of them; ``--check`` exits 1 when
the README is out of date (a test runs it).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

import typer

from xls_gongkai.cli import app
from xls_gongkai.issues import CATALOGUE
from xls_gongkai.spec import CellKey, Format, builtin_formats

README = Path(__file__).resolve().parents[1] / "README.md"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


# Typer may bring its own copy of click: commands and parameters are told apart by what they
# have, not by click's classes.
def _options(cmd: Any) -> list[str]:
    rows = []
    for p in cmd.params:
        if p.param_type_name == "argument":
            rows.append(f"`{p.name.upper() if p.name else ''}`")
        elif p.param_type_name == "option" and p.opts != ["--help"] and "-h" not in p.opts:
            rows.append("`" + " / ".join(p.opts) + "`")
    return rows


def _commands() -> list[tuple[str, Any]]:
    root: Any = typer.main.get_command(app)
    out: list[tuple[str, Any]] = []
    for name, cmd in sorted(root.commands.items()):
        out.append((name, cmd))
        if hasattr(cmd, "commands"):
            out.extend((f"{name} {sub}", c) for sub, c in sorted(cmd.commands.items()))
    return out


def commands_section() -> str:
    lines = ["| 命令 | 作用 | 参数和选项（详见 `--help`） |", "|---|---|---|"]
    for name, cmd in _commands():
        summary = (cmd.help or "").strip().splitlines()[0] if cmd.help else ""
        lines.append(f"| `xls-gongkai {name}` | {_cell(summary)} | {'、'.join(_options(cmd))} |")
    return "\n".join(lines)


def issue_codes_section() -> str:
    lines = ["| 代码 | 级别 | 名称 | 含义 | 怎么办 |", "|---|---|---|---|---|"]
    for t in CATALOGUE.values():
        action = re.sub(r"\{[^}]*\}", "…", t.action) or "—"
        lines.append(f"| `{t.code}` | {t.severity.label} | {t.title} | {_cell(t.description)} | {_cell(action)} |")
    return "\n".join(lines)


def rules_section() -> str:
    formats = builtin_formats()
    rules: dict[str, list[tuple[str, str, str]]] = {}
    for fmt in formats:
        for r in fmt.rules:
            rules.setdefault(r.id, []).append((fmt.name, r.severity.label, r.title))
    lines = ["| 规则 | 级别 | 名称 | 适用格式 |", "|---|---|---|---|"]
    # R (relations, cross-year, restated numbers), then P (plausibility), then T (texts), by number.
    for rid, uses in sorted(rules.items(), key=lambda kv: ("RPT".find(kv[0][0]), int(kv[0][1:] or 0))):
        names = "、".join(u[0] for u in uses)
        lines.append(f"| {rid} | {uses[0][1]} | {uses[0][2]} | {names} |")
    lines += ["", "| 指标 | 分子 | 分母 | 适用格式 |", "|---|---|---|---|"]
    shown: dict[str, list[str]] = {}
    for fmt in formats:
        for ind in fmt.indicators:
            row = f"| {ind.name} | {_terms(fmt, ind.numerator)} | {_terms(fmt, ind.denominator)} |"
            shown.setdefault(row, []).append(fmt.name)
    lines += [f"{row} {'、'.join(names)} |" for row, names in shown.items()]
    return "\n".join(lines)


def _terms(fmt: Format, keys: tuple[CellKey, ...]) -> str:
    """Cells in words, joined by ＋ (表三“（七）总计”行“总计”列 ＋ …)."""
    return " ＋ ".join(f"{fmt.table(t).name}{fmt.table(t).where(r, c)}" for t, r, c in keys)


SECTIONS = {"commands": commands_section, "issue-codes": issue_codes_section, "rules": rules_section}


def render(text: str) -> str:
    for name, make in SECTIONS.items():
        pattern = re.compile(rf"(<!-- BEGIN {name} -->\n).*?(\n<!-- END {name} -->)", re.S)
        if not pattern.search(text):
            raise SystemExit(f"README.md 缺少 <!-- BEGIN {name} --> … <!-- END {name} --> 段落")
        text = pattern.sub(lambda m, make=make: m.group(1) + make() + m.group(2), text)  # type: ignore[misc]
    return text


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="只检查，不写；README 过时时退出码为 1")
    args = ap.parse_args()
    old = README.read_text(encoding="utf-8")
    new = render(old)
    if args.check:
        if new != old:
            print("README.md 的生成段落已过时：运行 .venv/bin/python scripts/readme.py 更新", file=sys.stderr)
            return 1
        return 0
    README.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
