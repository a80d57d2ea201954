"""A fresh enterprise sandbox per test: actions change its state."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from calendly_sandbox import Sandbox


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(seed=1, events=60, plan="enterprise") as sb:
        yield sb
