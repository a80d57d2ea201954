"""Wheels built once per session from this checkout, as a user's `pip install <git URL>` builds them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from email.message import Message
from email.parser import Parser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROJECTS = {
    "calendly-connectors": ROOT,
    "calendly-sandbox": ROOT / "distributions" / "calendly-sandbox",
}


@dataclass(frozen=True)
class Wheel:
    path: Path

    def names(self) -> list[str]:
        with zipfile.ZipFile(self.path) as archive:
            return archive.namelist()

    def top_level_names(self) -> set[str]:
        return {name.split("/")[0] for name in self.names() if ".dist-info/" not in name}

    def metadata(self) -> Message:
        with zipfile.ZipFile(self.path) as archive:
            (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
            return Parser().parsestr(archive.read(name).decode())


LOADERS = {
    "target-duckdb-rowsafe": ROOT / "loaders" / "duckdb",
    "target-postgres-calendly": ROOT / "loaders" / "postgres",
}


def build_wheels(projects: dict[str, Path], out: Path) -> dict[str, Wheel]:
    built: dict[str, Wheel] = {}
    for distribution, project in projects.items():
        # --no-isolation: hatchling comes from the dev environment, so no build env is downloaded
        subprocess.run(
            [
                sys.executable,
                "-m",
                "build",
                "--wheel",
                "--no-isolation",
                "--outdir",
                str(out / distribution),
                str(project),
            ],
            check=True,
            capture_output=True,
        )
        (path,) = (out / distribution).glob("*.whl")
        built[distribution] = Wheel(path)
    return built


@pytest.fixture(scope="session")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Wheel]:
    return build_wheels(PROJECTS, tmp_path_factory.mktemp("wheels"))


@pytest.fixture(scope="session")
def loader_wheels(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Wheel]:
    return build_wheels(LOADERS, tmp_path_factory.mktemp("loader-wheels"))


@dataclass(frozen=True)
class CleanVenv:
    root: Path
    workdir: Path

    def bin(self, command: str) -> Path:
        return self.root / "bin" / command

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
        env.pop("PYTHONPATH", None)
        return {**env, "PATH": f"{self.root / 'bin'}:{env.get('PATH', '')}"}

    def run(
        self, command: str, *args: str, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.bin(command)), *args],
            cwd=self.workdir,
            env=self.env(),
            input=stdin,
            capture_output=True,
            text=True,
            timeout=300,
        )


def _installer() -> list[str]:
    """uv (Meltano's own installer, a dev dependency) when present: seconds instead of a minute."""
    uv = shutil.which("uv", path=str(Path(sys.executable).parent))
    return [uv, "pip", "install"] if uv else []


def clean_venv(base: Path, requirements: list[str]) -> CleanVenv:
    """A venv in `base` (outside the repository) with `requirements` installed, as a user's."""
    assert not base.resolve().is_relative_to(ROOT), (
        "the clean venv must live outside the repository"
    )
    root, workdir = base / "venv", base / "work"
    workdir.mkdir()
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True)
    installer = _installer()
    if installer:
        command = [*installer, "--python", str(root / "bin" / "python"), *requirements]
    else:
        subprocess.run([str(root / "bin" / "python"), "-m", "ensurepip", "-q"], check=True)
        command = [str(root / "bin" / "python"), "-m", "pip", "install", "-q", *requirements]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return CleanVenv(root, workdir)
