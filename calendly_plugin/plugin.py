"""Behaviour both plugins share at the command line: clean stops and secret-safe config errors."""

from __future__ import annotations

import difflib
import sys
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

from singer_sdk.exceptions import ConfigValidationError

from calendly_http.errors import CalendlyError, ConfigError
from calendly_plugin.sdk_compat import ConfigValidationHook

# The distribution that installs both commands: `--version` and `--about` read its metadata
# (version, the Python versions in its classifiers).
DISTRIBUTION = "calendly-connectors"


def secret_setting_values(config: Mapping[str, Any], schema: Mapping[str, Any]) -> list[str]:
    """Every string inside a setting the schema marks secret, at any depth and of any type."""
    properties = schema.get("properties", {})
    secret_keys = [key for key, spec in properties.items() if spec.get("secret")]
    return sorted(
        {text for key in secret_keys for text in _strings(config.get(key)) if text},
        key=len,
        reverse=True,
    )


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)
    elif value is not None:
        yield str(value)


class CalendlyPlugin(ConfigValidationHook):
    """Mixin for the tap and target classes (put it first among the bases).

    - A setting the plugin does not know (a misspelt `dry_run`...) is refused before anything is
      sent, with the nearest valid name. Known: every setting of its config_jsonschema, the SDK's
      built-ins for its capabilities included (even those a plugin leaves out of `--about`).
    - A config that fails schema validation is reported without echoing secret values (jsonschema
      quotes the offending value, e.g. a token given as a list).
    - Expected stops (bad settings, Calendly refusing the credentials...) end with one clear error
      line and exit code 1, not a traceback.
    """

    package_name: ClassVar[str | None] = DISTRIBUTION
    expected_stops: ClassVar[tuple[type[BaseException], ...]] = (ConfigError, CalendlyError)

    @classmethod
    def append_builtin_config(cls, config_jsonschema: dict[str, Any]) -> None:
        super().append_builtin_config(config_jsonschema)  # type: ignore[misc]
        config_jsonschema["propertyNames"] = {"enum": sorted(config_jsonschema["properties"])}

    def on_invalid_config(
        self, error: ConfigValidationError, config: Mapping[str, Any]
    ) -> ConfigValidationError:
        schema = error.schema or {}
        known: list[str] = schema.get("propertyNames", {}).get("enum", [])
        unknown = [name for name in config if known and name not in known]
        # jsonschema's own words for an unknown name list every known one; ours name the nearest.
        raw_unknown = {f"{name!r} is not one of {known!r}" for name in unknown}
        secrets = secret_setting_values(config, schema)
        plugin: str = self.name  # type: ignore[attr-defined]
        errors = [unknown_setting(plugin, name, known) for name in unknown] + [
            _redact(e, secrets) for e in error.errors if e not in raw_unknown
        ]
        return ConfigValidationError(str(error), errors=errors, schema=error.schema)

    @classmethod
    def invoke(cls, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().invoke(*args, **kwargs)  # type: ignore[misc]
        except cls.expected_stops as exc:
            cls.logger.error("%s", exc)  # type: ignore[attr-defined]
            sys.exit(1)


def unknown_setting(plugin: str, name: str, known: list[str]) -> str:
    # 0.75: a typo (tokn, dry_runn) scores 0.89 and up; batch_config vs faker_config, 0.67
    nearest = difflib.get_close_matches(name.lower(), known, n=1, cutoff=0.75)
    hint = (
        f"did you mean `{nearest[0]}`?" if nearest else f"see `{plugin} --about` for its settings"
    )
    return f"Setting `{name}` is not a setting of {plugin}: {hint}"


def _redact(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, "***")
    return text
