"""Input checks run before any request: every problem names the field and says what is wrong.

Field types are small JSON Schema fragments (the action table in `actions.py` is written with the
helpers below). Formats are checked here, not by jsonschema's optional format packages, so a
missing package can never silently switch a check off. Messages never repeat a field's value:
the value may be a secret (a webhook `signing_key`).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pendulum
from jsonschema import Draft7Validator, FormatChecker
from jsonschema.exceptions import FormatError, ValidationError

from calendly_http import uuid_of
from calendly_http.uris import foreign_host

Schema = dict[str, Any]

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
_ID_SEGMENT = r"[A-Za-z0-9][A-Za-z0-9_-]*"  # never `.`, `..` or an encoded character
_INVITEE_PATH = re.compile(rf"/scheduled_events/{_ID_SEGMENT}/invitees/{_ID_SEGMENT}/?$")
_ID_PREFIX = "id:"


# -- field types used by the action table ------------------------------------------------------


def text(max_length: int | None = None) -> Schema:
    return {"type": "string"} | ({"maxLength": max_length} if max_length else {})


def email() -> Schema:
    return {"type": "string", "format": "email"}


def date_time() -> Schema:
    return {"type": "string", "format": "date-time"}


def date() -> Schema:
    return {"type": "string", "format": "date"}


def url() -> Schema:
    return {"type": "string", "format": "url"}


def calendly_id(collection: str) -> Schema:
    """A full Calendly URI of `collection` or its bare UUID."""
    return {"type": "string", "format": f"{_ID_PREFIX}{collection}"}


def invitee_uri() -> Schema:
    """Invitee URIs nest under their event, so a bare UUID cannot be resolved."""
    return {"type": "string", "format": "invitee-uri"}


def integer(minimum: int | None = None, maximum: int | None = None) -> Schema:
    bounds = {"minimum": minimum, "maximum": maximum}
    return {"type": "integer"} | {k: v for k, v in bounds.items() if v is not None}


def boolean() -> Schema:
    return {"type": "boolean"}


def one_of(*values: Any) -> Schema:
    return {"enum": list(values)}


def array(items: Schema, *, max_items: int | None = None, unique: bool = False) -> Schema:
    schema: Schema = {"type": "array", "items": items, "minItems": 1}
    if max_items:
        schema["maxItems"] = max_items
    if unique:
        schema["uniqueItems"] = True
    return schema


def obj(properties: Mapping[str, Schema] | None = None, required: Sequence[str] = ()) -> Schema:
    schema: Schema = {"type": "object"}
    if properties:
        schema["properties"] = dict(properties)
    if required:
        schema["required"] = list(required)
    return schema


# -- the input spec of one action --------------------------------------------------------------


@dataclass(frozen=True)
class InputSpec:
    """Fields an action reads from a record; anything else in the record is kept but not sent.

    `required` lists field names, or tuples of alternatives ("no_show" or "invitee").
    `required_when` lists (field, value, needed): `needed` is required when `field == value`.
    `checks` run on the validated values; each returns a problem (naming its field) or None.
    `passthrough`: the record's other (non-empty) fields are kept as given, for actions whose
    request is made of whatever columns the record has (api_request).
    """

    fields: Mapping[str, Schema]
    required: tuple[str | tuple[str, ...], ...] = ()
    required_when: tuple[tuple[str, str, str], ...] = ()
    defaults: Mapping[str, Any] = field(default_factory=dict)
    checks: tuple[Callable[[Mapping[str, Any]], str | None], ...] = ()
    passthrough: bool = False

    def describe_required(self) -> str:
        names = [" or ".join(r) if isinstance(r, tuple) else r for r in self.required]
        return ", ".join(names) or "nothing"


class InvalidRecordError(Exception):
    """A record that must not be sent; `problems` each name a field and the reason."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))


