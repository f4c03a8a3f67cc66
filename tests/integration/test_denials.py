"""What must be denied within each grant, each case asserting the denial and that nothing was written.

Across grants (one consumer using another's role, prefixes, removal) see test_isolation, test_prefix_isolation
and test_grant_removal. Each test undoes the admin change it makes, so the cases do not depend on each other's
order.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Callable, Generator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from localcloud_pulumi.workspace import Workspace
from offline.stacks import CONSUMERS, DATA_STACK
from tests.integration.conftest import (
    GRANT_OF,
    DeployedGrant,
    assert_denied,
    assume,
    function_event,
    invoke_consumer,
    prod_grants,
    recycle_workers,
    unchanged,
    use_grant,
)
from tests.project import stack_config

pytestmark = pytest.mark.integration


@pytest.fixture(params=CONSUMERS)
def consumer(request: pytest.FixtureRequest) -> str:
    """Each consumer stack in turn."""
    return request.param


@pytest.fixture
def consumer_grant(consumer: str, grant: Callable[[str], DeployedGrant]) -> DeployedGrant:
    return grant(GRANT_OF[consumer])


def assert_cannot_put_get_or_list(s3: Any, bucket: str, grant: DeployedGrant, existing: str) -> None:
    """Under the grant's prefix: no write of a new key, no read of ``existing``, no listing."""
    assert_denied(lambda: s3.put_object(Bucket=bucket, Key=grant.key(), Body=b"x"))
    assert_denied(lambda: s3.get_object(Bucket=bucket, Key=existing))
    assert_denied(lambda: s3.list_objects_v2(Bucket=bucket, Prefix=grant.key_prefix))


def test_consumer_administrator_cannot_use_the_bucket_directly(workspace, consumer, consumer_grant, prod_s3, bucket,
                                                               bucket_unchanged):
    s3 = workspace.cloud.client("s3", consumer)  # an administrator of its account, but prod grants it nothing
    existing = consumer_grant.key()
    prod_s3.put_object(Bucket=bucket, Key=existing, Body=b"x")
    with bucket_unchanged():
        assert_cannot_put_get_or_list(s3, bucket, consumer_grant, existing)


def test_principal_of_the_grants_account_not_named_in_its_trust_policy_is_denied(workspace, consumer,
                                                                                consumer_grant, bucket_unchanged):
    iam = workspace.cloud.client("iam", consumer)
    account = workspace.cloud.account_id(consumer)
    name = f"intruder-{uuid.uuid4().hex[:8]}"
    # A role of the grant's own account that its account lets assume the grant's role: only prod's
    # aws:PrincipalArn list stops it.
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:root"}, "Action": "sts:AssumeRole"}]}))
    iam.put_role_policy(RoleName=name, PolicyName="assume-grant", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                "Resource": consumer_grant.role_arn}]}))
    try:
        intruder = workspace.cloud.client("sts", consumer).assume_role(
            RoleArn=f"arn:aws:iam::{account}:role/{name}", RoleSessionName="intruder")["Credentials"]
        with bucket_unchanged():
            assert_denied(lambda: assume(workspace, intruder, consumer_grant))
    finally:
        iam.delete_role_policy(RoleName=name, PolicyName="assume-grant")
        iam.delete_role(RoleName=name)


def test_function_without_its_assume_permission_is_denied(workspace, consumer, consumer_grant, prod_s3, bucket,
                                                          bucket_unchanged):
    iam = workspace.cloud.client("iam", consumer)
    execution_role = workspace.output(consumer, "executionRoleArn").split("/")[-1]
    policy_name = "assume-grant-role"
    saved = iam.get_role_policy(RoleName=execution_role, PolicyName=policy_name)["PolicyDocument"]
    event = function_event(prod_s3, bucket, consumer_grant)
    iam.delete_role_policy(RoleName=execution_role, PolicyName=policy_name)
    recycle_workers(workspace, consumer)
    try:
        with bucket_unchanged():
            status, body = invoke_consumer(workspace, consumer, event)
        assert (status, body["error"]) == (403, "AccessDenied"), body
        assert consumer_grant.role_arn in body["message"]
    finally:
        document = saved if isinstance(saved, str) else json.dumps(saved)
        iam.put_role_policy(RoleName=execution_role, PolicyName=policy_name, PolicyDocument=document)
        recycle_workers(workspace, consumer)


def test_role_cannot_use_another_bucket_of_prod(workspace, role_session, consumer_grant):
    other = f"other-{uuid.uuid4().hex[:10]}"
    prod_s3 = workspace.cloud.client("s3", DATA_STACK)
    prod_s3.create_bucket(Bucket=other, CreateBucketConfiguration={"LocationConstraint": workspace.cloud.region})
    existing = consumer_grant.key()
    prod_s3.put_object(Bucket=other, Key=existing, Body=b"x")  # the same key, in a bucket no grant names
    s3 = role_session(consumer_grant)
    with unchanged(prod_s3, other):
        assert_denied(lambda: s3.put_object(Bucket=other, Key=consumer_grant.key(), Body=b"x"))
        assert_denied(lambda: s3.get_object(Bucket=other, Key=existing))
        assert_denied(lambda: s3.list_objects_v2(Bucket=other, Prefix=consumer_grant.key_prefix))


