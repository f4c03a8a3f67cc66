"""Fixtures for localcloud's tests: one LocalCloud per test module, in two accounts (localcloud_testing.builders has
the names and builders)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from localcloud.server import LocalCloud
from localcloud_testing.builders import DEV, PROD, REGION, Builder


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloud]:
    state_dir: Path = tmp_path_factory.mktemp("localcloud")
    with LocalCloud({"prod": PROD, "dev": DEV}, REGION, state_dir) as running:
        yield running


@pytest.fixture
def build(cloud: LocalCloud) -> Builder:
    return Builder(cloud)
