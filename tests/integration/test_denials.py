"""What must be denied, each case asserting the denial and that nothing was written.

Each test undoes the admin change it makes, so the cases do not depend on each other's order.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest
from botocore.exceptions import ClientError

from tests.project import stack_config
from tests.integration.conftest import invoke, keys_in, recycle_workers

pytestmark = pytest.mark.integration


def assert_denied(call, code: str = "AccessDenied") -> ClientError:
    with pytest.raises(ClientError) as caught:
        call()
    assert caught.value.response["Error"]["Code"] == code, caught.value.response["Error"]
    return caught.value


@pytest.fixture
def writer_session(workspace, role_arn, external_id, dev_user_credentials):
    """Credentials of the prod role, assumed the documented way: dev-user (MFA session) with the external ID."""
    sts = workspace.cloud.client("sts", credentials=dev_user_credentials)
    return sts.assume_role(RoleArn=role_arn, RoleSessionName=f"test-{uuid.uuid4().hex[:8]}",
                           ExternalId=external_id)["Credentials"]


def test_dev_deployer_cannot_write_to_prod_bucket_directly(workspace, prod_s3, bucket, object_key):
    dev_s3 = workspace.cloud.client("s3", "dev")  # an administrator of dev, but prod grants dev nothing
    assert_denied(lambda: dev_s3.put_object(Bucket=bucket, Key=object_key, Body=b"x"))
    assert object_key not in keys_in(prod_s3, bucket)


def test_dev_principal_not_in_trust_policy_is_denied(workspace, role_arn, external_id):
    dev_iam = workspace.cloud.client("iam", "dev")
    dev_account = workspace.cloud.account_id("dev")
    name = f"intruder-{uuid.uuid4().hex[:8]}"
    # A dev role that its own account lets assume the prod role: only prod's aws:PrincipalArn list stops it.
    dev_iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{dev_account}:root"}, "Action": "sts:AssumeRole"}]}))
    dev_iam.put_role_policy(RoleName=name, PolicyName="assume-prod", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": role_arn}]}))
    intruder = workspace.cloud.client("sts", "dev").assume_role(
        RoleArn=f"arn:aws:iam::{dev_account}:role/{name}", RoleSessionName="intruder")["Credentials"]
    sts = workspace.cloud.client("sts", credentials=intruder)
    assert_denied(lambda: sts.assume_role(RoleArn=role_arn, RoleSessionName="denied", ExternalId=external_id))


def test_lambda_without_its_assume_permission_is_denied(workspace, dev_lambda, prod_s3, bucket, role_arn):
    dev_iam = workspace.cloud.client("iam", "dev")
    execution_role = workspace.output("dev", "executionRoleArn").split("/")[-1]
    policy_name = "assume-prod-writer-role"
    saved = dev_iam.get_role_policy(RoleName=execution_role, PolicyName=policy_name)["PolicyDocument"]
    dev_iam.delete_role_policy(RoleName=execution_role, PolicyName=policy_name)
    recycle_workers(workspace)
    before = keys_in(prod_s3, bucket)
    try:
        result, error = invoke(dev_lambda, workspace.output("dev", "functionName"), {"body": "must not land"})
        assert error is None and result["statusCode"] == 403, result
        assert role_arn in json.loads(result["body"])["message"]
        assert keys_in(prod_s3, bucket) == before
    finally:
        document = saved if isinstance(saved, str) else json.dumps(saved)
        dev_iam.put_role_policy(RoleName=execution_role, PolicyName=policy_name, PolicyDocument=document)
        recycle_workers(workspace)


def test_role_cannot_write_outside_its_prefix(workspace, writer_session, prod_s3, bucket, prefix):
    s3 = workspace.cloud.client("s3", credentials=writer_session)
    outside = f"elsewhere/{uuid.uuid4()}.txt"
    assert_denied(lambda: s3.put_object(Bucket=bucket, Key=outside, Body=b"x"))
    assert_denied(lambda: s3.list_objects_v2(Bucket=bucket))  # listing without the prefix
    assert outside not in keys_in(prod_s3, bucket)
    inside = f"{prefix}{uuid.uuid4()}.txt"  # the same session may write where it is meant to
    s3.put_object(Bucket=bucket, Key=inside, Body=b"x")
    assert inside in keys_in(prod_s3, bucket)


def test_role_cannot_write_to_another_bucket(workspace, writer_session, prefix):
    other = f"other-{uuid.uuid4().hex[:10]}"
    prod_s3 = workspace.cloud.client("s3", "prod")
    prod_s3.create_bucket(Bucket=other, CreateBucketConfiguration={"LocationConstraint": workspace.cloud.region})
    s3 = workspace.cloud.client("s3", credentials=writer_session)
    key = f"{prefix}{uuid.uuid4()}.txt"
    assert_denied(lambda: s3.put_object(Bucket=other, Key=key, Body=b"x"))
    assert keys_in(prod_s3, other) == set()


@pytest.mark.parametrize("external_id", ["wrong-external-id", None], ids=["wrong", "missing"])
def test_assume_without_the_right_external_id_is_denied(workspace, role_arn, dev_user_credentials, external_id):
    sts = workspace.cloud.client("sts", credentials=dev_user_credentials)
    extra = {"ExternalId": external_id} if external_id else {}
    assert_denied(lambda: sts.assume_role(RoleArn=role_arn, RoleSessionName="denied", **extra))


def test_dev_user_without_mfa_is_denied(workspace, role_arn, external_id):
    dev_iam = workspace.cloud.client("iam", "dev")
    user = json.loads(stack_config("dev")["cross-account-s3:groupUsers"])[0]
    key = dev_iam.create_access_key(UserName=user)["AccessKey"]
    try:
        sts = workspace.cloud.client("sts", credentials={"aws_access_key_id": key["AccessKeyId"],
                                                         "aws_secret_access_key": key["SecretAccessKey"]})
        assert_denied(lambda: sts.assume_role(RoleArn=role_arn, RoleSessionName="denied", ExternalId=external_id))
    finally:
        dev_iam.delete_access_key(UserName=user, AccessKeyId=key["AccessKeyId"])


def test_plain_http_is_denied_by_the_tls_only_bucket_policy(workspace, bucket, object_key, prod_s3):
    insecure = workspace.cloud.client("s3", "prod", secure=False)  # even the prod administrator
    assert_denied(lambda: insecure.put_object(Bucket=bucket, Key=object_key, Body=b"x"))
    assert object_key not in keys_in(prod_s3, bucket)


def test_session_issued_before_a_revocation_is_denied(workspace, writer_session, prod_s3, bucket, prefix,
                                                      role_arn):
    session = workspace.cloud.client("s3", credentials=writer_session)
    allowed_before = f"{prefix}{uuid.uuid4()}.txt"
    session.put_object(Bucket=bucket, Key=allowed_before, Body=b"x")  # the session works until revoked
    prod_iam = workspace.cloud.client("iam", "prod")
    role_name = role_arn.split("/")[-1]
    # What the console's "Revoke active sessions" attaches to the role: sessions issued before now are denied.
    revoked_at = (datetime.now(timezone.utc) + timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    prod_iam.put_role_policy(RoleName=role_name, PolicyName="AWSRevokeOlderSessions", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": ["*"], "Resource": ["*"],
                                                "Condition": {"DateLessThan": {"aws:TokenIssueTime": revoked_at}}}]}))
    try:
        key = f"{prefix}{uuid.uuid4()}.txt"
        assert_denied(lambda: session.put_object(Bucket=bucket, Key=key, Body=b"x"))
        assert key not in keys_in(prod_s3, bucket)
        assert allowed_before in keys_in(prod_s3, bucket)
    finally:
        prod_iam.delete_role_policy(RoleName=role_name, PolicyName="AWSRevokeOlderSessions")


@contextlib.contextmanager
def prod_redeployed_with(workspace, **overrides: str) -> Iterator[list[str]]:
    """prod deployed again with changed config (the changes made), then restored; fresh Lambda workers both ways,
    since warm ones keep the role session they already hold."""
    config = stack_config("prod")
    changes = workspace.deploy("prod", config | {f"cross-account-s3:{k}": v for k, v in overrides.items()})
    recycle_workers(workspace)
    try:
        yield changes
    finally:
        workspace.deploy("prod", config)
        recycle_workers(workspace)


def assert_lambda_denied_and_writes_nothing(workspace, dev_lambda, prod_s3, bucket) -> None:
    before = keys_in(prod_s3, bucket)
    result, _ = invoke(dev_lambda, workspace.output("dev", "functionName"), {"body": "must not land"})
    assert result["statusCode"] == 403, result
    assert keys_in(prod_s3, bucket) == before


def test_lambda_fails_when_the_trust_policy_no_longer_names_it(workspace, dev_lambda, prod_s3, bucket):
    with prod_redeployed_with(workspace, trustedRoleNames='["someone-else"]') as changes:
        assert changes == ["~ update aws:iam/role:Role writer-role"]  # the trust policy, updated in place
        assert_lambda_denied_and_writes_nothing(workspace, dev_lambda, prod_s3, bucket)


def test_lambda_fails_when_the_s3_policy_grants_another_prefix(workspace, dev_lambda, prod_s3, bucket):
    # The Lambda still writes under incoming/ (dev has not been redeployed): the role no longer allows it.
    with prod_redeployed_with(workspace, keyPrefix="other/") as changes:
        assert changes == ["~ update aws:iam/rolePolicy:RolePolicy writer-bucket-access"]
        assert_lambda_denied_and_writes_nothing(workspace, dev_lambda, prod_s3, bucket)
