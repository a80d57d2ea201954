"""Calendly's webhook signature: `Calendly-Webhook-Signature: t=<unix seconds>,v1=<hex>`, the hex
being HMAC-SHA256 of "{t}.{raw body}" keyed with the subscription's signing key.

Verified over the raw bytes as received (never re-serialized JSON), compared in constant time
against every active key (so a key can be rotated), and refused outside a window around now
(Calendly's sample code: 3 minutes) so a captured delivery cannot be replayed later.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

HEADER = "Calendly-Webhook-Signature"
TOLERANCE_SECONDS = 180
KEY_ENV = "CALENDLY_WEBHOOK_SIGNING_KEY"
_HEX = re.compile(r"^[0-9a-fA-F]{64}$")
_UNIX_SECONDS = re.compile(r"[0-9]{1,12}")  # ASCII digits only: str.isdigit() also takes '²'


class SignatureError(Exception):
    """A delivery that must be refused: `status` is the HTTP answer, the message says why."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class Signature:
    timestamp: int
    digests: tuple[str, ...]


def parse(header: str | None) -> Signature:
    if not header:
        raise SignatureError(401, f"missing {HEADER} header")
    timestamp: int | None = None
    digests: list[str] = []
    for part in header.split(","):
        name, sep, value = part.strip().partition("=")
        if not sep:
            raise SignatureError(400, f"malformed {HEADER} header: expected t=...,v1=...")
        if name == "t":
            if not _UNIX_SECONDS.fullmatch(value):
                raise SignatureError(400, f"malformed {HEADER} header: t is not unix seconds")
            timestamp = int(value)
        elif name == "v1":
            if not _HEX.match(value):
                raise SignatureError(400, f"malformed {HEADER} header: v1 is not a SHA-256 hex")
            digests.append(value.lower())
    if timestamp is None or not digests:
        raise SignatureError(400, f"malformed {HEADER} header: needs both t and v1")
    return Signature(timestamp, tuple(digests))


def expected_digest(key: str, timestamp: int, body: bytes) -> str:
    message = str(timestamp).encode("ascii") + b"." + body
    return hmac.new(key.encode("utf-8"), message, hashlib.sha256).hexdigest()


def verify(
    header: str | None,
    body: bytes,
    keys: Iterable[str],
    now: float,
    tolerance: float = TOLERANCE_SECONDS,
) -> int:
    """The signature's timestamp if `body` is signed by one of `keys` within the window."""
    signature = parse(header)
    if abs(now - signature.timestamp) > tolerance:
        raise SignatureError(
            401, f"signature timestamp is outside the {int(tolerance)} s tolerance"
        )
    active = list(keys)
    if not active:
        raise SignatureError(401, "no signing key is configured yet; refusing every delivery")
    matched = False
    for key in active:  # check every key and digest: the time taken does not tell which matched
        wanted = expected_digest(key, signature.timestamp, body)
        for digest in signature.digests:
            matched |= hmac.compare_digest(wanted, digest)
    if not matched:
        raise SignatureError(401, "signature does not match any active signing key")
    return signature.timestamp


def parse_keys(text: str) -> list[str]:
    """Keys one per line (or comma-separated); blank lines and # comments ignored."""
    keys: list[str] = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        keys.extend(k.strip() for k in stripped.split(",") if k.strip())
    return list(dict.fromkeys(keys))


class KeyRing:
    """The active signing keys: from a key file (re-read when it changes, so a key added by
    target-calendly or a rotation needs no restart), else from CALENDLY_WEBHOOK_SIGNING_KEY."""

    def __init__(self, key_file: Path | None = None, env_value: str | None = None) -> None:
        self.key_file = key_file
        self._env_keys = parse_keys(env_value or "")
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._file_keys: list[str] = []

    @classmethod
    def from_settings(cls, key_file: str | None) -> KeyRing:
        return cls(Path(key_file) if key_file else None, os.environ.get(KEY_ENV))

    def keys(self) -> list[str]:
        if self.key_file is None:
            return self._env_keys
        try:
            stat = self.key_file.stat()
        except FileNotFoundError:
            return []
        stamp = (stat.st_mtime_ns, stat.st_size)
        with self._lock:
            if stamp != self._stamp:
                self._file_keys = parse_keys(self.key_file.read_text(encoding="utf-8"))
                self._stamp = stamp
            return self._file_keys
