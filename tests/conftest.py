"""Fixtures shared by every test folder of the project (localcloud's pytest plugin adds the gate's invariant)."""

from pathlib import Path

import pytest

from offline.stacks import PROJECT_DIR


@pytest.fixture(scope="session")
def project_dir() -> Path:
    return PROJECT_DIR
