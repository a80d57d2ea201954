"""Uuids: random ones for seeded data, and ones minted deterministically from the store's history
(the same writes in the same order give the same uuids)."""

from __future__ import annotations

import hashlib
import random
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from calendly_sandbox.store import Store

UUID_CLEAR = ~((0xF000 << 64) | (0xC000 << 48))
UUID_SET = (0x4000 << 64) | (0x8000 << 48)


def random_uuid(rng: random.Random) -> str:
    """A random (version 4, RFC 4122 variant) uuid from a seeded generator."""
    return _dashed(f"{(rng.getrandbits(128) & UUID_CLEAR) | UUID_SET:032x}")


def mint_uuid(store: Store, label: str, *parts: object) -> str:
    seed = f"{store.seed}|{store.next_serial()}|{label}|{parts}"
    digest = bytearray(hashlib.sha256(seed.encode()).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x40
    digest[8] = (digest[8] & 0x3F) | 0x80
    return _dashed(digest.hex())


def _dashed(h: str) -> str:
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
