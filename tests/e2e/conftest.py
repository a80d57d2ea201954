"""Fixtures for the end-to-end tests: Meltano plugins installed in a private folder, a sandbox.

Plugins are installed with the real `meltano install` into a temporary MELTANO_SYS_DIR_ROOT, so
the tests depend neither on the developer's .meltano/ nor on a previous run.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from calendly_sandbox import Sandbox
from demo.meltano import Meltano
from demo.run import Layout, start_date


@pytest.fixture(scope="session")
def meltano_sys_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    sys_dir = tmp_path_factory.mktemp("meltano-sys-dir")
    log = tmp_path_factory.mktemp("logs") / "meltano-install.log"
    Meltano(env={"MELTANO_SYS_DIR_ROOT": str(sys_dir)}, say=lambda _line: None).install(log)
    return sys_dir


@pytest.fixture(scope="session")
def loader_bin(meltano_sys_dir: Path) -> Path:
    """The bin folder of the DuckDB loader's plugin environment."""
    return meltano_sys_dir / "loaders" / "target-duckdb" / "venv" / "bin"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(seed=7, events=60) as running:
        yield running


def meltano_for(layout: Layout, sandbox: Sandbox, sys_dir: Path) -> Meltano:
    env = {
        **layout.meltano_env(sandbox.base_url, start_date()),
        "MELTANO_SYS_DIR_ROOT": str(sys_dir),
    }
    return Meltano(env=env, say=lambda _line: None)