def validate(spec: InputSpec, record: Mapping[str, Any]) -> dict[str, Any]:
    """The values to send (coerced, date-times in UTC), or InvalidRecordError listing problems.

    Empty strings count as absent: CSV taps send "" for empty cells.
    """
    values = {
        name: _coerce(spec.fields[name], value)
        for name, value in record.items()
        if name in spec.fields and value is not None and value != ""
    }
    problems = [*_missing(spec, values)]
    validator = Draft7Validator(
        {"type": "object", "properties": dict(spec.fields)}, format_checker=_FORMATS
    )
    errors = sorted(validator.iter_errors(values), key=lambda e: [str(p) for p in e.absolute_path])
    problems.extend(_describe(error) for error in errors)
    if problems:
        raise InvalidRecordError(problems)
    if spec.passthrough:
        values.update(
            (name, value)
            for name, value in record.items()
            if name not in spec.fields and value is not None and value != ""
        )
    for name, default in spec.defaults.items():
        values.setdefault(name, default)
    values = {
        name: _utc(value)
        if name in spec.fields and spec.fields[name].get("format") == "date-time"
        else value
        for name, value in values.items()
    }
    problems = [problem for check in spec.checks if (problem := check(values))]
    if problems:
        raise InvalidRecordError(problems)
    return values


def off_api_host(spec: InputSpec, values: Mapping[str, Any], api_url: str) -> list[str]:
    """Problems of id fields holding a URI on another host than api_url's (bare ids pass)."""
    problems = []
    for name, schema in spec.fields.items():
        if not _names_a_resource(schema.get("items", schema)):
            continue
        value = values.get(name)
        for item in value if isinstance(value, list) else [value]:
            host = foreign_host(item, api_url) if isinstance(item, str) else None
            if host is not None:
                problems.append(
                    f"field '{name}' must be a URI on api_url's host "
                    f"({urlsplit(api_url).netloc}) or a bare id; it names {host}"
                )
                break
    return problems


def _names_a_resource(schema: Schema) -> bool:
    format_name = str(schema.get("format", ""))
    return format_name.startswith(_ID_PREFIX) or format_name == "invitee-uri"


def moment(value: str) -> dt.datetime:
    """A validated date-time value as an aware datetime."""
    parsed = parse_date_time(value)
    if parsed is None:
        raise ValueError(f"not a date-time with an offset: {value!r}")
    return parsed


def parse_date_time(value: str) -> dt.datetime | None:
    """An RFC 3339 date-time (`Z` or an offset; any Python) as an aware datetime, else None."""
    try:
        parsed = pendulum.parse(value.upper(), exact=True, tz=None)  # RFC 3339 allows t and z
    except (ValueError, TypeError):  # pendulum's ParserError is a ValueError
        return None
    if not isinstance(parsed, dt.datetime) or parsed.tzinfo is None:
        return None
    return parsed


def _missing(spec: InputSpec, values: Mapping[str, Any]) -> Iterable[str]:
    for required in spec.required:
        alternatives = required if isinstance(required, tuple) else (required,)
        if not any(name in values for name in alternatives):
            names = " or ".join(f"'{name}'" for name in alternatives)
            yield f"field {names} is required"
    for name, value, needed in spec.required_when:
        if values.get(name) == value and needed not in values:
            yield f"field '{needed}' is required when '{name}' is '{value}'"


def _coerce(schema: Schema, value: Any) -> Any:
    """Strings from CSV-like taps into the JSON type the action expects (when unambiguous)."""
    if not isinstance(value, str):
        return value
    expected = schema.get("type")
    stripped = value.strip()
    if expected == "integer" and re.fullmatch(r"-?\d+", stripped):
        return int(stripped)
    if expected == "boolean" and stripped.lower() in ("true", "false"):
        return stripped.lower() == "true"
    if expected in ("array", "object") and stripped[:1] in ("[", "{"):
        try:
            return json.loads(stripped)
        except ValueError:
            return value
    return value


def _utc(value: str) -> str:
    return moment(value).astimezone(dt.timezone.utc).isoformat().replace("+00:00", "Z")


