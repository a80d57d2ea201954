"""The project files survive Meltano's own CLI: after `meltano select`, `meltano config set` and
`meltano add` rewrite meltano.yml (re-quoting, reordering keys, dropping comments, expanding
anchors), the drift check still finds the plugins' definitions current; and the Hub definitions in
hub/ give an existing project exactly what `--about` says when added with `meltano add --from-ref`."""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.e2e.test_project_files import REPO_ROOT, load_sync_docs

pytestmark = pytest.mark.slow
MELTANO = Path(sys.executable).parent / "meltano"
sync_docs = load_sync_docs()


def meltano(project: Path, *args: str) -> str:
    env = {
        **os.environ,
        "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
        "MELTANO_DISABLE_USER_YAML_CONFIG": "true",
        "MELTANO_SYS_DIR_ROOT": str(project / ".meltano"),
    }
    result = subprocess.run(
        [str(MELTANO), *args], cwd=project, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, f"meltano {' '.join(args)}:\n{result.stderr[-3000:]}"
    return result.stdout


@pytest.fixture(scope="module")
def abouts() -> dict[str, dict[str, Any]]:
    return sync_docs.abouts()


@pytest.fixture(scope="module")
def rewritten(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of this project after a user's usual CLI session."""
    project = tmp_path_factory.mktemp("project")
    shutil.copy(REPO_ROOT / "meltano.yml", project / "meltano.yml")
    jsonl = project / "target-jsonl.yml"
    jsonl.write_text(
        yaml.safe_dump(
            {
                "name": "target-jsonl",
                "namespace": "target_jsonl",
                "variant": "andyh1203",
                "label": "JSON Lines",
                "pip_url": "target-jsonl",
                "settings": [{"name": "destination_path", "kind": "string"}],
            }
        )
    )
    meltano(project, "select", "tap-calendly", "users", "*")
    meltano(project, "select", "tap-calendly", "scheduled_events", "uri")
    meltano(project, "config", "set", "tap-calendly", "start_date", "2025-01-01T00:00:00Z")
    meltano(project, "--environment", "prod", "config", "set", "target-calendly", "dry_run", "true")
    meltano(project, "add", "loader", "target-jsonl", "--from-ref", str(jsonl), "--no-install")
    return project


def test_the_cli_really_rewrote_the_file(rewritten: Path) -> None:
    text = (rewritten / "meltano.yml").read_text()
    assert text != (REPO_ROOT / "meltano.yml").read_text()
    project = yaml.safe_load(text)
    tap = sync_docs.project_plugin(project, "tap-calendly")
    assert tap["select"] == ["users.*", "scheduled_events.uri"]
    assert tap["config"]["start_date"] == "2025-01-01T00:00:00Z"
    assert "target-jsonl" in {p["name"] for p in project["plugins"]["loaders"]}


def test_drift_check_passes_on_the_rewritten_file(
    rewritten: Path, abouts: Mapping[str, Mapping[str, Any]]
) -> None:
    assert sync_docs.meltano_yml_drift(rewritten / "meltano.yml", abouts) == []


def test_secrets_stay_sensitive_in_the_rewritten_file(rewritten: Path) -> None:
    project = yaml.safe_load((rewritten / "meltano.yml").read_text())
    for name in ("tap-calendly", "target-calendly"):
        settings = sync_docs.project_plugin(project, name)["settings"]
        sensitive = {s["name"] for s in settings if s.get("sensitive")}
        assert {"token", "client_secret", "refresh_token"} <= sensitive, name


def test_drift_check_names_what_changed(
    rewritten: Path, abouts: Mapping[str, Mapping[str, Any]], tmp_path: Path
) -> None:
    project = yaml.safe_load((rewritten / "meltano.yml").read_text())
    settings = sync_docs.project_plugin(project, "target-calendly")["settings"]
    next(s for s in settings if s["name"] == "client_secret").pop("sensitive")
    settings.append({"name": "bogus", "kind": "string"})
    changed = tmp_path / "meltano.yml"
    changed.write_text(yaml.safe_dump(project))

    problems = sync_docs.meltano_yml_drift(changed, abouts)

    assert any("target-calendly: setting client_secret" in p for p in problems), problems
    assert any("target-calendly: setting bogus is not in --about" in p for p in problems), problems


def test_generator_keeps_what_the_cli_wrote(
    rewritten: Path, abouts: Mapping[str, Mapping[str, Any]]
) -> None:
    """Regenerating after a CLI rewrite (here: a setting the plugin dropped) keeps select and config."""
    before = (rewritten / "meltano.yml").read_text()
    tap = sync_docs.project_plugin(yaml.safe_load(before), "tap-calendly")
    changed = {name: copy.deepcopy(dict(data)) for name, data in abouts.items()}
    del changed["tap-calendly"]["settings"]["properties"]["lookback_days"]

    after = yaml.safe_load(sync_docs.render_meltano_yml(before, changed))

    tap_after = sync_docs.project_plugin(after, "tap-calendly")
    assert tap_after["select"] == tap["select"] and tap_after["config"] == tap["config"]
    assert [s["name"] for s in tap_after["settings"]] == [
        s["name"] for s in tap["settings"] if s["name"] != "lookback_days"
    ]
    assert (
        sync_docs.definition_drift(
            "x", tap_after, sync_docs.project_definition(changed["tap-calendly"])
        )
        == []
    )


def declared_plugins(project: Path) -> list[tuple[str, str]]:
    """(plugin type, name) of every plugin meltano.yml declares."""
    plugins = yaml.safe_load((project / "meltano.yml").read_text()).get("plugins") or {}
    return [(kind, plugin["name"]) for kind, listed in plugins.items() for plugin in listed]


@pytest.mark.parametrize("name", [*sync_docs.PLUGIN_TYPES, *sync_docs.HUB_LOADERS])
def test_hub_definition_added_to_an_existing_project(
    name: str, tmp_path: Path, abouts: Mapping[str, Mapping[str, Any]]
) -> None:
    """What docs/installing.md tells a user to run: `meltano add <name> --from-ref <hub file>`
    adds that one plugin, with the definition's pip_url and settings, and nothing else."""
    meltano(tmp_path, "init", "existing", "--no_usage_stats")
    project = tmp_path / "existing"
    before = declared_plugins(project)
    hub_file = sync_docs.hub_path(REPO_ROOT, name)
    definition = yaml.safe_load(hub_file.read_text())
    meltano(project, "add", name, "--from-ref", str(hub_file), "--no-install")

    plugin_type = "loaders" if name in sync_docs.HUB_LOADERS else sync_docs.PLUGIN_TYPES[name]
    assert declared_plugins(project) == [*before, (plugin_type, name)]
    declared = yaml.safe_load((project / "meltano.yml").read_text())["plugins"][plugin_type][-1]
    assert declared["pip_url"] == definition["pip_url"]
    assert declared["executable"] == definition["executable"]
    assert declared["settings"] == definition["settings"]
    if name in abouts:
        assert sync_docs.meltano_yml_drift(project / "meltano.yml", {name: abouts[name]}) == []


def test_the_type_word_form_adds_a_second_plugin(tmp_path: Path) -> None:
    """Why the docs name the plugin only: Meltano 4 takes `extractor` for a plugin name too."""
    meltano(tmp_path, "init", "existing", "--no_usage_stats")
    project = tmp_path / "existing"
    hub_file = sync_docs.hub_path(REPO_ROOT, "tap-calendly")
    meltano(
        project, "add", "extractor", "tap-calendly", "--from-ref", str(hub_file), "--no-install"
    )

    added = [entry for entry in declared_plugins(project) if entry[1] == "tap-calendly"]
    assert sorted(added) == [("extractors", "tap-calendly"), ("utilities", "tap-calendly")]


def test_generator_keeps_hand_written_comments(abouts: Mapping[str, Mapping[str, Any]]) -> None:
    """Comments outside the generated keys survive regeneration, also those right after a block."""
    text = (REPO_ROOT / "meltano.yml").read_text()
    changed = {name: copy.deepcopy(dict(data)) for name, data in abouts.items()}
    del changed["tap-calendly"]["settings"]["properties"]["flattening_separator"]

    rendered = sync_docs.render_meltano_yml(text, changed)

    comments = [line.strip() for line in text.splitlines() if line.strip().startswith("#")]
    assert comments and all(comment in rendered for comment in comments)


def test_many_organizations_snippet_works(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """docs/many-organizations.md's inherit_from / jobs / schedules example, merged into this
    project, is what Meltano runs: one job per organization, each tap with its own token."""
    section = (REPO_ROOT / "docs" / "many-organizations.md").read_text()
    snippet = yaml.safe_load(section.split("```yaml\n", 1)[1].split("```", 1)[0])
    project = yaml.safe_load((REPO_ROOT / "meltano.yml").read_text())
    for kind, plugins in snippet["plugins"].items():
        project["plugins"][kind] += plugins
    project["jobs"], project["schedules"] = snippet["jobs"], snippet["schedules"]
    (tmp_path / "meltano.yml").write_text(yaml.safe_dump(project, sort_keys=False))

    jobs = meltano(tmp_path, "job", "list")
    assert "calendly-acme: ['tap-calendly--acme target-postgres--acme']" in jobs
    monkeypatch.setenv("CALENDLY_TOKEN", "the-parent-token")
    monkeypatch.setenv("CALENDLY_TOKEN_ACME", "acme-token")
    printed = meltano(
        tmp_path, "--environment", "prod", "config", "--unsafe", "print", "tap-calendly--acme"
    )
    assert json.loads(printed)["token"] == "acme-token"
