"""Small Pulumi projects written by the tests, and what they look at afterwards."""

from __future__ import annotations

import json
from pathlib import Path

from localcloud_pulumi.workspace import Workspace

PROD = "111111111111"
DEV = "222222222222"
REGION = "eu-west-1"

TRUST_LAMBDA = ('{\"Version\": \"2012-10-17\", \"Statement\": [{\"Effect\": \"Allow\", \"Principal\": '
                '{\"Service\": \"lambda.amazonaws.com\"}, \"Action\": \"sts:AssumeRole\"}]}')


def write_project(root: Path, main: str, config: dict[str, object], *, name: str = "driver-test",
                  stack: str = "test", account: str | None = PROD) -> Path:
    """A one-stack Pulumi project (stack ``test``) that may deploy into ``account`` (aws:allowedAccountIds)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "Pulumi.yaml").write_text(f"name: {name}\nruntime: python\n")
    guard: dict[str, object] = {"aws:allowedAccountIds": [account]} if account else {}
    (root / f"Pulumi.{stack}.yaml").write_text(json.dumps({"config": {
        "aws:region": REGION, **guard, **config}}))
    (root / "__main__.py").write_text(main)
    return root


def roles(workspace: Workspace, account: str) -> set[str]:
    return {r["RoleName"] for r in workspace.cloud.client("iam", account).list_roles()["Roles"]}
