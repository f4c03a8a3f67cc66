"""Fixtures shared by every test folder."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from localcloud import collector
from localcloud.gate import invariant

PROJECT_DIR = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def project_dir() -> Path:
    return PROJECT_DIR


def pytest_collection_finish(session: pytest.Session) -> None:
    """What collection imported stays, and young objects are collected less often (localcloud.collector)."""
    collector.after_imports()


def pytest_unconfigure(config: pytest.Config) -> None:
    """The worker ends next: no last collection over everything it imported and created."""
    collector.before_exit()


@pytest.fixture(autouse=True)
def moto_executed_what_the_gate_authorized() -> Iterator[None]:
    """The whole-suite invariant: no request of any test made moto execute another operation, or act on another
    resource, than the gate authorized (localcloud.gate.invariant)."""
    before = len(invariant.recorded())
    yield
    new = invariant.recorded()[before:]
    assert not new, "moto executed something the gate did not authorize:\n" + "\n".join(new)
