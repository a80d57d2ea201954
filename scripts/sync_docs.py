"""Regenerate what meltano.yml and README.md say about the plugins' settings, from the plugins.

Usage: python scripts/sync_docs.py [--check]

Sources: `tap-calendly --about --format json|markdown` and the same for `target-calendly`.
Targets, each between its marker lines (everything outside the markers is hand-written):
- meltano.yml: each Calendly plugin's `capabilities` and `settings` (kind, label, description,
  `sensitive: true` for secrets);
- README.md: each plugin's settings section, the `--about --format markdown` output as it is.
With --check nothing is written; the exit code is 1 when a file is out of date.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable, Mapping
from functools import partial
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
PLUGINS = ("tap-calendly", "target-calendly")
GENERATOR = "scripts/sync_docs.py"


def executable(name: str) -> str:
    """The plugin's console script in the interpreter's own environment (the repo's .venv)."""
    candidate = Path(sys.executable).parent / name
    if not candidate.exists():
        raise SystemExit(f"{name} is not installed in {candidate.parent}; run `make install` first")
    return str(candidate)


def about(name: str, fmt: str) -> str:
    result = subprocess.run(
        [executable(name), "--about", "--format", fmt],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return result.stdout


def about_json(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(about(name, "json"))
    return data


# -- meltano.yml ----------------------------------------------------------------------------------

_KIND_BY_TYPE = {
    "boolean": "boolean",
    "integer": "integer",
    "number": "decimal",
    "array": "array",
    "object": "object",
}


def json_types(schema: Mapping[str, Any]) -> list[str]:
    """The non-null JSON types a property schema allows (looking into anyOf/oneOf)."""
    found: list[str] = []
    declared = schema.get("type")
    if isinstance(declared, str):
        found.append(declared)
    elif isinstance(declared, list):
        found.extend(declared)
    for key in ("anyOf", "oneOf"):
        for variant in schema.get(key, []):
            found.extend(json_types(variant))
    return [t for t in dict.fromkeys(found) if t != "null"]


def meltano_kind(schema: Mapping[str, Any]) -> str:
    types = json_types(schema)
    if len(types) == 1 and types[0] in _KIND_BY_TYPE:
        return _KIND_BY_TYPE[types[0]]
    if types == ["string"] and schema.get("format") == "date-time":
        return "date_iso8601"
    if "object" in types:
        return "object"
    return "string"


_ACRONYMS = {"api": "API", "url": "URL", "id": "ID", "oauth": "OAuth", "uri": "URI"}


def label(name: str, schema: Mapping[str, Any]) -> str:
    title = schema.get("title")
    if isinstance(title, str) and title:
        return title
    words = [_ACRONYMS.get(word, word) for word in name.split("_")]
    return " ".join([words[0][:1].upper() + words[0][1:], *words[1:]])


def _yaml_str(text: str) -> str:
    """A YAML scalar for any text: JSON strings are valid YAML, and deterministic."""
    return json.dumps(text, ensure_ascii=False)


def settings_lines(about_data: Mapping[str, Any], indent: str) -> list[str]:
    properties: Mapping[str, Any] = about_data.get("settings", {}).get("properties", {})
    lines = [f"{indent}settings:"]
    for name, schema in properties.items():
        lines.append(f"{indent}- name: {name}")
        lines.append(f"{indent}  kind: {meltano_kind(schema)}")
        if schema.get("secret") or schema.get("writeOnly"):
            lines.append(f"{indent}  sensitive: true")
        lines.append(f"{indent}  label: {_yaml_str(label(name, schema))}")
        description = " ".join(str(schema.get("description") or label(name, schema)).split())
        lines.append(f"{indent}  description: {_yaml_str(description)}")
    return lines


def capabilities_lines(about_data: Mapping[str, Any], indent: str) -> list[str]:
    capabilities = ", ".join(about_data.get("capabilities", []))
    return [f"{indent}capabilities: [{capabilities}]"]


def replace_block(
    text: str, begin_pattern: str, end_marker: str, render: Callable[[str], list[str]]
) -> str:
    """Replace the lines between the line matching `begin_pattern` and the next `end_marker` line.

    `render` gets the begin line's indentation and returns the new inner lines.
    """
    match = re.search(rf"^(?P<indent>[ \t]*){begin_pattern}.*\n", text, flags=re.MULTILINE)
    if match is None:
        raise SystemExit(f"marker not found: {begin_pattern!r}")
    end = text.find(end_marker, match.end())
    if end < 0:
        raise SystemExit(f"end marker {end_marker!r} missing after {begin_pattern!r}")
    end_line_start = text.rfind("\n", 0, end) + 1
    inner = "".join(line + "\n" for line in render(match["indent"]))
    return text[: match.end()] + inner + text[end_line_start:]


def render_meltano_yml(text: str, abouts: Mapping[str, Mapping[str, Any]]) -> str:
    for name in PLUGINS:
        data = abouts[name]
        text = replace_block(
            text,
            re.escape(f"# >>> capabilities: generated from `{name} --about"),
            "# <<< capabilities",
            partial(capabilities_lines, data),
        )
        text = replace_block(
            text,
            re.escape(f"# >>> settings: generated from `{name} --about"),
            "# <<< settings",
            partial(settings_lines, data),
        )
    return text


# -- README.md ------------------------------------------------------------------------------------


def readme_section(markdown: str, _indent: str) -> list[str]:
    """The `--about --format markdown` text, its headings moved under the README's level-2 heading."""
    lines = []
    for line in markdown.strip().splitlines():
        heading = re.match(r"^(#+) (.*)$", line)
        lines.append(f"##{heading[1]} {heading[2]}" if heading else line.rstrip())
    return lines


def render_readme(text: str, markdowns: Mapping[str, str]) -> str:
    for name in PLUGINS:
        markdown = markdowns[name]
        text = replace_block(
            text,
            re.escape(f"<!-- >>> {name} settings: generated"),
            "<!-- <<< ",
            partial(readme_section, markdown),
        )
    return text


# -- main -----------------------------------------------------------------------------------------


def rendered_files() -> dict[Path, tuple[str, str]]:
    """Each managed file: (current text, text it should have)."""
    abouts = {name: about_json(name) for name in PLUGINS}
    markdowns = {name: about(name, "markdown") for name in PLUGINS}
    meltano_yml = REPO_ROOT / "meltano.yml"
    readme = REPO_ROOT / "README.md"
    current_yml = meltano_yml.read_text(encoding="utf-8")
    current_readme = readme.read_text(encoding="utf-8")
    return {
        meltano_yml: (current_yml, render_meltano_yml(current_yml, abouts)),
        readme: (current_readme, render_readme(current_readme, markdowns)),
    }


def main(argv: list[str]) -> int:
    check = "--check" in argv
    stale = []
    for path, (current, wanted) in rendered_files().items():
        if current == wanted:
            continue
        stale.append(path.name)
        if not check:
            path.write_text(wanted, encoding="utf-8")
    if check and stale:
        print(f"out of date: {', '.join(stale)}; run `python {GENERATOR}`", file=sys.stderr)
        return 1
    for name in stale:
        print(f"rewrote {name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
