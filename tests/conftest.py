"""Fixtures shared by every test folder."""

import gc
from pathlib import Path

import pytest

PROJECT_DIR = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def project_dir() -> Path:
    return PROJECT_DIR


def pytest_configure(config: pytest.Config) -> None:
    """Young objects collected less often: moto, the program runs and hypothesis allocate in bursts, and each
    collection of the oldest generation scans everything the workers have imported (about 2 s per worker)."""
    gc.set_threshold(10_000, 10, 10)


def pytest_collection_finish(session: pytest.Session) -> None:
    """What collection imported stays: keep it out of every later collection."""
    gc.freeze()


def pytest_unconfigure(config: pytest.Config) -> None:
    """The process ends next. Interpreter shutdown would run the cyclic collector over every object the session
    imported or created (a second or more per pytest-xdist worker, waited for at the end of every run); frozen
    objects are left to the operating system instead."""
    gc.freeze()
