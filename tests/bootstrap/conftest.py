"""Run the bootstrap program (bootstrap/__main__.py) under Pulumi's mock runtime, from its committed stack files.

The mocks answer like the provider for what the program reads back (ARNs, names) and record every resource with
the inputs the program declared, which is what these tests assert on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from localcloud_pulumi.program import StackOutput, run_program, stack_config
from offline.stacks import PROJECT_DIR
from localcloud_pulumi.synth import Recorded, RecordingMocks

BOOTSTRAP_DIR = PROJECT_DIR / "bootstrap"
PROD_ACCOUNT = "111111111111"
DEV_ACCOUNT = "222222222222"
ACCOUNTS = {"prod": PROD_ACCOUNT, "dev": DEV_ACCOUNT}


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


def bootstrap_config(stack: str) -> dict[str, str]:
    return stack_config(stack, BOOTSTRAP_DIR)


def run_bootstrap(stack: str, config: dict[str, str] | None = None) -> BootstrapRun:
    account = FakeAccount(ACCOUNTS[stack])
    exports = run_program(stack, account, config=config, project_dir=BOOTSTRAP_DIR)
    return BootstrapRun(account, exports)


@pytest.fixture(scope="module")
def prod_bootstrap() -> BootstrapRun:
    return run_bootstrap("prod")


@pytest.fixture(scope="module")
def dev_bootstrap() -> BootstrapRun:
    return run_bootstrap("dev")
