"""Calendly identifies everything by URI; paths take the UUID (the URI's last segment).

Values put into a request path go through here: an id never leaves the configured API (a URI
on another host is refused), and a value can never change the path's structure (`..`, `.`, a
`/` or their percent-encoded forms are refused, not encoded).
"""

from __future__ import annotations

import re
from urllib.parse import quote, unquote, urlsplit

_UUID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
# Enough rounds to see through any encoding a proxy or gateway in front of the API may undo.
_DECODING_ROUNDS = 4


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


#: The host Calendly names its resources on, whatever api_url a gateway puts in front of it.
CALENDLY_API_HOST = "api.calendly.com"


def foreign_host(value: str, api_url: str) -> str | None:
    """The host of `value` when it is a URI on another host than api_url's or Calendly's own;
    None for a bare id or a URI on those hosts (the token and the write go to api_url whatever
    host a URI names, so a URI on another host would act on a resource nobody asked for; behind
    a gateway in api_url, Calendly still names its resources on api.calendly.com)."""
    parts = urlsplit(value.strip())
    if not parts.scheme:
        return None
    if parts.netloc.lower() in (urlsplit(api_url).netloc.lower(), CALENDLY_API_HOST):
        return None
    return parts.netloc or "no host"


def path_segment(value: str) -> str:
    """`value` encoded as exactly one path segment.

    ValueError when the value would change the path's structure once some server decoded it:
    empty, `.` or `..`, or holding `/` or `\\`, also percent-encoded (`%2e%2e`, `%252F`).
    """
    decoded = value
    for _ in range(_DECODING_ROUNDS):
        decoded = unquote(decoded)
    if decoded in ("", ".", "..") or "/" in decoded or "\\" in decoded:
        raise ValueError(
            "must be one path segment: not empty, '.' or '..', and without '/' or '\\' "
            "(percent-encoded forms included)"
        )
    return quote(value, safe="")
