"""The `formats` command and the CLI's help (in-process, through typer's runner)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from xls_gongkai import __version__
from xls_gongkai.cli import app

runner = CliRunner()


def test_formats_lists_both() -> None:
    result = runner.invoke(app, ["formats"])
    assert result.exit_code == 0
    assert "gongkai-2019" in result.output
    assert "gongkai-2021" in result.output


@pytest.mark.parametrize(
    ("name", "fmt_id"), [("2019", "gongkai-2019"), ("2021", "gongkai-2021"), ("2024", "gongkai-2021")]
)
def test_show_json(name: str, fmt_id: str) -> None:
    result = runner.invoke(app, ["formats", "show", name, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["id"] == fmt_id
    assert [r["id"] for r in data["rules"] if r["severity"] == "error"] == ["R1", "R2", "R3", "R4", "R5"]
    assert "1.属于国家秘密" in result.output


def test_show_text_has_tree_and_rules() -> None:
    result = runner.invoke(app, ["formats", "show", "gongkai-2021"])
    assert result.exit_code == 0
    assert "申请人情况" in result.output
    assert "勾稽关系" in result.output


def test_unknown_format_is_one_chinese_line() -> None:
    result = runner.invoke(app, ["formats", "show", "1999"])
    assert result.exit_code == 2
    assert "没有适用于 1999 年度报告的格式" in result.output
    assert "Traceback" not in result.output


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert __version__ in result.output


def _commands() -> list[str]:
    import typer.main

    group = typer.main.get_command(app)
    return sorted(group.commands)  # type: ignore[attr-defined]


@pytest.mark.parametrize("command", _commands())
def test_every_command_has_chinese_help(command: str) -> None:
    result = runner.invoke(app, [command, "--help"])
    assert result.exit_code == 0
    assert "示例" in result.output or "xls-gongkai" in result.output
    assert any("\u4e00" <= ch <= "\u9fff" for ch in result.output)


def test_every_command_is_in_the_readme() -> None:
    from pathlib import Path

    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    for command in _commands():
        assert f"xls-gongkai {command}" in readme, command
