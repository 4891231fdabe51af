"""A wheel built from the repository, installed (not editable) into a fresh venv, runs a whole audit."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

from audit_lib.runs.notebooks import QUARTERLY

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def sh(*args: str | Path, cwd: Path) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")} | {"CI": "1"}
    env["JUPYTER_PATH"] = str(Path(sys.prefix) / "share" / "jupyter")  # nbconvert's templates, borrowed too
    done = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True)
    assert done.returncode == 0, f"{args}: {done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with only the wheel installed; its dependencies are borrowed from this one."""
    base = tmp_path_factory.mktemp("wheel")
    sh(sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", base / "dist", ROOT, cwd=base)
    (wheel,) = (base / "dist").glob("privacy_audit-*.whl")
    venv.create(base / "venv", with_pip=True)
    python = base / "venv" / "bin" / "python"
    sh(python, "-m", "pip", "install", "--no-deps", "--quiet", wheel, cwd=base)
    site = sh(python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))", cwd=base).strip()
    # Plain paths in a .pth file: this venv's packages, without its editable install of audit_lib.
    (Path(site) / "borrowed.pth").write_text(sysconfig.get_path("purelib") + "\n", encoding="utf-8")
    return base / "venv" / "bin"


def test_the_installed_wheel_runs_an_audit(installed: Path, tmp_path: Path) -> None:
    where = sh(installed / "python", "-c", "import audit_lib; print(audit_lib.__file__)", cwd=tmp_path)
    assert where.startswith(str(installed.parent)), where
    command = installed / "privacy-audit"
    sh(command, "sample", "generate", "--out", "export", "--customers", "40", cwd=tmp_path)
    sh(command, "snapshot", "build", "export", "--out", "s.duckdb", cwd=tmp_path)
    sh(
        command,
        "run",
        "quarterly",
        "--snapshot",
        "s.duckdb",
        "--period",
        "2026-Q3",
        "--out",
        "q3",
        cwd=tmp_path,
    )
    assert (tmp_path / "q3" / "report.html").is_file()
    assert len(list((tmp_path / "q3" / "notebooks").glob("*.ipynb"))) == len(QUARTERLY)
    planted = json.loads((tmp_path / "export" / "planted.json").read_text())
    dispute = planted["investigation"]["dispute_id"]
    sh(command, "investigate", "--snapshot", "s.duckdb", "--dispute", dispute, "--out", "case", cwd=tmp_path)
    assert json.loads((tmp_path / "case" / "investigation.json").read_text())["dispute"]["id"] == dispute
