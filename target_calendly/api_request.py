"""api_request: any Calendly endpoint no action covers yet (contact lists, notes...).

A record names the `method` and a `path` under api_url whose `{column}` placeholders are filled
(URL-encoded) from the record's columns. POST, PUT and PATCH send a JSON body made of the other
columns, minus those listed in `exclude`, those used in the path, and a CSV tap's `_sdc_*`
columns; a text cell holding a JSON object or list is sent as that JSON. GET and DELETE send no
body. The request goes through the same throttle, auth and retry rules as every action: GET,
PUT and DELETE are idempotent and may be resent; a POST or PATCH whose answer is lost is never
resent (the record fails with a note to check Calendly). A DELETE is destructive: it needs
`allow_destructive_actions`.
"""

from __future__ import annotations

import json
import string
from typing import Any
from urllib.parse import quote

from target_calendly.lookups import Context, LookupFailedError, Values

Planned = tuple[str, str, "dict[str, Any] | None"]

CONTROL_COLUMNS = ("method", "path", "exclude")
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
WITH_BODY = ("POST", "PUT", "PATCH")


def plan_request(values: Values, _ctx: Context) -> Planned:
    method = str(values["method"]).upper()
    template = values["path"]
    placeholders = [name for _, name, _, _ in string.Formatter().parse(template) if name]
    missing = [name for name in placeholders if values.get(name) in (None, "")]
    if missing:
        raise LookupFailedError(
            f"field 'path' has the placeholder(s) {', '.join('{' + m + '}' for m in missing)}, "
            "which name no column of the record with a value"
        )
    path = template.format(**{name: quote(str(values[name]), safe="") for name in placeholders})
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


def path_problem(values: Values) -> str | None:
    path = values["path"]
    if not path.startswith("/") or "://" in path or "/../" in f"{path}/":
        return (
            "field 'path' must be a path under api_url, starting with '/', e.g. /contacts/{contact}"
        )
    try:
        excluded(values)
    except ValueError:
        return "field 'exclude' must be a comma-separated list or a JSON list of column names"
    return None


def is_delete(values: Values) -> bool:
    return str(values.get("method", "")).upper() == "DELETE"
