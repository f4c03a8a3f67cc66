"""The AWS CLI profiles `make up` writes: each account's deployer (prod, dev), the dev user (dev-user) and the
writer role assumed from that user (prod-writer), so `aws --profile prod-writer s3 ls ...` works as documented."""

from __future__ import annotations

import json
import time

from localcloud.principals import totp
from localcloud.running import Profile, deployer_profiles, write_profiles
from localcloud_pulumi.deploy import DeployError
from localcloud_pulumi.program import stack_config
from localcloud_pulumi.workspace import Workspace

DEV_USER_PROFILE = "dev-user"
WRITER_PROFILE = "prod-writer"


def write_project_profiles(workspace: Workspace) -> list[Profile]:
    region = workspace.cloud.region
    writer = {"role_arn": workspace.output("prod", "roleArn"), "source_profile": DEV_USER_PROFILE,
              "role_session_name": f"{DEV_USER_PROFILE}-cli", "region": workspace.output("prod", "region")}
    if "externalId" in workspace.outputs["prod"]:
        writer["external_id"] = workspace.output("prod", "externalId")
    profiles = [*deployer_profiles(workspace.cloud),
                Profile(DEV_USER_PROFILE, {"region": region}, dev_user_credentials(workspace)),
                Profile(WRITER_PROFILE, writer)]
    write_profiles(workspace.state_dir, workspace.cloud, profiles)
    return profiles


def dev_user_credentials(workspace: Workspace) -> dict[str, str]:
    """Keys for the first member of the dev group; MFA-backed session credentials when prod requires MFA."""
    users = json.loads(stack_config("dev", workspace.project_dir).get("cross-account-s3:groupUsers", "[]"))
    if not users:
        raise DeployError("Pulumi.dev.yaml names no groupUsers: there is no dev user to write a profile for")
    user = users[0]
    iam = workspace.cloud.client("iam", "dev")
    key = iam.create_access_key(UserName=user)["AccessKey"]
    long_term = {"aws_access_key_id": key["AccessKeyId"], "aws_secret_access_key": key["SecretAccessKey"]}
    if not workspace.output("prod", "mfaRequired"):
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