@pytest.mark.parametrize("external_id", ["wrong-external-id", None], ids=["wrong", "missing"])
def test_assume_without_the_grants_external_id_is_denied(workspace, consumer, consumer_grant, user_credentials,
                                                         external_id, bucket_unchanged):
    with bucket_unchanged():
        assert_denied(lambda: assume(workspace, user_credentials(consumer), consumer_grant, external_id=external_id))


def test_user_without_mfa_is_denied(workspace, consumer, consumer_grant, bucket_unchanged):
    assert consumer_grant.mfa_required
    iam = workspace.cloud.client("iam", consumer)
    user = json.loads(stack_config(consumer)["cross-account-s3:groupUsers"])[0]
    key = iam.create_access_key(UserName=user)["AccessKey"]
    try:
        long_term = {"aws_access_key_id": key["AccessKeyId"], "aws_secret_access_key": key["SecretAccessKey"]}
        with bucket_unchanged():
            assert_denied(lambda: assume(workspace, long_term, consumer_grant))
    finally:
        iam.delete_access_key(UserName=user, AccessKeyId=key["AccessKeyId"])


def test_plain_http_is_denied_by_the_tls_only_bucket_policy(workspace, bucket, object_key, bucket_unchanged):
    insecure = workspace.cloud.client("s3", DATA_STACK, secure=False)  # even the prod administrator
    with bucket_unchanged():
        assert_denied(lambda: insecure.put_object(Bucket=bucket, Key=object_key, Body=b"x"))


def test_session_issued_before_a_revocation_is_denied(workspace, role_session, consumer_grant, prod_s3, bucket,
                                                      bucket_unchanged):
    session = role_session(consumer_grant)
    use_grant(session, prod_s3, bucket, consumer_grant)  # the session works until revoked
    prod_iam = workspace.cloud.client("iam", DATA_STACK)
    # What the console's "Revoke active sessions" attaches to the role: sessions issued before now are denied.
    revoked_at = (datetime.now(timezone.utc) + timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    prod_iam.put_role_policy(RoleName=consumer_grant.role_name, PolicyName="AWSRevokeOlderSessions",
                             PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
                                 {"Effect": "Deny", "Action": ["*"], "Resource": ["*"],
                                  "Condition": {"DateLessThan": {"aws:TokenIssueTime": revoked_at}}}]}))
    try:
        key = consumer_grant.key()
        prod_s3.put_object(Bucket=bucket, Key=key, Body=b"x")
        with bucket_unchanged():
            assert_cannot_put_get_or_list(session, bucket, consumer_grant, key)
    finally:
        prod_iam.delete_role_policy(RoleName=consumer_grant.role_name, PolicyName="AWSRevokeOlderSessions")


@contextlib.contextmanager
def prod_redeployed_with(workspace: Workspace, grant: str, **changes: Any) -> Generator[list[str]]:
    """prod deployed again with one grant's settings changed (the changes made), then restored; fresh function
    workers both ways, since warm ones keep the role session they already hold."""
    config = stack_config(DATA_STACK)
    grants = [g | changes if g["name"] == grant else g for g in prod_grants()]
    made = workspace.deploy(DATA_STACK, config | {"cross-account-s3:grants": json.dumps(grants)})
    for stack in CONSUMERS:
        recycle_workers(workspace, stack)
    try:
        yield made
    finally:
        workspace.deploy(DATA_STACK, config)
        for stack in CONSUMERS:
            recycle_workers(workspace, stack)


def assert_function_denied_and_writes_nothing(workspace, consumer, grant, prod_s3, bucket) -> None:
    event = function_event(prod_s3, bucket, grant)
    with unchanged(prod_s3, bucket):
        status, body = invoke_consumer(workspace, consumer, event)
    assert (status, body["error"]) == (403, "AccessDenied"), body


def test_function_fails_when_its_grants_trust_policy_no_longer_names_it(workspace, consumer, consumer_grant,
                                                                        prod_s3, bucket):
    with prod_redeployed_with(workspace, consumer_grant.name, roleNames=["someone-else"]) as changes:
        assert changes == [f"~ update aws:iam/role:Role {consumer_grant.name}-role"]  # the trust, in place
        assert_function_denied_and_writes_nothing(workspace, consumer, consumer_grant, prod_s3, bucket)


def test_function_fails_when_its_grants_role_policy_names_another_prefix(workspace, consumer, consumer_grant,
                                                                         prod_s3, bucket):
    # The function still uses the old prefix (its stack has not been redeployed): the role no longer allows it.
    with prod_redeployed_with(workspace, consumer_grant.name, keyPrefix="other/") as changes:
        # In place: the role's policy, and its description, which names the prefix.
        # And the bucket key's policy, which names each grant's prefix (README "Encryption").
        assert sorted(changes) == [f"~ update aws:iam/role:Role {consumer_grant.name}-role",
                                   f"~ update aws:iam/rolePolicy:RolePolicy {consumer_grant.name}-bucket-access",
                                   "~ update aws:kms/key:Key data-kms-key"]
        assert_function_denied_and_writes_nothing(workspace, consumer, consumer_grant, prod_s3, bucket)
