"""Many organizations at once: the block of docs/many-organizations.md, read from that file into
the project's meltano.yml, runs two organizations (two sandboxes) as two jobs with the real
`meltano run`, both at once, twice (initial and incremental), each with OAuth and its own
rotating refresh-token file. Nothing crosses over: each schema holds exactly its organization's
rows, each state only its own bookmarks, each file the refresh token its own organization issued
last. The environment also holds the credentials of the project's own `prod` account, which
every inherited plugin must shadow (the docs' "Set all six")."""

from __future__ import annotations

import copy
import json
import re
import subprocess
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from calendly_sandbox import Sandbox
from demo.meltano import REPO_ROOT, Meltano, MeltanoCommandError
from tests.analytics.conftest import postgres  # noqa: F401 - the session's PostgreSQL
from tests.analytics.postgres import PostgresCluster, connect
from tests.reliability.sandbox_view import STREAM_SOURCES, expected_uris, requests_to
from tests.webhooks.test_sandbox_deliveries import book

pytestmark = pytest.mark.slow

DOC = REPO_ROOT / "docs" / "many-organizations.md"
# Organization -> (sandbox seed, events): different data, different sizes.
ORGANIZATIONS = {"acme": (31, 30), "globex": (32, 45)}
STREAMS = ("users", "organization_memberships", "event_types", "scheduled_events", "invitees")
# One OAuth app (the agency's) that every organization authorized.
APP = {"CALENDLY_CLIENT_ID": "agency-app", "CALENDLY_CLIENT_SECRET": "agency-app-secret"}
# The project's own account, which meltano.yml's prod environment gives tap-calendly: no sandbox
# knows it, so any of it reaching an organization's job fails that job or shows in its files.
ACCOUNT = {
    "CALENDLY_TOKEN": "account-personal-token",
    "CALENDLY_REFRESH_TOKEN": "account-refresh-token",
    "CALENDLY_ORGANIZATION": "https://api.calendly.com/organizations/ACCOUNT",
    "TAP_CALENDLY_TOKEN": "account-personal-token",
}
CREDENTIALS = (
    "token",
    "client_id",
    "client_secret",
    "refresh_token",
    "refresh_token_path",
    "organization",
)


@dataclass(frozen=True)
class Organization:
    key: str
    sandbox: Sandbox
    project: Path

    @property
    def tap(self) -> str:
        return f"tap-calendly--{self.key}"

    @property
    def refresh_token_file(self) -> Path:  # where the docs' block puts it
        return self.project / ".meltano" / f"calendly-refresh-token-{self.key}"

    @property
    def schema(self) -> str:
        return f"calendly_{self.key}"

    @property
    def state_id(self) -> str:
        return f"prod:{self.tap}-to-target-postgres--{self.key}"

    def env(self) -> dict[str, str]:
        return {
            f"CALENDLY_REFRESH_TOKEN_{self.key.upper()}": self.sandbox.current_refresh_token,
            # In production both talk to api.calendly.com; here each to its own sandbox.
            f"TAP_CALENDLY__{self.key.upper()}_API_URL": self.sandbox.base_url,
        }


