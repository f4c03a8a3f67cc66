"""localcloud's pytest plugin, loaded wherever localcloud is installed (entry point pytest11):

- the whole-suite invariant: a test fails when any of its requests made moto execute another operation, or act on
  another resource, than the gate authorized (localcloud.gate.invariant);
- what collection imported stays out of later garbage collections, and a worker skips the last one at exit
  (localcloud.collector).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from localcloud import collector
from localcloud.gate import invariant


def pytest_collection_finish(session: pytest.Session) -> None:
    collector.after_imports()


def pytest_unconfigure(config: pytest.Config) -> None:
    collector.before_exit()


@pytest.fixture(autouse=True)
def moto_executed_what_the_gate_authorized() -> Iterator[None]:
    before = len(invariant.recorded())
    yield
    new = invariant.recorded()[before:]
    assert not new, "moto executed something the gate did not authorize:\n" + "\n".join(new)
