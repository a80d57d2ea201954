"""Regenerate what meltano.yml, hub/ and README.md say about the two plugins, from their `--about`.

Usage: python scripts/sync_docs.py [--check]

- meltano.yml: each Calendly plugin's `capabilities`, `settings` and `settings_group_validation`,
  edited in place as YAML (a ruamel round trip: comments and everything else stay as they are).
- hub/: the Meltano Hub plugin definitions, extractors/tap-calendly/<variant>.yml and
  loaders/target-calendly/<variant>.yml (whole files).
- README.md: each plugin's settings section, between marker comments (`--about --format markdown`).

The check compares meaning, not text: meltano.yml and the hub files are parsed and their values
compared with what `--about` says, so a meltano.yml that Meltano's own CLI rewrote (`meltano
select`, `config set`, `add`: it re-quotes, reorders keys, drops comments, expands anchors) passes
as long as it still says the same. With --check nothing is written; the exit code is 1 on drift.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import tomllib
from collections.abc import Callable, Mapping
from functools import partial
from pathlib import Path
from typing import Any

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

REPO_ROOT = Path(__file__).resolve().parents[1]
GENERATOR = "scripts/sync_docs.py"

# What a Meltano Hub definition says that `--about` does not.
PLUGIN_TYPES = {"tap-calendly": "extractors", "target-calendly": "loaders"}
NAMESPACES = {"tap-calendly": "tap_calendly", "target-calendly": "target_calendly"}
HUB_DESCRIPTIONS = {
    "tap-calendly": "Scheduling platform: users, event types, scheduled events and invitees, "
    "routing forms, availability, webhooks and the activity log",
    "target-calendly": "Scheduling platform: cancel events, mark no-shows, create single-use "
    "scheduling links, invite or remove users, GDPR deletions, from warehouse records",
}
HUB_KEYWORDS = {
    "tap-calendly": ["api", "meltano_sdk", "scheduling"],
    "target-calendly": ["api", "meltano_sdk", "scheduling", "reverse_etl"],
}
# Complete credential sets; calendly_http.settings.ClientSettings.from_config accepts exactly these.
CREDENTIAL_GROUPS = [
    ["token"],
    ["client_id", "client_secret", "refresh_token"],
    ["client_id", "client_secret", "refresh_token_path"],
]


def repository_url() -> str:
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    url: str = project["project"]["urls"]["Repository"]
    return url.rstrip("/")


def variant() -> str:
    """The Hub variant is the repository's owner, as for every Hub plugin."""
    return repository_url().split("/")[-2].lower()


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


# -- plugin definitions (meltano.yml and hub/) ----------------------------------------------------

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
        for variant_schema in schema.get(key, []):
            found.extend(json_types(variant_schema))
    return [t for t in dict.fromkeys(found) if t != "null"]


def meltano_kind(schema: Mapping[str, Any]) -> str:
    types = json_types(schema)
    if types == ["string"] and schema.get("enum"):
        return "options"
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


def setting_definition(name: str, schema: Mapping[str, Any]) -> dict[str, Any]:
    """One Meltano setting, keys in the order Meltano itself writes them."""
    kind = meltano_kind(schema)
    setting: dict[str, Any] = {
        "name": name,
        "kind": kind,
        "label": label(name, schema),
        "description": " ".join(str(schema.get("description") or label(name, schema)).split()),
    }
    if schema.get("secret") or schema.get("writeOnly"):
        setting["sensitive"] = True
    if kind == "options":
        setting["options"] = [
            {"label": str(v), "value": v} for v in schema["enum"] if v is not None
        ]
    return setting


def project_definition(about_data: Mapping[str, Any]) -> dict[str, Any]:
    """What meltano.yml declares for a plugin, derived from its `--about`."""
    properties: Mapping[str, Any] = about_data.get("settings", {}).get("properties", {})
    return {
        "capabilities": list(about_data.get("capabilities", [])),
        "settings_group_validation": [list(group) for group in CREDENTIAL_GROUPS],
        "settings": [setting_definition(name, schema) for name, schema in properties.items()],
    }


def hub_definition(name: str, about_data: Mapping[str, Any]) -> dict[str, Any]:
    """The plugin's Meltano Hub definition (the Hub's extractor / loader YAML shape)."""
    repo = repository_url()
    return {
        "name": name,
        "namespace": NAMESPACES[name],
        "variant": variant(),
        "label": "Calendly",
        "description": HUB_DESCRIPTIONS[name],
        "logo_url": f"/assets/logos/{PLUGIN_TYPES[name]}/calendly.png",
        "domain_url": "https://developer.calendly.com/api-docs",
        "pip_url": f"git+{repo}.git",
        "executable": name,
        "repo": repo,
        "docs": f"{repo}#readme",
        "keywords": HUB_KEYWORDS[name],
        "maintenance_status": "beta",
        "quality": "silver",
        **project_definition(about_data),
    }


