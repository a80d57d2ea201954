"""Fixtures: an in-process sandbox on loopback and config files for the plugins under test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

SandboxFactory = Callable[..., Any]


@pytest.fixture
def sandbox_factory() -> Iterator[SandboxFactory]:
    """Start sandboxes (closed at the end of the test): `sb = sandbox_factory(seed=1, ...)`."""
    sandbox_module = pytest.importorskip("calendly_sandbox")
    if not hasattr(sandbox_module, "Sandbox"):
        pytest.skip("calendly_sandbox.Sandbox is not there yet")
    with ExitStack() as stack:

        def start(**options: Any) -> Any:
            return stack.enter_context(sandbox_module.Sandbox(**options))

        yield start


@pytest.fixture
def tap_installed() -> None:
    # TODO(reliability): drop this guard once tap_calendly has landed; a missing tap must fail.
    pytest.importorskip("tap_calendly.tap")


@pytest.fixture
def target_installed() -> None:
    # TODO(reliability): drop this guard once target_calendly has landed.
    pytest.importorskip("target_calendly.target")


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    return tmp_path
