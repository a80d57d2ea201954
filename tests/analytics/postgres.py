"""A private PostgreSQL cluster for the tests: initdb + pg_ctl from Debian's packages.

The cluster lives in a fresh temporary folder, listens on 127.0.0.1 on a free port (no Unix
socket outside that folder) and is removed on stop. PostgreSQL refuses to run as root, so as
root (CI) its programs run as the `postgres` OS user, which Debian's package creates.
The server's time zone is deliberately not UTC: a load that depends on the session's time
zone shows up as shifted timestamps.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg2

SERVER_TIME_ZONE = "America/New_York"
SUPERUSER = "postgres"
PASSWORD = "calendly-test-only"


class PostgresUnavailableError(RuntimeError):
    """No PostgreSQL server programs on this machine."""


def server_bin_dir() -> Path:
    """The newest /usr/lib/postgresql/<version>/bin holding initdb (Debian's layout)."""
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda path: int(path.parent.parent.name) if path.parent.parent.name.isdigit() else 0,
    )
    if not candidates:
        raise PostgresUnavailableError(
            "PostgreSQL server not found under /usr/lib/postgresql: "
            "`apt-get install -y postgresql` (.ci/run does this)"
        )
    return candidates[-1].parent


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class PostgresCluster:
    bin_dir: Path = field(default_factory=server_bin_dir)
    port: int = field(default_factory=free_port)
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="calendly-pg-")))

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def log_path(self) -> Path:
        return self.root / "server.log"

    def _as_server_user(self, *command: str) -> list[str]:
        if os.geteuid() != 0:
            return list(command)
        return ["runuser", "-u", SUPERUSER, "--", *command]

    def _run(self, *command: str) -> None:
        result = subprocess.run(
            self._as_server_user(*command), capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            log = self.log_path.read_text(encoding="utf-8") if self.log_path.exists() else ""
            raise RuntimeError(
                f"{' '.join(command)} failed ({result.returncode}):\n"
                f"{result.stdout}{result.stderr}{log[-2000:]}"
            )

    def start(self) -> PostgresCluster:
        password_file = self.root / "password"
        password_file.write_text(PASSWORD, encoding="utf-8")
        if os.geteuid() == 0:
            shutil.chown(self.root, user=SUPERUSER)
            shutil.chown(password_file, user=SUPERUSER)
        self._run(
            str(self.bin_dir / "initdb"),
            "-D",
            str(self.data_dir),
            "-U",
            SUPERUSER,
            # Clients use TCP with a password, as they would against a real server.
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            f"--pwfile={password_file}",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
        )
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} "
            f"-c timezone={SERVER_TIME_ZONE} -c fsync=off -c full_page_writes=off"
        )
        self._run(
            str(self.bin_dir / "pg_ctl"),
            "-D",
            str(self.data_dir),
            "-l",
            str(self.log_path),
            "-o",
            options,
            "-w",
            "start",
        )
        return self

    def stop(self) -> None:
        if (self.data_dir / "postmaster.pid").exists():
            self._run(
                str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-m", "fast", "-w", "stop"
            )
        shutil.rmtree(self.root, ignore_errors=True)

    def create_database(self, name: str) -> dict[str, str]:
        """CREATE DATABASE name; the standard PG* variables that reach it."""
        self._run(
            str(self.bin_dir / "createdb"),
            "-h",
            str(self.root),
            "-p",
            str(self.port),
            "-U",
            SUPERUSER,
            name,
        )
        return {
            "PGHOST": "127.0.0.1",
            "PGPORT": str(self.port),
            "PGUSER": SUPERUSER,
            "PGPASSWORD": PASSWORD,
            "PGDATABASE": name,
        }


def connect(env: Mapping[str, str]) -> Any:
    """A psycopg2 connection to the database the standard PG* variables of `env` name."""
    return psycopg2.connect(
        host=env["PGHOST"],
        port=env["PGPORT"],
        user=env["PGUSER"],
        password=env["PGPASSWORD"],
        dbname=env["PGDATABASE"],
    )
