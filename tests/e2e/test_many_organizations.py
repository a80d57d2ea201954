"""Two organizations as two Meltano jobs of one project (`inherit_from`), run at the same time:
each reads its own sandbox with its own OAuth refresh-token file, keeps its own state and loads
its own warehouse; nothing crosses over (real `meltano run`, two sandboxes)."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
import yaml

from calendly_sandbox import Sandbox
from demo import warehouse
from demo.meltano import REPO_ROOT, Meltano, RunResult
from demo.run import start_date
from tests.tap.conftest import Api
from tests.tap.test_incremental import book

pytestmark = pytest.mark.slow

ORGANIZATIONS = {"acme": 21, "globex": 22}  # name -> sandbox seed
INITIAL_REFRESH_TOKEN = "sandbox-refresh-token"  # what every sandbox accepts first


@pytest.fixture
def sandboxes() -> Iterator[dict[str, Sandbox]]:
    with ExitStack() as stack:
        yield {
            name: stack.enter_context(Sandbox(seed=seed, events=20))
            for name, seed in ORGANIZATIONS.items()
        }


def write_project(root: Path, sandboxes: dict[str, Sandbox]) -> None:
    """This repository's meltano.yml plus, per organization, an extractor and a loader that
    inherit from tap-calendly and target-duckdb, and a job running the pair."""
    project: dict[str, Any] = yaml.safe_load((REPO_ROOT / "meltano.yml").read_text())
    project["environments"] = [{"name": "organizations"}]
    project["default_environment"] = "organizations"
    for name, sandbox in sandboxes.items():
        project["plugins"]["extractors"].append(
            {
                "name": f"tap-calendly--{name}",
                "inherit_from": "tap-calendly",
                "config": {
                    "api_url": sandbox.base_url,
                    "client_id": "sandbox-client",
                    "client_secret": "sandbox-secret",
                    "refresh_token": INITIAL_REFRESH_TOKEN,
                    "refresh_token_path": str(root / f"{name}-refresh-token"),
                    "start_date": start_date(),
                    "requests_per_minute": 6000,
                },
            }
        )
        project["plugins"]["loaders"].append(
            {
                "name": f"target-duckdb--{name}",
                "inherit_from": "target-duckdb",
                "config": {"path": str(root / f"{name}.duckdb")},
            }
        )
    project["jobs"] = [
        {"name": f"calendly-{name}", "tasks": [f"tap-calendly--{name} target-duckdb--{name}"]}
        for name in sandboxes
    ]
    (root / "meltano.yml").write_text(yaml.safe_dump(project, sort_keys=False))


def run_both(meltano: Meltano, root: Path, label: str) -> dict[str, RunResult]:
    with ThreadPoolExecutor(max_workers=len(ORGANIZATIONS)) as pool:
        futures = {
            name: pool.submit(meltano.run, [f"calendly-{name}"], root / f"{label}-{name}.log")
            for name in ORGANIZATIONS
        }
        return {name: future.result() for name, future in futures.items()}


def event_uris(root: Path, name: str) -> set[str]:
    with warehouse.connect(root / f"{name}.duckdb") as con:
        rows = con.execute("SELECT uri FROM calendly.scheduled_events").fetchall()
    return {uri for (uri,) in rows}


def test_two_organizations_run_at_once_and_nothing_crosses_over(
    sandboxes: dict[str, Sandbox], meltano_sys_dir: Path, tmp_path: Path
) -> None:
    write_project(tmp_path, sandboxes)
    env = {
        "MELTANO_SYS_DIR_ROOT": str(meltano_sys_dir),
        "MELTANO_STATE_BACKEND_URI": (tmp_path / "state").as_uri(),
    }
    meltano = Meltano(env=env, say=lambda _line: None, project_root=tmp_path)

    first = run_both(meltano, tmp_path, "first")
    tokens = {name: (tmp_path / f"{name}-refresh-token") for name in ORGANIZATIONS}
    for name, sandbox in sandboxes.items():
        assert first[name].emitted(f"tap-calendly--{name}")["scheduled_events"] == len(
            sandbox.store.scheduled_events
        )
        uris = event_uris(tmp_path, name)
        assert uris and all(uri.startswith(sandbox.base_url + "/") for uri in uris)
        assert stat.S_IMODE(tokens[name].stat().st_mode) == 0o600
    rotated = {name: path.read_text(encoding="utf-8").strip() for name, path in tokens.items()}
    assert INITIAL_REFRESH_TOKEN not in rotated.values()
    assert len(set(rotated.values())) == len(ORGANIZATIONS)

    booked = book(sandboxes["acme"], Api(sandboxes["acme"]))  # a change in one organization
    second = run_both(meltano, tmp_path, "second")
    assert second["acme"].emitted("tap-calendly--acme")["scheduled_events"] == 1
    assert booked["event"] in event_uris(tmp_path, "acme")
    # Its own state: globex resumes from its bookmarks.
    assert second["globex"].emitted("tap-calendly--globex")["scheduled_events"] == 0
    assert booked["event"] not in event_uris(tmp_path, "globex")
    states = sorted(p.name for p in (tmp_path / "state").rglob("*") if p.is_dir())
    assert any("tap-calendly--acme" in s for s in states), states
    assert any("tap-calendly--globex" in s for s in states), states
