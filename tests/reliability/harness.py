"""Run tap-calendly and target-calendly as real subprocesses and read what they leave behind.

Stdout (Singer messages) and stderr (logs) are captured separately, so a test can both parse
the messages and search the logs for secrets or for the clear error a failure must print.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BIN = Path(sys.executable).parent
TAP = BIN / "tap-calendly"
TARGET = BIN / "target-calendly"

# Generous: a run never takes this long unless it hangs, which is itself the failure to report.
RUN_TIMEOUT_SECONDS = 240.0


def clean_env() -> dict[str, str]:
    """The test process's environment without settings that would leak into the plugin."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TAP_CALENDLY", "TARGET_CALENDLY", "MELTANO"))
    }
    env["PYTHONUNBUFFERED"] = "1"
    env["PYTHONFAULTHANDLER"] = "1"  # SIGABRT on a hung run prints every thread's stack
    return env


def write_json(path: Path, value: Any) -> Path:
    path.write_text(json.dumps(value), encoding="utf-8")
    return path


# Streams whose resources have no `uri`: their primary keys.
KEYS_WITHOUT_URI = {
    "locations": ("user", "kind"),
    "event_type_availability_schedules": ("event_type",),
    "event_type_available_times": ("event_type", "start_time", "captured_at"),
    "user_busy_times": ("user", "start_time", "captured_at"),
}


@dataclass
class SingerOutput:
    """Singer messages parsed from a tap's stdout (or the lines of a target's input)."""

    lines: list[str]
    messages: list[dict[str, Any]] = field(init=False)

    def __post_init__(self) -> None:
        self.messages = [json.loads(line) for line in self.lines if line.strip()]

    def records(self, stream: str | None = None) -> list[dict[str, Any]]:
        return [
            m["record"]
            for m in self.messages
            if m.get("type") == "RECORD" and (stream is None or m.get("stream") == stream)
        ]

    def streams(self) -> set[str]:
        return {m["stream"] for m in self.messages if m.get("type") == "RECORD"}

    def uris(self, stream: str) -> Counter[str]:
        """Each record's `uri`, or its key where the resource has none (e.g. locations)."""
        keys = KEYS_WITHOUT_URI.get(stream)
        if keys is None:
            return Counter(r["uri"] for r in self.records(stream))
        return Counter("|".join(str(r[k]) for k in keys) for r in self.records(stream))

    def states(self) -> list[dict[str, Any]]:
        return [m["value"] for m in self.messages if m.get("type") == "STATE"]

    def last_state(self) -> dict[str, Any] | None:
        states = self.states()
        return states[-1] if states else None


@dataclass
class Run:
    """One finished (or killed) plugin process."""

    argv: list[str]
    returncode: int
    stdout: str
    stderr: str
    killed: bool = False

    @property
    def output(self) -> SingerOutput:
        return SingerOutput(self.stdout.splitlines())

    def describe(self) -> str:
        """For assertion messages: how it ended and the tail of its log."""
        tail = "\n".join(self.stderr.splitlines()[-25:])
        return f"{' '.join(self.argv)} -> rc={self.returncode}\n--- stderr tail ---\n{tail}"


def tap_argv(config: Path, state: Path | None = None) -> list[str]:
    argv = [str(TAP), "--config", str(config)]
    if state is not None:
        argv += ["--state", str(state)]
    return argv


def run_tap(config: Path, state: Path | None = None, cwd: Path | None = None) -> Run:
    return _run(tap_argv(config, state), None, cwd)


def run_target(config: Path, singer_input: str, cwd: Path | None = None) -> Run:
    return _run([str(TARGET), "--config", str(config)], singer_input, cwd)


