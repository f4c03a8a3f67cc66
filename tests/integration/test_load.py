"""Concurrent callers: every invocation writes exactly its object, and warm workers reuse their role session.

The full-size run (500 invocations from 8 callers) is in bench/run.py; this is the same code, smaller.
"""

import pytest

from bench.load import run_load

pytestmark = pytest.mark.integration


def test_concurrent_invocations_write_each_object_once_and_assume_once_per_worker(workspace):
    result = run_load(workspace, total=32, callers=4)
    assert result.failures == 0
    assert result.objects == result.right_bytes == result.versions == 32
    assert 1 <= result.workers <= 4
    assert result.assume_calls == result.workers  # one AssumeRole per warm worker, not per invocation
