"""Read a built warehouse (DuckDB file or PostgreSQL database) the same way in every test."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from calendly_sandbox import Sandbox
from demo.meltano import Meltano, RunResult
from demo.run import Layout, start_date
from tests.analytics.postgres import connect


@dataclass
class Warehouse:
    """One extract-load-build run and where it left things."""

    layout: Layout
    run: RunResult
    dbt_target_path: Path
    env: dict[str, str]


def run_pipeline(
    blocks: tuple[str, ...],
    root: Path,
    sandbox: Sandbox,
    sys_dir: Path,
    extra_env: dict[str, str] | None = None,
) -> Warehouse:
    layout = Layout(root)
    env = {
        **layout.meltano_env(sandbox.base_url, start_date()),
        "MELTANO_SYS_DIR_ROOT": str(sys_dir),
        **(extra_env or {}),
    }
    result = Meltano(env=env, say=lambda _line: None).run(blocks, layout.log("-".join(blocks)))
    return Warehouse(layout, result, layout.dbt_target, env)


def query(warehouse: Warehouse, sql: str) -> list[tuple[Any, ...]]:
    if "PGDATABASE" in warehouse.env:
        env = warehouse.env
        with (
            connect(env) as connection,
            connection.cursor() as cursor,
        ):
            cursor.execute(sql)
            rows: list[tuple[Any, ...]] = cursor.fetchall()
        connection.close()
        return rows
    with duckdb.connect(str(warehouse.layout.database), read_only=True) as con:
        return con.execute(sql).fetchall()


def records(warehouse: Warehouse, sql: str, columns: tuple[str, ...]) -> list[dict[str, Any]]:
    return [dict(zip(columns, row, strict=True)) for row in query(warehouse, sql)]


def run_results(target_path: Path) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = json.loads(
        (target_path / "run_results.json").read_text(encoding="utf-8")
    )["results"]
    return results