def hub_path(root: Path, name: str) -> Path:
    return root / "hub" / PLUGIN_TYPES[name] / name / f"{variant()}.yml"


def _meaning(definition: Mapping[str, Any]) -> dict[str, Any]:
    """A definition reduced to what it means: orders and spelling that Meltano ignores dropped."""
    meaning = {k: v for k, v in definition.items() if k not in {"capabilities", "settings"}}
    meaning["capabilities"] = sorted(definition.get("capabilities") or [])
    meaning["settings"] = {s["name"]: dict(s) for s in definition.get("settings") or []}
    groups = definition.get("settings_group_validation") or []
    meaning["settings_group_validation"] = sorted(sorted(group) for group in groups)
    return meaning


def definition_drift(where: str, found: Mapping[str, Any], wanted: Mapping[str, Any]) -> list[str]:
    """Each difference in meaning, named: `where: settings.on_error: kind is 'string', --about says 'options'`."""
    have, want = _meaning(found), _meaning(wanted)
    problems = []
    for key in sorted(set(want) - {"settings"}):
        if have.get(key) != want[key]:
            problems.append(f"{where}: {key} is {have.get(key)!r}, --about says {want[key]!r}")
    for setting in sorted(set(have["settings"]) | set(want["settings"])):
        if setting not in want["settings"]:
            problems.append(f"{where}: setting {setting} is not in --about")
        elif setting not in have["settings"]:
            problems.append(f"{where}: setting {setting} is missing")
        elif have["settings"][setting] != want["settings"][setting]:
            problems.append(
                f"{where}: setting {setting} is {have['settings'][setting]}, "
                f"--about says {want['settings'][setting]}"
            )
    return problems


def project_plugin(meltano_yml: Mapping[str, Any], name: str) -> Mapping[str, Any] | None:
    for plugin in (meltano_yml.get("plugins") or {}).get(PLUGIN_TYPES[name]) or []:
        if plugin.get("name") == name:
            found: Mapping[str, Any] = plugin
            return found
    return None


