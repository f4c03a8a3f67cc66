"""Run the real program under Pulumi's mock runtime, against an in-memory record of resources.

The mocks answer like the provider would for what the program reads back (ids, ARNs, names) and record every
resource with the inputs the program declared, which is what these tests assert on.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pytest

from localcloud.program import StackOutput, reveal, run_program, stack_config

PROD_ACCOUNT = "111111111111"
DEV_ACCOUNT = "222222222222"
PROD_STACK_OUTPUTS = {
    "roleArn": f"arn:aws:iam::{PROD_ACCOUNT}:role/cross-account-s3-writer",
    "roleName": "cross-account-s3-writer",
    "bucketName": "data-1a2b3c4",
    "bucketArn": "arn:aws:s3:::data-1a2b3c4",
    "keyPrefix": "incoming/",
    "region": "eu-west-1",
    "mfaRequired": True,
    "maxSessionDuration": 3600,
    "externalId": "cross-account-s3-dev-writer",
}


@dataclass
class Recorded:
    typ: str
    name: str
    inputs: dict[str, Any]

    def policy(self, key: str = "policy") -> dict[str, Any]:
        return json.loads(self.inputs[key])


@dataclass
class FakeCloud(pulumi.runtime.Mocks):
    account_id: str
    region: str = "eu-west-1"
    stack_outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    resources: list[Recorded] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict]:
        self.resources.append(Recorded(args.typ, args.name, reveal(dict(args.inputs))))
        if args.typ == "pulumi:pulumi:StackReference":
            name = args.inputs["name"]
            if name not in self.stack_outputs:
                raise Exception(f"unknown stack {name}")
            return name, {"name": name, "outputs": self.stack_outputs[name], "secretOutputNames": ["externalId"]}
        outputs = dict(args.inputs)
        name = args.inputs.get("name") or args.inputs.get("bucket") or f"{args.name}-1a2b3c4"
        arns = {
            "aws:iam/role:Role": f"arn:aws:iam::{self.account_id}:role/{name}",
            "aws:iam/user:User": f"arn:aws:iam::{self.account_id}:user/{name}",
            "aws:iam/group:Group": f"arn:aws:iam::{self.account_id}:group/{name}",
            "aws:s3/bucket:Bucket": f"arn:aws:s3:::{name}",
            "aws:cloudwatch/logGroup:LogGroup": f"arn:aws:logs:{self.region}:{self.account_id}:log-group:{name}",
            "aws:lambda/function:Function": f"arn:aws:lambda:{self.region}:{self.account_id}:function:{name}",
        }
        if args.typ in arns:
            outputs.update(arn=arns[args.typ], name=name)
        if args.typ == "aws:s3/bucket:Bucket":
            outputs["bucket"] = name
        return name, outputs

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict, list | None]:
        self.calls.append(args.token)
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {"accountId": self.account_id, "arn": f"arn:aws:iam::{self.account_id}:user/deployer",
                    "userId": "AIDAEXAMPLE", "id": self.account_id}, []
        raise NotImplementedError(f"the program called an invoke these tests do not mock: {args.token}")

    def of_type(self, typ: str) -> list[Recorded]:
        return [r for r in self.resources if r.typ == typ]

    def one(self, typ: str, name: str | None = None) -> Recorded:
        found = [r for r in self.of_type(typ) if name is None or r.name == name]
        assert len(found) == 1, f"expected one {typ} {name or ''}, found {[r.name for r in found]}"
        return found[0]


@dataclass
class ProgramRun:
    cloud: FakeCloud
    exports: dict[str, StackOutput]

    def export(self, name: str) -> Any:
        return self.exports[name].value


def run_stack(stack: str, config: dict[str, str] | None = None, *, prod_outputs: dict | None = None) -> ProgramRun:
    account = PROD_ACCOUNT if stack == "prod" else DEV_ACCOUNT
    cloud = FakeCloud(account, stack_outputs={"organization/cross-account-s3/prod": prod_outputs or PROD_STACK_OUTPUTS})
    exports = run_program(stack, cloud, config=config)
    return ProgramRun(cloud, exports)


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
