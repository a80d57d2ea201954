"""api_request: any Calendly endpoint no action covers yet (contact lists, notes...).

A record names the `method` and a `path` under api_url whose `{column}` placeholders are filled
(URL-encoded) from the record's columns. A value filling a placeholder of the path (before any
`?`) is one segment: `.`, `..` or a `/` (also percent-encoded) is refused, so no value can lead
the request outside the path it names (e.g. above a gateway's prefix in api_url). POST, PUT and PATCH send a JSON body made of the other
columns, minus those listed in `exclude`, those used in the path, and a CSV tap's `_sdc_*`
columns; a text cell holding a JSON object or list is sent as that JSON. GET and DELETE send no
body. The request goes through the same throttle, auth and retry rules as every action: GET,
PUT and DELETE are idempotent and may be resent; a POST or PATCH whose answer is lost is never
resent (the record ends `unknown`, to check in Calendly), and a POST finished in an earlier run
is not sent again (its replay gets a `skipped` line, as for every create). A DELETE is destructive: it needs
`allow_destructive_actions`.
"""

from __future__ import annotations

import json
import string
from typing import Any
from urllib.parse import quote

from calendly_http.uris import path_segment
from target_calendly.lookups import LookupFailedError, Values, WriteContext

Planned = tuple[str, str, "dict[str, Any] | None"]

CONTROL_COLUMNS = ("method", "path", "exclude")
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
WITH_BODY = ("POST", "PUT", "PATCH")


def plan_request(values: Values, _ctx: WriteContext) -> Planned:
    method = str(values["method"]).upper()
    template = values["path"]
    placeholders = _names(template)
    missing = [name for name in placeholders if values.get(name) in (None, "")]
    if missing:
        raise LookupFailedError(
            f"field 'path' has the placeholder(s) {', '.join('{' + m + '}' for m in missing)}, "
            "which name no column of the record with a value"
        )
    path_part, _, query_part = template.partition("?")
    try:
        filled = {name: path_segment(str(values[name])) for name in _names(path_part)}
    except ValueError as exc:
        raise LookupFailedError(f"a placeholder of field 'path' {exc}") from None
    filled.update((name, quote(str(values[name]), safe="")) for name in _names(query_part))
    path = template.format(**filled)
    if method not in WITH_BODY:
        return method, path, None
    left_out = {*CONTROL_COLUMNS, *placeholders, *excluded(values)}
    body = {
        name: _json_cell(value)
        for name, value in values.items()
        if name not in left_out and not name.startswith("_sdc_")
    }
    return method, path, body


def excluded(values: Values) -> list[str]:
    raw = values.get("exclude")
    if raw is None:
        return []
    if isinstance(raw, str):
        raw = json.loads(raw) if raw.strip().startswith("[") else raw.split(",")
    return [str(name).strip() for name in raw if str(name).strip()]


def _json_cell(value: Any) -> Any:
    if isinstance(value, str) and value.strip()[:1] in ("{", "["):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _names(template: str) -> list[str]:
    return [name for _, name, _, _ in string.Formatter().parse(template) if name]


def path_problem(values: Values) -> str | None:
    path = values["path"]
    path_part = path.partition("?")[0]
    try:
        literal_segments = path_part.format_map(_Blank()).split("/")[1:]
    except (ValueError, IndexError):
        return "field 'path' must name its placeholders as {column} with balanced braces"
    if not path.startswith("/") or "://" in path or _leaves_its_place(literal_segments):
        return (
            "field 'path' must be a path under api_url, starting with '/', e.g. /contacts/{contact}"
        )
    for name in _names(path_part):
        value = values.get(name)
        if value in (None, ""):
            continue  # reported by plan_request, naming every missing placeholder at once
        try:
            path_segment(str(value))
        except ValueError as exc:
            return f"field '{name}' (placeholder {{{name}}} of field 'path') {exc}"
    try:
        excluded(values)
    except ValueError:
        return "field 'exclude' must be a comma-separated list or a JSON list of column names"
    return None


def is_delete(values: Values) -> bool:
    return str(values.get("method", "")).upper() == "DELETE"


def is_post(record: Values) -> bool:
    """A POST usually creates: a finished one is not sent again by a later run."""
    return str(record.get("method", "")).strip().upper() == "POST"


class _Blank(dict[str, str]):
    """Fills every placeholder with a plain segment, leaving the template's own segments."""

    def __missing__(self, _name: str) -> str:
        return "x"


def _leaves_its_place(segments: list[str]) -> bool:
    """A literal segment that is `.` or `..` once decoded (a server would resolve it)."""
    try:
        for segment in segments:
            if segment:
                path_segment(segment)
    except ValueError:
        return True
    return False
