"""The AWS CLI profiles `make up` writes, per grant: each account's deployer (prod, dev, analytics, ...), each
consumer's user (`<stack>-user`, the first member of its group) and `prod-<grant>`, the grant's role assumed from
that user, so `aws --profile prod-dev-writer s3 ls ...` works as documented."""

from __future__ import annotations

import json
import shlex
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from localcloud.principals import totp
from localcloud.running import Profile, deployer_profiles, write_profiles
from localcloud_pulumi.program import stack_config
from localcloud_pulumi.workspace import Workspace
from offline.stacks import DATA_STACK


@dataclass(frozen=True)
class Consumer:
    """A deployed consumer stack, as the profiles and the demo see it."""

    stack: str
    grant: str
    access: str
    workload: str  # writer, reader or none (cross-account-s3:workload)
    user: str | None  # the first member of its group, if it has one

    @property
    def user_profile(self) -> str:
        return f"{self.stack}-user"

    @property
    def role_profile(self) -> str:
        return f"prod-{self.grant}"


def consumers(workspace: Workspace) -> list[Consumer]:
    found = []
    for stack in workspace.outputs:
        if stack == DATA_STACK:
            continue
        config = stack_config(stack, workspace.project_dir)
        users = json.loads(config.get("cross-account-s3:groupUsers", "[]"))
        found.append(Consumer(stack, workspace.output(stack, "grant"), workspace.output(stack, "access"),
                              config.get("cross-account-s3:workload", "writer"), users[0] if users else None))
    return found


def write_project_profiles(workspace: Workspace) -> list[Profile]:
    profiles = deployer_profiles(workspace.cloud)
    grants = workspace.output(DATA_STACK, "grants")
    external_ids = workspace.output(DATA_STACK, "grantExternalIds") or {}
    for consumer in consumers(workspace):
        if consumer.user is None:
            continue
        grant = grants[consumer.grant]
        role = role_profile(grant, consumer, external_ids.get(consumer.grant), workspace.output(DATA_STACK, "region"))
        profiles += [Profile(consumer.user_profile, {"region": workspace.cloud.region},
                             user_credentials(workspace, consumer.stack, consumer.user, grant["mfaRequired"])),
                     Profile(consumer.role_profile, role)]
    write_profiles(workspace.state_dir, workspace.cloud, profiles)
    return profiles


def role_profile(grant: dict[str, Any], consumer: Consumer, external_id: str | None, region: str) -> dict[str, str]:
    """The grant's role assumed from the consumer's user, as the consumer's cliProfile output has it; a grant that
    requires a source identity gets the user's own name through a credential_process (offline.credential_process,
    as the AWS CLI's config cannot set one)."""
    assert consumer.user is not None
    session_name = f"{consumer.user}-cli"
    if grant.get("sourceIdentity") == "required":
        # The script by its path: it needs only boto3, and runs from whatever directory the CLI is called in.
        words = [sys.executable, str(Path(__file__).with_name("credential_process.py")),
                 "--profile", consumer.user_profile, "--role-arn", grant["roleArn"],
                 "--role-session-name", session_name, "--source-identity", consumer.user]
        if external_id:
            words += ["--external-id", external_id]
        return {"credential_process": shlex.join(words), "region": region}
    role = {"role_arn": grant["roleArn"], "source_profile": consumer.user_profile, "role_session_name": session_name,
            "region": region}
    if external_id:
        role["external_id"] = external_id
    return role


def user_credentials(workspace: Workspace, stack: str, user: str, mfa: bool) -> dict[str, str]:
    """Keys for a consumer's user; MFA-backed session credentials when its grant requires MFA."""
    iam = workspace.cloud.client("iam", stack)
    key = iam.create_access_key(UserName=user)["AccessKey"]
    long_term = {"aws_access_key_id": key["AccessKeyId"], "aws_secret_access_key": key["SecretAccessKey"]}
    if not mfa:
        return long_term
    device = iam.create_virtual_mfa_device(VirtualMFADeviceName=user)["VirtualMFADevice"]
    seed = device["Base32StringSeed"]
    seed = seed.decode() if isinstance(seed, bytes) else seed
    now = time.time()
    iam.enable_mfa_device(UserName=user, SerialNumber=device["SerialNumber"],
                          AuthenticationCode1=totp(seed, now - 30), AuthenticationCode2=totp(seed, now))
    sts = workspace.cloud.client("sts", credentials=long_term)
    session = sts.get_session_token(SerialNumber=device["SerialNumber"], TokenCode=totp(seed, now),
                                    DurationSeconds=43200)["Credentials"]
    return {"aws_access_key_id": session["AccessKeyId"], "aws_secret_access_key": session["SecretAccessKey"],
            "aws_session_token": session["SessionToken"]}

