"""Fixtures for the harness's tests: one localcloud per test module (accounts prod and dev), a state directory per
test. The programs are the tests' own (harness_testing.projects), never this repository's."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from harness_testing.projects import DEV, PROD, REGION
from localcloud.running import RunningCloud
from localcloud_pulumi.workspace import Workspace


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    state_dir = tmp_path_factory.mktemp("localcloud")
    with RunningCloud.start({"prod": PROD, "dev": DEV}, REGION, state_dir) as running:
        yield Workspace(running, project_dir=state_dir)


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    return tmp_path / "state"