def _run(argv: list[str], stdin: str | None, cwd: Path | None) -> Run:
    with subprocess.Popen(
        argv,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=clean_env(),
        cwd=cwd,
    ) as process:
        try:
            stdout, stderr = process.communicate(stdin, timeout=RUN_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            # A hang is the failure to report, with where every thread of the plugin was stuck.
            process.send_signal(signal.SIGABRT)
            stdout, stderr = process.communicate()
            tail = "\n".join(stderr.splitlines()[-80:])
            raise AssertionError(
                f"{' '.join(argv)} still running after {RUN_TIMEOUT_SECONDS:g}s; its stacks:\n"
                f"{tail}"
            ) from None
    return Run(argv, process.returncode, stdout, stderr)


class _StderrDrain(threading.Thread):
    """Reads a child's stderr to the end so a chatty child never blocks on a full pipe."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        super().__init__(daemon=True)
        self._process = process
        self.text = ""

    def run(self) -> None:
        assert self._process.stderr is not None
        self.text = self._process.stderr.read()


def run_tap_killed_at_line(config: Path, state: Path | None, kill_at_line: int) -> Run:
    """Run the tap and SIGKILL it as soon as it has printed `kill_at_line` stdout lines.

    Only the lines read before the kill count as output: they are all a downstream target could
    have received. `killed` says whether the run was cut short: the process was still running,
    or (it outran the reader) it had printed more than those lines.
    """
    argv = tap_argv(config, state)
    process = subprocess.Popen(
        argv,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=clean_env(),
    )
    drain = _StderrDrain(process)
    drain.start()
    assert process.stdout is not None
    lines: list[str] = []
    cut_short = False
    deadline = time.monotonic() + RUN_TIMEOUT_SECONDS
    for line in process.stdout:
        lines.append(line)
        if len(lines) >= kill_at_line:
            alive = process.poll() is None
            process.send_signal(signal.SIGKILL)
            cut_short = alive or bool(process.stdout.read().strip())
            break
        if time.monotonic() > deadline:
            process.kill()
            raise TimeoutError(f"{argv} ran past {RUN_TIMEOUT_SECONDS}s")
    process.stdout.close()
    returncode = process.wait(timeout=RUN_TIMEOUT_SECONDS)
    drain.join(timeout=RUN_TIMEOUT_SECONDS)
    return Run(argv, returncode, "".join(lines), drain.text, killed=cut_short)


def count_lines(path: Path) -> int:
    try:
        with path.open("rb") as handle:
            return sum(1 for line in handle if line.endswith(b"\n"))
    except FileNotFoundError:
        return 0


def run_target_killed_after_outcomes(
    config: Path, singer_input: str, responses_path: Path, kill_after: int
) -> Run:
    """Run the target and SIGKILL it once the responses file holds `kill_after` more lines.

    Event-driven: polls the file (the target writes a line per outcome) rather than sleeping
    for a time that assumes a speed.
    """
    before = count_lines(responses_path)

    def enough_lines(process: subprocess.Popen[str]) -> bool:
        if count_lines(responses_path) - before >= kill_after:
            process.send_signal(signal.SIGKILL)
            return True
        return False

    return run_target_watched(config, singer_input, enough_lines)


def run_target_watched(
    config: Path,
    singer_input: str,
    watch: Callable[[subprocess.Popen[str]], bool],
    poll_seconds: float = 0.002,
) -> Run:
    """Run the target, calling `watch(process)` until it exits or `watch` returns True (it
    killed the process)."""
    return run_watched([str(TARGET), "--config", str(config)], singer_input, watch, poll_seconds)


def run_tap_watched(
    config: Path,
    watch: Callable[[subprocess.Popen[str]], bool],
    poll_seconds: float = 0.002,
) -> Run:
    return run_watched(tap_argv(config), None, watch, poll_seconds)


def run_watched(
    argv: list[str],
    stdin_text: str | None,
    watch: Callable[[subprocess.Popen[str]], bool],
    poll_seconds: float,
) -> Run:
    process = subprocess.Popen(
        argv,
        stdin=subprocess.PIPE if stdin_text is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=clean_env(),
    )
    stdout_box: dict[str, str] = {}

    def feed_and_read() -> None:
        assert process.stdout is not None
        if stdin_text is not None:
            assert process.stdin is not None
            try:
                process.stdin.write(stdin_text)
                process.stdin.close()
            except BrokenPipeError:
                pass
        stdout_box["text"] = process.stdout.read()

    io_thread = threading.Thread(target=feed_and_read, daemon=True)
    io_thread.start()
    drain = _StderrDrain(process)
    drain.start()
    killed = False
    deadline = time.monotonic() + RUN_TIMEOUT_SECONDS
    while process.poll() is None:
        if watch(process):
            killed = True
            break
        if time.monotonic() > deadline:
            process.kill()
            raise TimeoutError(f"{argv} ran past {RUN_TIMEOUT_SECONDS}s")
        time.sleep(poll_seconds)
    returncode = process.wait(timeout=RUN_TIMEOUT_SECONDS)
    io_thread.join(timeout=RUN_TIMEOUT_SECONDS)
    drain.join(timeout=RUN_TIMEOUT_SECONDS)
    return Run(argv, returncode, stdout_box.get("text", ""), drain.text, killed=killed)


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Complete JSON lines of a file; a torn last line (crash mid-write) is left out."""
    if not path.exists():
        return []
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines(keepends=True):
        if line.endswith("\n") and line.strip():
            rows.append(json.loads(line))
    return rows


def singer_lines(messages: Iterable[Mapping[str, Any]]) -> str:
    return "".join(json.dumps(m) + "\n" for m in messages)


def files_under(*roots: Path) -> list[Path]:
    return [p for root in roots if root.exists() for p in sorted(root.rglob("*")) if p.is_file()]


def leaked(secrets: Iterable[str], texts: Mapping[str, str]) -> list[str]:
    """Which secret shows up where: ['<secret> in <place>', ...]."""
    return [
        f"{secret!r} in {place}"
        for secret in secrets
        for place, text in texts.items()
        if secret and secret in text
    ]


class Eavesdropper:
    """A TCP listener on loopback that records whatever a client sends it.

    Used as the "other host", reached as http://0.0.0.0:PORT: the plugins' safety check does not
    count 0.0.0.0 as loopback, yet Linux delivers a connection to it on this machine, so a token
    sent despite the check would show up in `received` without any packet leaving loopback.
    """

    def __init__(self) -> None:
        self._server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._server.bind(("127.0.0.1", 0))
        self._server.listen(8)
        self._server.settimeout(0.2)
        self.port: int = self._server.getsockname()[1]
        self.received = b""
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> Eavesdropper:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._server.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            with conn:
                conn.settimeout(1.0)
                try:
                    self.received += conn.recv(65536)
                    conn.sendall(b"HTTP/1.1 500 Eavesdropped\r\nContent-Length: 0\r\n\r\n")
                except OSError:
                    pass
