"""The README's quickstart, as a Meltano user runs it: a brand-new `meltano init` project in a
temporary folder outside the checkout, the README's own `meltano add --from-ref` and
`meltano config set` lines, plugins installed from wheels built from this checkout (the hub
definitions' git URL swapped for them: no test reaches the internet for our code), then
`meltano run` into DuckDB and into PostgreSQL whose server time zone is not UTC.

Rows = records the tap says it emitted, per stream, in both warehouses; every array column is
one jsonb value; no date-time is shifted. About two minutes with uv's warm cache (PyPI serves
target-duckdb, meltanolabs-target-postgres and their dependencies on a cold one).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
import yaml

from calendly_sandbox import Sandbox
from demo.meltano import Meltano
from tests.analytics.postgres import PostgresCluster, connect
from tests.distributions.conftest import ROOT, Wheel

pytestmark = pytest.mark.slow

SECTION = "## Add it to your own Meltano project"
SANDBOX_TOKEN = "sandbox-token"


def readme_commands() -> list[str]:
    """The shell lines of the README's quickstart section, comments and the REF= line dropped."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split(SECTION, 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", section, flags=re.S)
    lines = [
        re.sub(r"\s+#.*$", "", line).strip() for block in blocks for line in block.splitlines()
    ]
    return [line for line in lines if line and not line.startswith("REF=")]


def meltano_env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "MELTANO_"))}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return {**env, "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false", **extra}


def shell(line: str, cwd: Path, env: dict[str, str]) -> None:
    result = subprocess.run(
        ["bash", "-c", line], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, f"{line}\n{result.stdout[-2000:]}{result.stderr[-3000:]}"


@pytest.fixture(scope="module")
def postgres() -> Iterator[PostgresCluster]:
    cluster = PostgresCluster().start()  # its time zone is America/New_York, not UTC
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(seed=20, events=120) as running:
        yield running


@pytest.fixture(scope="module")
def project(
    tmp_path_factory: pytest.TempPathFactory,
    wheels: dict[str, Wheel],
    loader_wheels: dict[str, Wheel],
    postgres: PostgresCluster,
    sandbox: Sandbox,
) -> Iterator[tuple[Meltano, dict[str, str]]]:
    base = tmp_path_factory.mktemp("quickstart")
    assert not base.resolve().is_relative_to(ROOT)
    pg = postgres.create_database("quickstart")
    env = meltano_env(
        {"REF": str(ROOT / "hub"), "CALENDLY_TOKEN": SANDBOX_TOKEN, "PGPASSWORD": pg["PGPASSWORD"]}
    )
    shell("meltano init my-project --no_usage_stats", base, env)
    root = base / "my-project"

    commands = readme_commands()
    runs = [line for line in commands if line.startswith("meltano run ")]
    for line in commands:
        if line.startswith("meltano add "):
            shell(f"{line} --no-install", root, env)
        elif not line.startswith("meltano run "):
            shell(line, root, env)

    wheel_for = {
        "tap-calendly": wheels["calendly-connectors"],
        "target-duckdb": loader_wheels["target-duckdb-rowsafe"],
        "target-postgres": loader_wheels["target-postgres-calendly"],
    }
    meltano_yml = root / "meltano.yml"
    declared = yaml.safe_load(meltano_yml.read_text(encoding="utf-8"))
    for plugins in declared["plugins"].values():
        for plugin in plugins:
            plugin["pip_url"] = str(wheel_for[plugin["name"]].path)
    meltano_yml.write_text(yaml.safe_dump(declared, sort_keys=False), encoding="utf-8")
    # Where this test's sandbox and cluster are, in place of the README's real ones.
    for plugin, setting, value in [
        ("tap-calendly", "api_url", sandbox.base_url),
        ("tap-calendly", "requests_per_minute", "6000"),
        ("target-postgres", "host", pg["PGHOST"]),
        ("target-postgres", "port", pg["PGPORT"]),
        ("target-postgres", "user", pg["PGUSER"]),
        ("target-postgres", "database", pg["PGDATABASE"]),
    ]:
        shell(f"meltano config set {plugin} {setting} '{value}'", root, env)

    meltano = Meltano(env=env, say=lambda _line: None, project_root=root)
    meltano.install(base / "install.log")
    assert runs == [
        "meltano run tap-calendly target-duckdb",
        "meltano run tap-calendly target-postgres",
    ]
    yield meltano, pg


def emitted(meltano: Meltano, loader: str, log: Path) -> Counter[str]:
    counts = meltano.run(["tap-calendly", loader], log).emitted("tap-calendly")
    assert sum(counts.values()) > 0, f"the tap emitted nothing; see {log}"
    return counts


def test_duckdb_holds_every_record_the_tap_emitted(
    project: tuple[Meltano, dict[str, str]], tmp_path: Path
) -> None:
    meltano, _ = project
    counts = emitted(meltano, "target-duckdb", tmp_path / "duckdb-run.log")

    with duckdb.connect(str(meltano.project_root / "warehouse.duckdb"), read_only=True) as con:
        rows = {
            stream: con.execute(f'select count(*) from calendly."{stream}"').fetchone()[0]  # noqa: S608
            for stream in counts
        }
    assert rows == dict(counts)


def test_postgres_holds_every_record_unbent(
    project: tuple[Meltano, dict[str, str]], sandbox: Sandbox, tmp_path: Path
) -> None:
    meltano, pg = project
    counts = emitted(meltano, "target-postgres", tmp_path / "postgres-run.log")

    connection = connect(pg)
    with connection, connection.cursor() as cursor:
        rows = {}
        for stream in counts:
            cursor.execute(f'select count(*) from calendly."{stream}"')  # noqa: S608
            rows[stream] = cursor.fetchone()[0]
        cursor.execute(
            "select table_name || '.' || column_name from information_schema.columns "
            "where table_schema = 'calendly' and data_type = 'ARRAY'"
        )
        array_columns = [name for (name,) in cursor.fetchall()]
        cursor.execute(
            "select count(*) from calendly.contacts where jsonb_typeof(emails) = 'array' "
            "and emails->>0 is not null"
        )
        (contacts_with_email,) = cursor.fetchone()
        cursor.execute("select uri, start_time from calendly.scheduled_events")
        start_times = dict(cursor.fetchall())
    connection.close()

    assert rows == dict(counts)
    assert array_columns == []
    assert contacts_with_email == counts["contacts"] > 0
    assert start_times == {
        event["uri"]: dt.datetime.fromisoformat(event["start_time"].replace("Z", "+00:00"))
        .astimezone(dt.UTC)
        .replace(tzinfo=None)
        for event in sandbox.store.scheduled_events.values()
    }
