"""Wheels built once per session from this checkout, as a user's `pip install <git URL>` builds them."""

from __future__ import annotations

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


@pytest.fixture(scope="session")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Wheel]:
    out = tmp_path_factory.mktemp("wheels")
    built: dict[str, Wheel] = {}
    for distribution, project in PROJECTS.items():
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
