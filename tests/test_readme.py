"""The README's generated sections (commands, issue codes, rules) match the code."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_readmes_generated_sections_are_up_to_date() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "readme.py"), "--check"],
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=False,
    )
    assert done.returncode == 0, done.stderr


def test_every_issue_code_and_rule_is_in_the_readme() -> None:
    from xls_gongkai.issues import CATALOGUE
    from xls_gongkai.spec import builtin_formats

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert all(f"| `{code}` |" in text for code in CATALOGUE)
    assert all(f"| {r.id} |" in text for f in builtin_formats() for r in f.rules)