def meltano_yml_drift(path: Path, abouts: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """What a project file says about the plugins that `--about` does not (parsed, not diffed)."""
    project = yaml.safe_load(path.read_text(encoding="utf-8"))
    problems = []
    for name, about_data in abouts.items():
        plugin = project_plugin(project, name)
        if plugin is None:
            problems.append(f"{path.name}: plugin {name} is not declared")
            continue
        wanted = project_definition(about_data)
        found = {key: plugin.get(key) for key in wanted}
        problems += definition_drift(f"{path.name} {name}", found, wanted)
    return problems


def hub_drift(root: Path, abouts: Mapping[str, Mapping[str, Any]]) -> list[str]:
    problems = []
    for name, about_data in abouts.items():
        path = hub_path(root, name)
        if not path.exists():
            problems.append(f"{path.relative_to(root)} is missing")
            continue
        found = yaml.safe_load(path.read_text(encoding="utf-8"))
        problems += definition_drift(
            str(path.relative_to(root)), found, hub_definition(name, about_data)
        )
    return problems


def _round_trip_yaml() -> YAML:
    rt = YAML()
    rt.preserve_quotes = True
    rt.width = 4096
    rt.indent(mapping=2, sequence=2, offset=0)
    return rt


def _commented(value: Any) -> Any:
    if isinstance(value, Mapping):
        return CommentedMap((k, _commented(v)) for k, v in value.items())
    if isinstance(value, list):
        return CommentedSeq(_commented(v) for v in value)
    return value


def _last_slot(node: Any) -> tuple[Any, Any] | None:
    """The innermost (container, key) that ends a YAML node: where ruamel keeps the comment lines
    that follow it (e.g. the comment above the next plugin)."""
    slot = None
    while isinstance(node, CommentedMap | CommentedSeq) and len(node):
        key = list(node)[-1] if isinstance(node, CommentedMap) else len(node) - 1
        slot, node = (node, key), node[key]
    return slot


def _move_trailing_comment(old: Any, new: Any) -> None:
    old_slot, new_slot = _last_slot(old), _last_slot(new)
    if old_slot is None or new_slot is None:
        return
    (old_node, old_key), (new_node, new_key) = old_slot, new_slot
    entry = old_node.ca.items.pop(old_key, None)
    position = 2 if isinstance(old_node, CommentedMap) else 0
    if not entry or entry[position] is None:
        return
    slot = [None, None, None, None] if isinstance(new_node, CommentedMap) else [None]
    slot[2 if isinstance(new_node, CommentedMap) else 0] = entry[position]
    new_node.ca.items[new_key] = slot


def render_meltano_yml(text: str, abouts: Mapping[str, Mapping[str, Any]]) -> str:
    """The file with each plugin's generated keys replaced in place; comments elsewhere are kept,
    including those that follow a replaced block."""
    rt = _round_trip_yaml()
    project = rt.load(text)
    for name, about_data in abouts.items():
        plugin = project_plugin(project, name)
        if plugin is None:
            raise SystemExit(f"meltano.yml declares no {PLUGIN_TYPES[name][:-1]} {name}")
        for key, value in project_definition(about_data).items():
            new = _commented(value)
            if key in plugin:
                _move_trailing_comment(plugin[key], new)
            plugin[key] = new  # type: ignore[index]
    out = io.StringIO()
    rt.dump(project, out)
    return out.getvalue()


def render_hub_file(name: str, about_data: Mapping[str, Any]) -> str:
    header = f"# Generated by {GENERATOR} from `{name} --about --format json`: do not edit.\n"
    body = yaml.safe_dump(
        hub_definition(name, about_data), sort_keys=False, allow_unicode=True, width=100
    )
    return header + body


# -- README.md ------------------------------------------------------------------------------------


def replace_block(
    text: str, begin_pattern: str, end_marker: str, render: Callable[[str], list[str]]
) -> str:
    """Replace the lines between the line matching `begin_pattern` and the next `end_marker` line."""
    match = re.search(rf"^(?P<indent>[ \t]*){begin_pattern}.*\n", text, flags=re.MULTILINE)
    if match is None:
        raise SystemExit(f"marker not found: {begin_pattern!r}")
    end = text.find(end_marker, match.end())
    if end < 0:
        raise SystemExit(f"end marker {end_marker!r} missing after {begin_pattern!r}")
    end_line_start = text.rfind("\n", 0, end) + 1
    inner = "".join(line + "\n" for line in render(match["indent"]))
    return text[: match.end()] + inner + text[end_line_start:]


def readme_section(markdown: str, _indent: str) -> list[str]:
    """The `--about --format markdown` text, its headings moved under the README's level-2 heading."""
    lines = []
    for line in markdown.strip().splitlines():
        heading = re.match(r"^(#+) (.*)$", line)
        lines.append(f"##{heading[1]} {heading[2]}" if heading else line.rstrip())
    return lines


def render_readme(text: str, markdowns: Mapping[str, str]) -> str:
    for name, markdown in markdowns.items():
        text = replace_block(
            text,
            re.escape(f"<!-- >>> {name} settings: generated"),
            "<!-- <<< ",
            partial(readme_section, markdown),
        )
    return text


# -- main -----------------------------------------------------------------------------------------


def abouts() -> dict[str, dict[str, Any]]:
    return {name: about_json(name) for name in PLUGIN_TYPES}


def drift(root: Path = REPO_ROOT) -> list[str]:
    """Every way the project's files disagree with the plugins' `--about`; empty when current."""
    about_data = abouts()
    problems = meltano_yml_drift(root / "meltano.yml", about_data)
    problems += hub_drift(root, about_data)
    readme = (root / "README.md").read_text(encoding="utf-8")
    markdowns = {name: about(name, "markdown") for name in PLUGIN_TYPES}
    if render_readme(readme, markdowns) != readme:
        problems.append("README.md: a generated settings section is out of date")
    return problems


def write(root: Path = REPO_ROOT) -> list[str]:
    """Regenerate every managed file; returns the ones that changed."""
    about_data = abouts()
    markdowns = {name: about(name, "markdown") for name in PLUGIN_TYPES}
    wanted = {root / "README.md": render_readme((root / "README.md").read_text("utf-8"), markdowns)}
    meltano_yml = root / "meltano.yml"
    if meltano_yml_drift(meltano_yml, about_data):  # rewrite only when the meaning differs
        wanted[meltano_yml] = render_meltano_yml(meltano_yml.read_text("utf-8"), about_data)
    for name, data in about_data.items():
        wanted[hub_path(root, name)] = render_hub_file(name, data)
    changed = []
    for path, text in wanted.items():
        if path.exists() and path.read_text(encoding="utf-8") == text:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        changed.append(str(path.relative_to(root)))
    return changed


def main(argv: list[str]) -> int:
    if "--check" in argv:
        problems = drift()
        for problem in problems:
            print(problem, file=sys.stderr)
        if problems:
            print(f"run `python {GENERATOR}`", file=sys.stderr)
        return 1 if problems else 0
    for name in write():
        print(f"rewrote {name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
