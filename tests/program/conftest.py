"""Run the real program under Pulumi's mock runtime, against an in-memory record of resources.

The mocks answer like the provider would for what the program reads back (ids, ARNs, names) and record every
resource with the inputs the program declared, which is what these tests assert on.
"""

from __future__ import annotations

import copy
import functools
from dataclasses import dataclass
from typing import Any

import pytest

from localcloud_pulumi.program import StackOutput
from localcloud_pulumi.synth import GENERATED, RecordingMocks
from tests.project import run_program, stack_config, synth

PROD_ACCOUNT = "111111111111"
DEV_ACCOUNT = "222222222222"
PROD_STACK = "organization/cross-account-s3/prod"
PROD_STACK_OUTPUTS = {
    "roleArn": f"arn:aws:iam::{PROD_ACCOUNT}:role/cross-account-s3-writer",
    "roleName": "cross-account-s3-writer",
    "bucketName": f"data-{GENERATED}",
    "bucketArn": f"arn:aws:s3:::data-{GENERATED}",
    "keyPrefix": "incoming/",
    "region": "eu-west-1",
    "mfaRequired": True,
    "maxSessionDuration": 3600,
    "externalId": "cross-account-s3-dev-writer",
}


# The recording mocks are localcloud_pulumi.synth's (one implementation for the unit tests and the snapshots): they
# record each resource (.typ, .name, .inputs with secrets revealed, .parent) and every invoke (.calls), and
# answer with deterministic placeholders. FakeCloud(account_id) is the name these tests know them by.
FakeCloud = RecordingMocks


@dataclass
class ProgramRun:
    cloud: FakeCloud
    exports: dict[str, StackOutput]

    def export(self, name: str) -> Any:
        return self.exports[name].value


def run_stack(stack: str, config: dict[str, str] | None = None, *, prod_outputs: dict | None = None) -> ProgramRun:
    """Run a stack from its stack file (or `config`); dev's StackReference answers with `prod_outputs`."""
    account = PROD_ACCOUNT if stack == "prod" else DEV_ACCOUNT
    cloud = FakeCloud(account, stack_outputs={PROD_STACK: prod_outputs or PROD_STACK_OUTPUTS},
                      secret_outputs={PROD_STACK: ["externalId"]})
    exports = run_program(stack, cloud, config=config, monitor=cloud.monitor())
    return ProgramRun(cloud, exports)


def synthesized(stack: str) -> dict:
    """synth(stack) from the committed stack files, run once per session (snapshots and policy lint share it)."""
    return copy.deepcopy(_synthesized(stack))


@functools.cache
def _synthesized(stack: str) -> dict:
    return synth(stack)


@pytest.fixture
def prod_config() -> dict[str, str]:
    return stack_config("prod")


@pytest.fixture
def dev_config() -> dict[str, str]:
    return stack_config("dev")


@pytest.fixture
def prod_run() -> ProgramRun:
    return run_stack("prod")


@pytest.fixture
def dev_run() -> ProgramRun:
    return run_stack("dev")