def documented_block() -> dict[str, Any]:
    blocks = re.findall(r"```yaml\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)
    assert blocks, f"no yaml block in {DOC}"
    block: dict[str, Any] = yaml.safe_load(blocks[0])
    return block


def project_with(block: Mapping[str, Any], root: Path) -> Path:
    """This project's meltano.yml with `block` added, as a user pastes it. Its plugins keep their
    pip_url, so Meltano runs them from the environments the session installed from this
    checkout (it reinstalls only when a pip_url changes), which the inheriting plugins share."""
    project = yaml.safe_load((REPO_ROOT / "meltano.yml").read_text(encoding="utf-8"))
    for kind, plugins in block["plugins"].items():
        project["plugins"][kind].extend(plugins)
    for key in ("jobs", "schedules"):
        project[key] = [*project.get(key, []), *block[key]]
    root.mkdir()
    (root / "meltano.yml").write_text(yaml.safe_dump(project, sort_keys=False), encoding="utf-8")
    return root


def meltano_in(project: Path, sys_dir: Path, env: Mapping[str, str]) -> Meltano:
    return Meltano(
        env={"MELTANO_ENVIRONMENT": "prod", "MELTANO_SYS_DIR_ROOT": str(sys_dir), **env},
        say=lambda _line: None,
        project_root=project,
    )


def output_of(meltano: Meltano, *args: str) -> str:
    """What a meltano command prints on stdout (its logs go to stderr)."""
    shown = subprocess.run(
        meltano.command(*args),
        cwd=meltano.project_root,
        env=meltano.full_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert shown.returncode == 0, shown.stderr[-3000:]
    return shown.stdout


def credentials_of(meltano: Meltano, plugin: str) -> dict[str, Any]:
    config = json.loads(output_of(meltano, "config", "--unsafe", "print", plugin))
    return {name: config.get(name) for name in CREDENTIALS}


def test_an_organization_inherits_every_credential_setting_it_does_not_set(
    tmp_path: Path, meltano_sys_dir: Path
) -> None:
    """Why the docs say "set all six": a setting the organization's plugin leaves out comes from
    the prod account; one it sets to an unset variable stays unset."""
    block = documented_block()
    incomplete = copy.deepcopy(block)
    acme = incomplete["plugins"]["extractors"][0]
    for name in CREDENTIALS:
        del acme["config"][name]
    account = {**ACCOUNT, **APP}
    documented = meltano_in(project_with(block, tmp_path / "documented"), meltano_sys_dir, account)
    leaky = meltano_in(project_with(incomplete, tmp_path / "incomplete"), meltano_sys_dir, account)

    app = {"client_id": APP["CALENDLY_CLIENT_ID"], "client_secret": APP["CALENDLY_CLIENT_SECRET"]}
    assert credentials_of(documented, acme["name"]) == {
        **app,
        "token": None,
        "refresh_token": None,
        "refresh_token_path": str(documented.project_root / ".meltano/calendly-refresh-token-acme"),
        "organization": None,
    }
    assert credentials_of(leaky, acme["name"]) == {
        **app,
        "token": ACCOUNT["TAP_CALENDLY_TOKEN"],
        "refresh_token": ACCOUNT["CALENDLY_REFRESH_TOKEN"],
        "refresh_token_path": str(leaky.project_root / ".meltano/calendly-refresh-token"),
        "organization": ACCOUNT["CALENDLY_ORGANIZATION"],
    }


@pytest.fixture
def organizations(tmp_path: Path) -> Iterator[dict[str, Organization]]:
    project = project_with(documented_block(), tmp_path / "project")
    with ExitStack() as stack:
        yield {
            key: Organization(
                key,
                stack.enter_context(
                    Sandbox(
                        seed=seed,
                        events=events,
                        oauth_client_id=APP["CALENDLY_CLIENT_ID"],
                        oauth_client_secret=APP["CALENDLY_CLIENT_SECRET"],
                        oauth_refresh_token=f"{key}-authorized-refresh-token",
                        webhook_time_scale=0,
                    )
                ),
                project,
            )
            for key, (seed, events) in ORGANIZATIONS.items()
        }


def run_concurrently(meltano: Meltano, orgs: Mapping[str, Organization], name: str) -> None:
    """`meltano run calendly-<org>` for every organization at once, each to its own end."""
    logs = meltano.project_root / "logs"
    with ThreadPoolExecutor(len(orgs)) as pool:
        runs = {
            org: pool.submit(meltano.run, [f"calendly-{org.key}"], logs / f"{name}-{org.key}.log")
            for org in orgs.values()
        }
        for org, run in runs.items():
            try:
                emitted = run.result().emitted(org.tap)
            except MeltanoCommandError as failed:
                tail = (logs / f"{name}-{org.key}.log").read_text(encoding="utf-8")[-4000:]
                raise AssertionError(f"{failed}\n{tail}") from failed
            assert set(emitted) == set(STREAMS), f"{org.tap} emitted {emitted}"


def warehouse_uris(pg_env: Mapping[str, str], schema: str) -> dict[str, set[str]]:
    with (
        connect(pg_env) as connection,
        connection.cursor() as cursor,
    ):
        found = {}
        for stream in STREAMS:
            cursor.execute(f'SELECT uri FROM "{schema}"."{stream}"')  # noqa: S608 - our own names
            found[stream] = {uri for (uri,) in cursor.fetchall()}
    connection.close()
    return found


def latest_update(sandbox: Sandbox, stream: str) -> datetime:
    kind, _keep = STREAM_SOURCES[stream]
    with sandbox.store.lock:
        return max(parse(r["updated_at"]) for r in sandbox.store.kind(kind).values())


def parse(timestamp: str) -> datetime:
    return datetime.fromisoformat(timestamp.replace("Z", "+00:00"))


def assert_nothing_crossed_over(
    meltano: Meltano, orgs: Mapping[str, Organization], pg_env: Mapping[str, str]
) -> None:
    own = {org.key: expected_uris(org.sandbox) for org in orgs.values()}
    for org in orgs.values():
        others = [other for other in orgs.values() if other is not org]
        # Exactly its own organization's rows (the stores share no URI: the test checks that).
        loaded = warehouse_uris(pg_env, org.schema)
        assert loaded == {stream: own[org.key][stream] for stream in STREAMS}, org.schema

        # Its own bookmarks: the newest change of its own organization, nothing of another's.
        shown = output_of(meltano, "state", "get", org.state_id)
        bookmarks = json.loads(shown)["singer_state"]["bookmarks"]
        assert set(bookmarks) == set(STREAMS)
        for stream in ("users", "event_types", "scheduled_events"):
            value = parse(bookmarks[stream]["replication_key_value"])
            assert value == latest_update(org.sandbox, stream), f"{org.state_id}: {stream}"
        for other in others:
            theirs = {uri.rsplit("/", 1)[-1] for uris in own[other.key].values() for uri in uris}
            assert not [uuid for uuid in theirs if uuid in shown], f"{other.key} in {org.state_id}"

        # Its file holds the refresh token its own organization issued last, used by no one else.
        held = org.refresh_token_file.read_text(encoding="utf-8").strip()
        assert held == org.sandbox.current_refresh_token
        grants = requests_to(org.sandbox, "POST", "/oauth/token")
        assert [g.status for g in grants] == [200] * len(grants), f"{org.key}: a grant failed"
        assert org.sandbox.oauth_revocations == 0
    # The prod account's file (what an organization without its own refresh_token_path shares).
    assert not (meltano.project_root / ".meltano" / "calendly-refresh-token").exists()


def test_two_organizations_run_at_once_and_nothing_crosses_over(
    organizations: dict[str, Organization],
    meltano_sys_dir: Path,
    postgres: PostgresCluster,  # noqa: F811
    tmp_path: Path,
) -> None:
    orgs = organizations
    everything = [
        {u for us in expected_uris(o.sandbox).values() for u in us} for o in orgs.values()
    ]
    assert not set.intersection(*everything), "the organizations share resources: proves nothing"
    pg_env = postgres.create_database("agency")
    env = {
        "MELTANO_STATE_BACKEND_URI": (tmp_path / "state").as_uri(),
        **ACCOUNT,
        **APP,
        **pg_env,
        # A handful of streams keeps the test fast (inherited by both organizations).
        "TAP_CALENDLY__SELECT": json.dumps([f"{stream}.*" for stream in STREAMS]),
    }
    for org in orgs.values():
        env.update(org.env())
    meltano = meltano_in(next(iter(orgs.values())).project, meltano_sys_dir, env)

    run_concurrently(meltano, orgs, "initial")
    assert_nothing_crossed_over(meltano, orgs, pg_env)

    # Between the runs each organization books a meeting and every access token dies: the
    # incremental runs load the bookings and refresh once each, with the token their file kept.
    grants_before = {}
    for org in orgs.values():
        api = requests.Session()
        api.headers["Authorization"] = f"Bearer {org.sandbox.token}"
        book(api, org.sandbox, 2, f"booker@{org.key}.example.com")
        org.sandbox.expire_access_tokens()
        grants_before[org.key] = len(requests_to(org.sandbox, "POST", "/oauth/token"))

    run_concurrently(meltano, orgs, "incremental")
    assert_nothing_crossed_over(meltano, orgs, pg_env)
    for org in orgs.values():
        assert len(requests_to(org.sandbox, "POST", "/oauth/token")) == grants_before[org.key] + 1
