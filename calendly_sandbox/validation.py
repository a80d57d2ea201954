"""Request validation driven by the spec facts: query parameters and JSON bodies."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from calendly_sandbox import timefmt
from calendly_sandbox.errors import ApiError, bad_request

# A "valid email address" as HTML defines it (input type=email: ASCII only), with a dot in the
# domain: what a booking page or the admin app lets through.
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
EMAIL_RE = re.compile(rf"[A-Za-z0-9.!#$%&'*+/=?^_`{{|}}~-]+@{_LABEL}(?:\.{_LABEL})+")


def query_params(op: Mapping[str, Any], query: Mapping[str, Sequence[str]]) -> dict[str, Any]:
    """Parsed query parameters (defaults applied); 400 for missing, malformed or out-of-range."""
    parsed: dict[str, Any] = {}
    for name, fact in op["params"].items():
        if fact["in"] != "query":
            continue
        raw = list(query.get(name, [])) + list(query.get(f"{name}[]", []))
        if "" in raw:  # given but empty: refused, not read as absent (which widens a filter)
            raise bad_request(name, f"{name} must not be empty")
        if fact.get("type") == "array":
            values = [v for item in raw for v in item.split(",") if v]
            for value in values:
                check_value(name, value, fact.get("items", {}))
            if values:
                parsed[name] = values
            elif fact.get("default") is not None:
                parsed[name] = list(fact["default"])
            continue
        if not raw:
            if fact.get("required"):
                raise bad_request(name, f"{name} is required")
            if "default" in fact:
                parsed[name] = fact["default"]
            continue
        parsed[name] = check_value(name, raw[-1], fact)
    return parsed


def check_value(name: str, value: str, fact: Mapping[str, Any]) -> Any:
    kind = fact.get("type")
    result: Any = value
    if kind == "integer":
        try:
            result = int(value)
        except ValueError:
            raise bad_request(name, f"{name} must be an integer, got {value!r}") from None
        low, high = fact.get("minimum"), fact.get("maximum")
        if (low is not None and result < low) or (high is not None and result > high):
            raise bad_request(name, f"{name} must be between {low} and {high}, got {result}")
    elif kind == "boolean":
        if value not in ("true", "false"):
            raise bad_request(name, f"{name} must be true or false, got {value!r}")
        result = value == "true"
    if "enum" in fact and result not in fact["enum"]:
        raise bad_request(name, f"{name} must be one of {', '.join(map(str, fact['enum']))}")
    if kind == "string":
        check_format(name, value, fact.get("format"))
        if "maxLength" in fact and len(value) > fact["maxLength"]:
            raise bad_request(name, f"{name} must be at most {fact['maxLength']} characters")
    return result


def check_format(name: str, value: str, fmt: str | None) -> None:
    if fmt == "date-time":
        try:
            timefmt.parse(value)
        except ValueError:
            raise bad_request(name, f"{name} must be an RFC 3339 date-time") from None
    elif fmt == "uri" and not value.startswith(("http://", "https://")):
        raise bad_request(name, f"{name} must be a URI")
    elif fmt == "email" and not EMAIL_RE.fullmatch(value):
        raise bad_request(name, f"{name} must be an email address")


def body(schema: Mapping[str, Any] | None, data: Any, path: str = "") -> None:
    """Validate a JSON body against the trimmed request schema; 400 names the field."""
    if schema is None:
        return
    label = path or "body"
    if "oneOf" in schema:
        for option in schema["oneOf"]:
            try:
                body(option, data, path)
                return
            except ApiError:
                continue
        raise bad_request(label, f"{label} does not match any allowed shape")
    kind = schema.get("type")
    checks = {
        "object": lambda v: isinstance(v, dict),
        "array": lambda v: isinstance(v, list),
        "string": lambda v: isinstance(v, str),
        "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
        "boolean": lambda v: isinstance(v, bool),
        "null": lambda v: v is None,
    }
    kinds = kind if isinstance(kind, list) else [kind] if kind else []
    if kinds and not any(checks[k](data) for k in kinds if k in checks):
        raise bad_request(label, f"{label} must be of type {' or '.join(kinds)}")
    if data is None:
        return
    if "enum" in schema and data not in schema["enum"]:
        raise bad_request(label, f"{label} must be one of {', '.join(map(str, schema['enum']))}")
    if isinstance(data, str):
        if "maxLength" in schema and len(data) > schema["maxLength"]:
            raise bad_request(label, f"{label} must be at most {schema['maxLength']} characters")
        check_format(label, data, schema.get("format"))
    if isinstance(data, (int, float)) and not isinstance(data, bool):
        low, high = schema.get("minimum"), schema.get("maximum")
        if (low is not None and data < low) or (high is not None and data > high):
            raise bad_request(label, f"{label} must be between {low} and {high}")
    if isinstance(data, dict):
        for field in schema.get("required", []):
            if field not in data:
                raise bad_request(f"{path}.{field}".lstrip("."), f"{field} is required")
        for field, sub in schema.get("properties", {}).items():
            if field in data:
                body(sub, data[field], f"{path}.{field}".lstrip("."))
    if isinstance(data, list) and "items" in schema:
        for i, item in enumerate(data):
            body(schema["items"], item, f"{label}[{i}]")
