"""Fixtures: in-process sandboxes on loopback, and the installed plugin programs."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest

from calendly_sandbox import Sandbox
from tests.reliability.harness import TAP, TARGET

SandboxFactory = Callable[..., Sandbox]


@pytest.fixture
def sandbox_factory() -> Iterator[SandboxFactory]:
    """Start sandboxes (all stopped at the end of the test): `sb = sandbox_factory(seed=1, ...)`."""
    with ExitStack() as stack:

        def start(**options: Any) -> Sandbox:
            return stack.enter_context(Sandbox(**options))

        yield start


@pytest.fixture
def tap_installed() -> None:
    """The tap runs as a real program: a missing console script is a failure, not a skip."""
    assert TAP.exists(), f"{TAP} is missing: run `make install`"


@pytest.fixture
def target_installed() -> None:
    assert TARGET.exists(), f"{TARGET} is missing: run `make install`"
