"""Put the repository's calendly_sandbox/ into the regular wheel, and nothing into an editable one.

hatchling's force-include table applies to editable wheels too, which would copy the package into
site-packages and shadow the checkout being edited; a hook can tell the two builds apart.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

HERE = Path(__file__).resolve().parent
# In the repository the package sits two folders up. In an unpacked sdist it is beside this
# file, where hatchling finds it by the project's name.
IN_REPOSITORY = HERE.parents[1] / "calendly_sandbox"


class SandboxPackageHook(BuildHookInterface):  # type: ignore[misc]
    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if version == "editable":
            return
        if (HERE / "calendly_sandbox" / "__init__.py").is_file():
            return
        if not (IN_REPOSITORY / "__init__.py").is_file():
            raise FileNotFoundError(f"calendly_sandbox package not found at {IN_REPOSITORY}")
        build_data["force_include"][str(IN_REPOSITORY)] = "calendly_sandbox"
