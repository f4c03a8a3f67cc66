"""Accounts, names and small builders for localcloud's tests: policies as JSON text, and a Builder that creates IAM
users, roles and buckets through the gate (tests share a module's LocalCloud, so every name is unique)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from typing import Any

from localcloud.server import LocalCloud

PROD = "111111111111"
DEV = "222222222222"
OTHER = "333333333333"
REGION = "eu-west-1"


def unique(prefix: str) -> str:
    """A resource name no other test uses (valid for S3 buckets, IAM names and session names)."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def policy(*statements: Mapping[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action: str | list[str], resource: str | list[str], **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def trust(principal: Mapping[str, Any] | str, **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole", **extra}


class Builder:
    """Creates IAM users, roles, buckets and KMS keys through the gate, as each account's deployer."""

    def __init__(self, cloud: LocalCloud) -> None:
        self.cloud = cloud

    def role(
        self,
        account: str,
        trust_statements: list[Mapping[str, Any]],
        *,
        permissions: list[Mapping[str, Any]] | None = None,
        max_session_duration: int | None = None,
        name: str | None = None,
    ) -> str:
        iam = self.cloud.client("iam", account)
        name = name or unique("role")
        kwargs: dict[str, Any] = {"RoleName": name, "AssumeRolePolicyDocument": policy(*trust_statements)}
        if max_session_duration:
            kwargs["MaxSessionDuration"] = max_session_duration
        arn = iam.create_role(**kwargs)["Role"]["Arn"]
        if permissions:
            iam.put_role_policy(RoleName=name, PolicyName="permissions", PolicyDocument=policy(*permissions))
        return arn

    def user(self, account: str, statements: list[Mapping[str, Any]] | None = None) -> tuple[str, dict[str, str]]:
        """A new IAM user with an inline policy; returns (user name, boto3 credentials)."""
        iam = self.cloud.client("iam", account)
        name = unique("user")
        iam.create_user(UserName=name)
        if statements:
            iam.put_user_policy(UserName=name, PolicyName="permissions", PolicyDocument=policy(*statements))
        key = iam.create_access_key(UserName=name)["AccessKey"]
        return name, {"aws_access_key_id": key["AccessKeyId"], "aws_secret_access_key": key["SecretAccessKey"]}

    def bucket(self, account: str, bucket_policy: list[Mapping[str, Any]] | None = None) -> str:
        s3 = self.cloud.client("s3", account)
        name = unique("bucket")
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
        if bucket_policy:
            s3.put_bucket_policy(Bucket=name, Policy=policy(*bucket_policy))
        return name

    def key(self, account: str, key_policy: list[Mapping[str, Any]] | None = None, *, alias: str | None = None) -> str:
        """A KMS key made by the account's deployer: its key ARN. Without ``key_policy`` the key gets the default key
        policy (the account root, kms:*); with one, the lockout safety check is bypassed, so a policy that leaves the
        deployer out can be written."""
        kms = self.cloud.client("kms", account)
        kwargs: dict[str, Any] = {}
        if key_policy is not None:
            kwargs = {"Policy": policy(*key_policy), "BypassPolicyLockoutSafetyCheck": True}
        arn = str(kms.create_key(**kwargs)["KeyMetadata"]["Arn"])
        if alias:
            kms.create_alias(AliasName=f"alias/{alias}", TargetKeyId=arn)
        return arn

    def assume(self, role_arn: str, *, credentials: Mapping[str, str] | None = None, account: str | None = None,
               **kwargs: Any) -> dict[str, str]:
        sts = self.cloud.client("sts", account, credentials=credentials)
        return sts.assume_role(RoleArn=role_arn, RoleSessionName=unique("session"), **kwargs)["Credentials"]
