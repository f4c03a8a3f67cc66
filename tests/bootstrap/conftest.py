"""Run the bootstrap program (bootstrap/__main__.py) under Pulumi's mock runtime, from its committed stack files.

The mocks answer like the provider for what the program reads back (ARNs, names) and record every resource with
the inputs the program declared, which is what these tests assert on.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pytest

from localcloud.program import PROJECT_DIR, StackOutput, reveal, run_program, stack_config

BOOTSTRAP_DIR = PROJECT_DIR / "bootstrap"
PROD_ACCOUNT = "111111111111"
DEV_ACCOUNT = "222222222222"
ACCOUNTS = {"prod": PROD_ACCOUNT, "dev": DEV_ACCOUNT}


@dataclass
class Recorded:
    typ: str
    name: str
    inputs: dict[str, Any]

    def policy(self, key: str = "policy") -> dict[str, Any]:
        return json.loads(self.inputs[key])


@dataclass
class FakeAccount(pulumi.runtime.Mocks):
    account_id: str
    resources: list[Recorded] = field(default_factory=list)

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict]:
        inputs = reveal(dict(args.inputs))
        self.resources.append(Recorded(args.typ, args.name, inputs))
        outputs = dict(args.inputs)
        if args.typ == "aws:iam/role:Role":
            path = inputs.get("path") or "/"
            outputs["arn"] = f"arn:aws:iam::{self.account_id}:role{path}{inputs['name']}"
            return inputs["name"], outputs
        if args.typ == "aws:iam/openIdConnectProvider:OpenIdConnectProvider":
            host = inputs["url"].removeprefix("https://")
            outputs["arn"] = f"arn:aws:iam::{self.account_id}:oidc-provider/{host}"
            return outputs["arn"], outputs
        return f"{args.name}-id", outputs

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict, list | None]:
        raise NotImplementedError(f"the bootstrap program called an invoke these tests do not mock: {args.token}")

    def of_type(self, typ: str) -> list[Recorded]:
        return [r for r in self.resources if r.typ == typ]

    def one(self, typ: str, name: str) -> Recorded:
        found = [r for r in self.of_type(typ) if r.name == name]
        assert len(found) == 1, f"expected one {typ} {name}, found {[r.name for r in self.of_type(typ)]}"
        return found[0]

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