# -- formats ------------------------------------------------------------------------------------


def _is_date_time(value: str) -> bool:
    return "T" in value.upper() and parse_date_time(value) is not None


def _is_date(value: str) -> bool:
    try:
        parsed = pendulum.parse(value, exact=True)
    except (ValueError, TypeError):
        return False
    return type(parsed) is pendulum.Date and len(value) == 10


def _is_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _is_calendly_id(value: str, collection: str) -> bool:
    try:
        uuid_of(value)
    except ValueError:
        return False
    return not urlsplit(value).scheme or f"/{collection}/" in urlsplit(value).path


_CHECKS = {
    "email": lambda v: bool(_EMAIL.match(v)),
    "date-time": _is_date_time,
    "date": _is_date,
    "url": _is_url,
    "invitee-uri": lambda v: _is_url(v) and bool(_INVITEE_PATH.search(urlsplit(v).path)),
}

_FORMAT_WORDS = {
    "email": "an email address",
    "date-time": "an RFC 3339 date-time with a timezone, e.g. 2030-01-31T09:00:00Z",
    "date": "a date as YYYY-MM-DD",
    "url": "an http(s) URL",
    "invitee-uri": "an invitee URI (https://.../scheduled_events/<uuid>/invitees/<uuid>)",
}


class _Formats(FormatChecker):
    def __init__(self) -> None:
        super().__init__(formats=())

    def check(self, instance: object, format: str) -> None:
        if not isinstance(instance, str):
            return
        if format.startswith(_ID_PREFIX):
            ok = _is_calendly_id(instance, format.removeprefix(_ID_PREFIX))
        else:
            ok = _CHECKS[format](instance)
        if not ok:
            raise FormatError(f"not {format_words(format)}")


def format_words(format_name: str) -> str:
    if format_name.startswith(_ID_PREFIX):
        return f"a URI or UUID of {format_name.removeprefix(_ID_PREFIX)}"
    return _FORMAT_WORDS[format_name]


_FORMATS = _Formats()
_JSON_TYPES = {
    bool: "boolean",
    int: "integer",
    float: "number",
    str: "string",
    list: "array",
    dict: "object",
}


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    return next((name for kind, name in _JSON_TYPES.items() if isinstance(value, kind)), "number")


def _describe(error: ValidationError) -> str:
    path = ".".join(str(p) for p in error.absolute_path)
    where = f"field '{path}'"
    rule, limit = error.validator, error.validator_value
    if rule == "required":
        missing = [n for n in limit if n not in error.instance]
        prefix = f"{path}." if path else ""
        return f"field '{prefix}{missing[0] if missing else limit[0]}' is required"
    if rule == "type":
        expected = " or ".join(limit) if isinstance(limit, list) else limit
        return f"{where} must be of type {expected}, got {_json_type(error.instance)}"
    messages = {
        "format": lambda: f"{where} must be {format_words(str(limit))}",
        "enum": lambda: f"{where} must be one of {', '.join(json.dumps(v) for v in limit)}",
        "maxLength": lambda: f"{where} must be at most {limit} characters long",
        "minimum": lambda: f"{where} must be at least {limit}",
        "maximum": lambda: f"{where} must be at most {limit}",
        "minItems": lambda: f"{where} must have at least {limit} item(s)",
        "maxItems": lambda: f"{where} must have at most {limit} items",
        "uniqueItems": lambda: f"{where} must not repeat items",
    }
    if rule in messages:
        return messages[str(rule)]()
    return f"{where} fails the '{rule}' rule ({json.dumps(limit)})"


__all__ = [
    "InputSpec",
    "InvalidRecordError",
    "array",
    "boolean",
    "calendly_id",
    "date",
    "date_time",
    "email",
    "integer",
    "invitee_uri",
    "obj",
    "off_api_host",
    "one_of",
    "text",
    "url",
    "validate",
]
