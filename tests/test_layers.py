"""The layers contract (pyproject.toml, [tool.importlinter]) holds, and a lower app that
imports a higher one breaks it — so `make lint`, and CI, fail on such an import."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The apps the contract names, read from where it is written.
PACKAGES = tuple(
    tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["root_packages"]
)


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports")), "--no-cache"],
        cwd=root,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def copy_of_the_project(tmp_path: Path) -> Path:
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package,
            tmp_path / package,
            ignore=shutil.ignore_patterns("__pycache__", "migrations"),
        )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_project_keeps_its_layers():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "Contracts: 1 kept, 0 broken." in result.stdout


def test_a_lower_app_importing_a_higher_one_breaks_the_build(tmp_path):
    project = copy_of_the_project(tmp_path)
    assert lint_imports(project).returncode == 0
    (project / "accounts" / "probe.py").write_text("from dashboards import selectors\n")
    result = lint_imports(project)
    assert result.returncode == 1
    assert "accounts is not allowed to import dashboards" in result.stdout
    assert "accounts.probe -> dashboards.selectors" in result.stdout


def test_core_imports_no_app(tmp_path):
    project = copy_of_the_project(tmp_path)
    (project / "core" / "probe.py").write_text(
        "def later():\n    from clients.models import Client  # inside a function too\n"
    )
    result = lint_imports(project)
    assert result.returncode == 1
    assert "core is not allowed to import clients" in result.stdout
