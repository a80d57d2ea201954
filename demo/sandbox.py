"""Run `calendly-sandbox` as a child process on loopback, for as long as a `with` block lasts."""

from __future__ import annotations

import subprocess
import threading
from pathlib import Path
from types import TracebackType
from typing import IO

STARTUP_TIMEOUT_SECONDS = 120


class SandboxStartError(RuntimeError):
    """calendly-sandbox exited or printed no base URL."""


class SandboxProcess:
    """`calendly-sandbox --port 0`: it prints its base URL on its first stdout line."""

    def __init__(self, executable: Path, *, seed: int, events: int, log_path: Path) -> None:
        self.command = [
            str(executable),
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--seed",
            str(seed),
            "--events",
            str(events),
        ]
        self.log_path = log_path
        self.base_url = ""
        self._process: subprocess.Popen[str] | None = None

    def __enter__(self) -> SandboxProcess:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("w", encoding="utf-8")
        self._process = subprocess.Popen(
            self.command, stdout=subprocess.PIPE, stderr=log, text=True, bufsize=1
        )
        log.close()
        first_line: list[str] = []
        reader = threading.Thread(
            target=lambda: first_line.append(self._stdout().readline()), daemon=True
        )
        reader.start()
        reader.join(STARTUP_TIMEOUT_SECONDS)
        url = first_line[0].strip() if first_line else ""
        if not url.startswith("http://127.0.0.1:"):
            self.stop()
            raise SandboxStartError(
                f"calendly-sandbox printed no base URL (got {url!r}); see {self.log_path}"
            )
        self.base_url = url.rstrip("/")
        return self

    def _stdout(self) -> IO[str]:
        assert self._process is not None and self._process.stdout is not None
        return self._process.stdout

    def stop(self) -> None:
        """Terminate the server (if still running) and release its pipe."""
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process.stdout is not None:
            process.stdout.close()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
