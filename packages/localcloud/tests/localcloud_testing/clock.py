"""The type of the gate tests' ``at`` fixture (gate/conftest.py): set the time the cloud and botocore see."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

SetNow = Callable[[datetime], None]
