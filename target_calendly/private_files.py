"""Files the target writes that hold personal data or secrets: created 0600 whatever the umask,
and appended to durably (a line is on disk before whatever depends on it happens)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO

PRIVATE_MODE = 0o600


def open_private(path: Path) -> IO[str]:
    """`path` opened for appending, line-buffered; created 0600 (an existing file keeps its
    mode)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, PRIVATE_MODE)
    return os.fdopen(descriptor, "a", encoding="utf-8", buffering=1)


def append_durably(handle: IO[str], text: str) -> None:
    """Append `text` as one line and return once it is on disk (fsync)."""
    handle.write(text + "\n")
    handle.flush()
    os.fsync(handle.fileno())
