"""Run the bootstrap program (bootstrap/__main__.py) under Pulumi's mock runtime, from its committed stack files.

The mocks answer like the provider for what the program reads back (ARNs, names) and record every resource with
the inputs the program declared, which is what these tests assert on.

The stacks are the committed stack files: bootstrap/Pulumi.<stack>.yaml, one per project stack (prod, the data
account; every other one a consumer account, as in the main program), each for the account its
aws:allowedAccountIds names.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from localcloud_pulumi.program import StackOutput, run_program, stack_config
from offline.stacks import PROJECT_DIR
from localcloud_pulumi.synth import Recorded, RecordingMocks

BOOTSTRAP_DIR = PROJECT_DIR / "bootstrap"
PROD_ACCOUNT = "111111111111"
DEV_ACCOUNT = "222222222222"
ANALYTICS_ACCOUNT = "333333333333"


def stack_names(directory: Path) -> list[str]:
    """The stacks with a stack file in `directory` (Pulumi.<stack>.yaml), prod first."""
    names = [path.name[len("Pulumi."):-len(".yaml")] for path in directory.glob("Pulumi.*.yaml")]
    return sorted(names, key=lambda name: (name != "prod", name))


BOOTSTRAP_STACKS = stack_names(BOOTSTRAP_DIR)
CONSUMER_STACKS = [stack for stack in BOOTSTRAP_STACKS if stack != "prod"]
PROJECT_STACKS = stack_names(PROJECT_DIR)
PROJECT_CONSUMER_STACKS = [stack for stack in PROJECT_STACKS if stack != "prod"]


def bootstrap_config(stack: str) -> dict[str, str]:
    return stack_config(stack, BOOTSTRAP_DIR)


def account_of(stack: str) -> str:
    """The one account a bootstrap stack file allows (tests/bootstrap/test_settings.py checks it is one)."""
    return json.loads(bootstrap_config(stack)["aws:allowedAccountIds"])[0]


ACCOUNTS = {stack: account_of(stack) for stack in BOOTSTRAP_STACKS}


class FakeAccount(RecordingMocks):
    """The recording mocks of synth (one implementation), with lookups by the bootstrap roles' purpose."""

    def role(self, purpose: str) -> Recorded:
        return self.one("aws:iam/role:Role", purpose)

    def trust(self, purpose: str) -> dict[str, Any]:
        return self.role(purpose).policy("assumeRolePolicy")

    def permissions(self, purpose: str) -> dict[str, Any]:
        return self.one("aws:iam/rolePolicy:RolePolicy", f"{purpose}-permissions").policy()


@dataclass
class BootstrapRun:
    account: FakeAccount
    exports: dict[str, StackOutput]

    def export(self, name: str) -> Any:
        return self.exports[name].value


def run_bootstrap(stack: str, config: dict[str, str] | None = None) -> BootstrapRun:
    """One bootstrap stack, from its stack file or from `config` (which may be a stack without a file)."""
    config = bootstrap_config(stack) if config is None else config
    account = FakeAccount(json.loads(config["aws:allowedAccountIds"])[0])
    exports = run_program(stack, account, config=config, project_dir=BOOTSTRAP_DIR)
    return BootstrapRun(account, exports)


@pytest.fixture(scope="module")
def runs() -> dict[str, BootstrapRun]:
    """Every committed bootstrap stack, run once per module."""
    return {stack: run_bootstrap(stack) for stack in BOOTSTRAP_STACKS}
