"""A non-editable install ships the format definitions and runs from any directory."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]


@pytest.mark.slow
def test_wheel_install_runs_from_another_directory(tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(target),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    assert (target / "xls_gongkai" / "templates" / "gongkai-2021.yaml").is_file()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(target)}
    out = subprocess.run(
        [sys.executable, "-m", "xls_gongkai", "formats", "show", "2021", "--json"],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert '"id": "gongkai-2021"' in out.stdout
    where = subprocess.run(
        [sys.executable, "-c", "import xls_gongkai; print(xls_gongkai.__file__)"],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert where.stdout.startswith(str(target))


@pytest.mark.slow
def test_the_offline_wheelhouse_installs_without_an_index(tmp_path: Path) -> None:
    """What `make wheelhouse` makes installs on a machine without internet (`--no-index`), the
    portal included, and the installed command works: generate, then check the template."""
    house = tmp_path / "wheelhouse"
    made = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--wheel-dir", str(house), f"{ROOT}[portal]"],
        capture_output=True,
        text=True,
        check=False,
    )
    if made.returncode != 0:
        pytest.skip(f"无法下载依赖（没有网络或软件包仓库）：{made.stderr.strip()[-200:]}")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    py = venv / "bin" / "python"
    subprocess.run(
        [str(py), "-m", "pip", "install", "-q", "--no-index", "--find-links", str(house), "xls-gongkai[portal]"],
        check=True,
        capture_output=True,
    )
    cli = venv / "bin" / "xls-gongkai"
    out = tmp_path / "模板"
    subprocess.run(
        [str(cli), "generate", "--year", "2024", "--unit", "城关镇", "--code", "001", "--out", str(out)], check=True
    )
    checked = subprocess.run([str(cli), "check", str(out)], capture_output=True, text=True, check=False)
    assert checked.returncode == 1, checked.stderr  # an untouched template is not a submission
    assert "空表" in checked.stdout
    assert subprocess.run([str(py), "-c", "import django, waitress, whitenoise"], check=False).returncode == 0
