"""Deployers of the tests' own: IAM users with chosen permissions, their keys as the environment carries them,
and a one-role program."""

from __future__ import annotations

import json
import uuid
from typing import Any

from harness_testing.projects import TRUST_LAMBDA
from localcloud_pulumi.workspace import Workspace

ADMIN = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


def role_program(name: str) -> str:
    return f"import pulumi_aws as aws\naws.iam.Role('role', name='{name}', assume_role_policy='{TRUST_LAMBDA}')\n"


def new_user(workspace: Workspace, account: str, policy: dict[str, Any] | None = None) -> tuple[str, dict[str, str]]:
    """An IAM user of ``account`` with ``policy`` inline (none: no permissions at all), and its keys as the
    environment carries them."""
    iam = workspace.cloud.client("iam", account)
    name = f"deployer-{uuid.uuid4().hex[:8]}"
    iam.create_user(UserName=name)
    if policy:
        iam.put_user_policy(UserName=name, PolicyName="deploy", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return name, {"AWS_ACCESS_KEY_ID": key["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"]}


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"
