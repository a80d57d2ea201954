"""Fixtures: one module-scoped sandbox, sessions whose every response is checked against the spec,
and sandboxes of a test's own settings."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest
import requests

from calendly_sandbox import Sandbox
from tests.sandbox.spec_check import SpecChecker, checked_session

# own_sandbox(**settings) -> the started sandbox and its owner's spec-checked session
OwnSandbox = Callable[..., tuple[Sandbox, requests.Session]]


@pytest.fixture(scope="session")
def spec() -> SpecChecker:
    return SpecChecker()


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(seed=7, events=120) as sb:
        yield sb


@pytest.fixture
def api(spec: SpecChecker, sandbox: Sandbox) -> Iterator[requests.Session]:
    """The org owner's session; every response is validated against the spec."""
    with checked_session(spec, sandbox.token) as session:
        yield session


@pytest.fixture
def member_api(spec: SpecChecker, sandbox: Sandbox) -> Iterator[requests.Session]:
    """A plain (non-admin) member's session, spec-checked."""
    with checked_session(spec, sandbox.member_token) as session:
        yield session


@pytest.fixture
def own_sandbox(spec: SpecChecker) -> Iterator[OwnSandbox]:
    """Starts a sandbox with the test's settings; it stops, with its session, after the test."""
    with ExitStack() as stack:

        def start(**settings: Any) -> tuple[Sandbox, requests.Session]:
            sb = stack.enter_context(Sandbox(**settings))
            return sb, stack.enter_context(checked_session(spec, sb.token))

        yield start
