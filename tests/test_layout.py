"""The layers, as imports: the emulator imports nothing of the harness or of this project, and the harness nothing
of this project (README, "Layout")."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from offline.stacks import PROJECT_DIR

PROJECT_PACKAGES = {"components", "lambda_handler", "bootstrap", "offline", "tests", "bench"}
FORBIDDEN = {
    "packages/localcloud/src/localcloud": {"localcloud_pulumi", "pulumi", "pulumi_aws", *PROJECT_PACKAGES},
    "packages/localcloud-pulumi/src/localcloud_pulumi": PROJECT_PACKAGES,
}


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    names |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module and
              not node.level}
    return {name.split(".")[0] for name in names}


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_a_layer_imports_nothing_of_the_layers_above_it(package: str):
    found = {f"{path.relative_to(PROJECT_DIR)} imports {name}"
             for path in (PROJECT_DIR / package).rglob("*.py")
             for name in imported_packages(path) & FORBIDDEN[package]}
    assert not found, sorted(found)
