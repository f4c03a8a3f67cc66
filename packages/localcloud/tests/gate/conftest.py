"""Fixtures of the gate's tests."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest

from localcloud.server import LocalCloud
from localcloud_testing.clock import SetNow


@pytest.fixture
def at(cloud: LocalCloud, monkeypatch: pytest.MonkeyPatch) -> SetNow:
    """Sets the gate's clock, and botocore's, so requests are signed at that time too."""
    assert cloud.gate is not None
    gate = cloud.gate

    def set_now(moment: datetime) -> None:
        monkeypatch.setattr(gate, "clock", lambda: moment)
        monkeypatch.setattr("botocore.auth.get_current_datetime", lambda *_, **__: moment.replace(tzinfo=None))

    return set_now


@pytest.fixture
def no_reading_mismatch(cloud: LocalCloud) -> Iterator[None]:
    """After the test: the gate saw no request that moto executed otherwise than it was authorized."""
    yield
    assert cloud.gate is not None and cloud.gate.violations == []
