"""Calendly identifies everything by URI; paths take the UUID (the URI's last segment)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

_UUID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


def uuid_of(value: str) -> str:
    """The UUID of a full Calendly URI, or the value itself when it is a bare UUID."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"expected a Calendly URI or UUID, got {value!r}")
    text = value.strip()
    parts = urlsplit(text)
    if parts.scheme:
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"expected a Calendly URI or UUID, got {value!r}")
        candidate = parts.path.rstrip("/").rsplit("/", 1)[-1]
    else:
        candidate = text
    if not _UUID.match(candidate):
        raise ValueError(f"expected a Calendly URI or UUID, got {value!r}")
    return candidate


def resource_uri(api_url: str, collection: str, uuid: str) -> str:
    """The URI Calendly uses for a resource, e.g. https://api.calendly.com/scheduled_events/<uuid>."""
    return f"{api_url.rstrip('/')}/{collection.strip('/')}/{uuid_of(uuid)}"
