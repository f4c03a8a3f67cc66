"""Fixtures shared by every test folder."""

from pathlib import Path

import pytest

from localcloud import collector

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
