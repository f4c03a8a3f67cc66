"""AWS managed policies, as every account has them: attachable by ARN, read by GetPolicy, listed by ListPolicies,
and deciding the requests of the identities they are attached to, as session policies and as boundaries.

Pages: policies_managed-vs-inline.html ("AWS managed policies"), API_ListPolicies.html (Scope),
API_AssumeRole.html (PolicyArns), access_policies_boundaries.html.
"""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from localcloud.server import LocalCloud
from localcloud_testing.builders import DEV, Builder, allow, policy, trust, unique

S3_READ_ONLY = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
LAMBDA_BASIC = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
TRUST_DEV = trust({"AWS": f"arn:aws:iam::{DEV}:root"})


def session_s3(build: Builder, role_arn: str, **assume: Any):
    return build.cloud.client("s3", "dev", credentials=_keys(build.assume(role_arn, account="dev", **assume)))


def _keys(credentials: dict[str, str]) -> dict[str, str]:
    return {"aws_access_key_id": credentials["AccessKeyId"], "aws_secret_access_key": credentials["SecretAccessKey"],
            "aws_session_token": credentials["SessionToken"]}


def bucket_with_object(build: Builder) -> str:
    bucket = build.bucket("dev")
    build.cloud.client("s3", "dev").put_object(Bucket=bucket, Key="seed.txt", Body=b"seed")
    return bucket


def keys_of(cloud: LocalCloud, bucket: str) -> list[str]:
    return [item["Key"] for item in cloud.client("s3", "dev").list_objects_v2(Bucket=bucket).get("Contents", [])]


def assert_reads_but_cannot_write(cloud: LocalCloud, s3: Any, bucket: str) -> None:
    """What AmazonS3ReadOnlyAccess allows: the seed object is read; a write is denied and writes nothing."""
    assert s3.get_object(Bucket=bucket, Key="seed.txt")["Body"].read() == b"seed"
    with pytest.raises(ClientError) as raised:
        s3.put_object(Bucket=bucket, Key="written.txt", Body=b"x")
    assert raised.value.response["Error"]["Code"] == "AccessDenied"
    assert keys_of(cloud, bucket) == ["seed.txt"]


def test_an_aws_managed_policy_is_attachable_by_arn_in_every_account(build: Builder):
    for account in ("prod", "dev"):
        iam = build.cloud.client("iam", account)
        role = unique("lambda")
        iam.create_role(RoleName=role, AssumeRolePolicyDocument=policy(TRUST_DEV))

        iam.attach_role_policy(RoleName=role, PolicyArn=LAMBDA_BASIC)

        attached = iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]
        assert attached == [{"PolicyName": "AWSLambdaBasicExecutionRole", "PolicyArn": LAMBDA_BASIC}]
        assert iam.get_policy(PolicyArn=S3_READ_ONLY)["Policy"]["PolicyName"] == "AmazonS3ReadOnlyAccess"


def test_an_aws_policy_that_does_not_exist_is_no_such_entity(build: Builder):
    iam = build.cloud.client("iam", "dev")
    role = unique("role")
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=policy(TRUST_DEV))

    with pytest.raises(ClientError) as raised:
        iam.attach_role_policy(RoleName=role, PolicyArn="arn:aws:iam::aws:policy/NoSuchManagedPolicy")

    assert raised.value.response["Error"]["Code"] == "NoSuchEntity"
    assert iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"] == []


def test_an_attached_aws_managed_policy_decides_the_sessions_requests(build: Builder):
    bucket = bucket_with_object(build)
    role_arn = build.role("dev", [TRUST_DEV])
    build.cloud.client("iam", "dev").attach_role_policy(RoleName=role_arn.rsplit("/", 1)[1], PolicyArn=S3_READ_ONLY)
    s3 = session_s3(build, role_arn)

    assert_reads_but_cannot_write(build.cloud, s3, bucket)


def test_an_aws_managed_session_policy_narrows_the_session(build: Builder):
    bucket = bucket_with_object(build)
    role_arn = build.role("dev", [TRUST_DEV], permissions=[allow("s3:*", "*")])
    s3 = session_s3(build, role_arn, PolicyArns=[{"arn": S3_READ_ONLY}])

    assert_reads_but_cannot_write(build.cloud, s3, bucket)


def test_an_aws_managed_permissions_boundary_bounds_the_role(build: Builder):
    bucket = bucket_with_object(build)
    iam = build.cloud.client("iam", "dev")
    role = unique("bounded")
    role_arn = iam.create_role(RoleName=role, AssumeRolePolicyDocument=policy(TRUST_DEV),
                               PermissionsBoundary=S3_READ_ONLY)["Role"]["Arn"]
    iam.put_role_policy(RoleName=role, PolicyName="everything", PolicyDocument=policy(allow("s3:*", "*")))
    s3 = session_s3(build, role_arn)

    assert_reads_but_cannot_write(build.cloud, s3, bucket)


def test_list_policies_lists_aws_managed_ones_unless_the_scope_is_local(build: Builder):
    iam = build.cloud.client("iam", "prod")
    own = iam.create_policy(PolicyName=unique("own"), PolicyDocument=policy(allow("s3:GetObject", "*")))["Policy"]

    def listed(scope: str) -> set[str]:
        pages = iam.get_paginator("list_policies").paginate(Scope=scope)
        return {item["Arn"] for page in pages for item in page["Policies"]}

    aws, local = listed("AWS"), listed("Local")
    assert {S3_READ_ONLY, LAMBDA_BASIC} <= aws and len(aws) > 1000  # AWS has well over a thousand
    assert own["Arn"] in local and not any(":iam::aws:" in arn for arn in local)
    assert listed("All") == aws | local


def test_a_users_permissions_boundary_is_refused_and_no_user_is_created(build: Builder):
    iam = build.cloud.client("iam", "dev")
    name = unique("bounded-user")

    with pytest.raises(ClientError) as raised:
        iam.create_user(UserName=name, PermissionsBoundary=S3_READ_ONLY)

    assert raised.value.response["Error"]["Code"] == "InvalidInput"
    assert "permissions boundaries of users" in raised.value.response["Error"]["Message"]
    assert name not in {user["UserName"] for user in iam.list_users()["Users"]}
