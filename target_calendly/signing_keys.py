"""Webhook signing keys for create_webhook_subscription: a strong key when the record has none,
handed to calendly-webhooks through its key file (`webhook_signing_key_file`), never logged.

The key file holds one key per line (the format `calendly-webhooks --signing-key-file` reads,
re-reading it when it changes). Lines are only appended, so keys of older subscriptions stay
active until someone removes them (rotation, README "Webhooks").
"""

from __future__ import annotations

import hashlib
import secrets
from pathlib import Path

from target_calendly.private_files import append_durably, open_private

KEY_BYTES = 32  # 256 bits


def generate() -> str:
    return secrets.token_urlsafe(KEY_BYTES)


def fingerprint(key: str) -> str:
    """Names a key in outcome lines without revealing it."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:12]


def hand_to_receiver(path: Path, key: str) -> bool:
    """Append `key` to the key file (created 0600) unless it is there; True if appended."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        present = key in path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        present = False
    if present:
        return False
    with open_private(path) as handle:
        append_durably(handle, key)
    return True
