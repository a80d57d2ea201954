"""Fixtures for the analytics tests: a sandbox, a private PostgreSQL, one real `meltano run` each
into PostgreSQL and DuckDB that extracts, loads and builds the dbt project."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from calendly_sandbox import Sandbox
from tests.analytics.expected import Expected
from tests.analytics.postgres import PostgresCluster
from tests.analytics.warehouses import Warehouse, run_pipeline
from tests.e2e.conftest import meltano_sys_dir  # noqa: F401 (the session's Meltano plugins)


@pytest.fixture(scope="session")
def analytics_sandbox() -> Iterator[Sandbox]:
    with Sandbox(seed=5, events=80) as running:
        yield running


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresCluster]:
    cluster = PostgresCluster().start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def postgres_warehouse(
    tmp_path_factory: pytest.TempPathFactory,
    analytics_sandbox: Sandbox,
    postgres: PostgresCluster,
    meltano_sys_dir: Path,  # noqa: F811
) -> Warehouse:
    pg_env = postgres.create_database("calendly")
    return run_pipeline(
        ("tap-calendly", "target-postgres", "dbt-postgres:build"),
        tmp_path_factory.mktemp("postgres-run"),
        analytics_sandbox,
        meltano_sys_dir,
        pg_env,
    )


@pytest.fixture(scope="session")
def duckdb_warehouse(
    tmp_path_factory: pytest.TempPathFactory,
    analytics_sandbox: Sandbox,
    meltano_sys_dir: Path,  # noqa: F811
) -> Warehouse:
    return run_pipeline(
        ("tap-calendly", "target-duckdb", "dbt-duckdb:build"),
        tmp_path_factory.mktemp("duckdb-run"),
        analytics_sandbox,
        meltano_sys_dir,
    )


@pytest.fixture(scope="session")
def expected(analytics_sandbox: Sandbox) -> Expected:
    return Expected(analytics_sandbox)
