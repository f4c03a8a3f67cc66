"""Grants are isolated from each other: no consumer uses another's grant, a grant does only what its access says,
and a grant's principals are those of its account only. Every case also checks that nothing was written.

A consumer's principals (its function's execution role, its user) cannot assume another grant's role, and each
side stops them on its own: the other grant's trust policy (shown by giving the principal an identity allow: still
denied) and the principal's own identity policy (shown by widening the trust to name it: still denied); with both
changes the same call succeeds, so neither denial was for another reason. A consumer's function configured with
another grant's role and external ID is refused as well. Prefixes: test_prefix_isolation; removing a grant:
test_grant_removal.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any

import pytest

from localcloud_pulumi.workspace import Workspace
from offline.profiles import user_credentials as mfa_user_credentials
from offline.stacks import CONSUMERS, DATA_STACK
from tests.integration.conftest import (
    GRANT_OF,
    DeployedGrant,
    assert_denied,
    assume,
    execution_role_credentials,
    function_event,
    invoke_consumer,
    trust_also_names,
)

pytestmark = pytest.mark.integration

FUNCTION, USER = "execution role", "user"


@dataclass(frozen=True)
class Principal:
    """One of a consumer's principals, with credentials to call as it."""

    stack: str
    kind: str  # FUNCTION or USER
    arn: str
    credentials: dict[str, str]

    @property
    def name(self) -> str:
        return self.arn.split("/")[-1]


# Each consumer's principals against every grant that is not theirs. They assume without a source identity (which
# the widened policies of the control below do not allow), so that only the trust and identity policies differ.
CASES = [pytest.param(stack, kind, GRANT_OF[other], id=f"{stack}-{kind.replace(' ', '-')}-to-{GRANT_OF[other]}")
         for stack in CONSUMERS for kind in (FUNCTION, USER) for other in CONSUMERS if other != stack]


def allow_assume(role_arn: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": role_arn}]})


@contextlib.contextmanager
def identity_allows(workspace: Workspace, principal: Principal, role_arn: str) -> Generator[None]:
    """An inline identity policy on the principal allowing sts:AssumeRole on ``role_arn``; then removed."""
    iam = workspace.cloud.client("iam", principal.stack)
    name = f"test-allow-{uuid.uuid4().hex[:8]}"
    kind = "role" if principal.kind == FUNCTION else "user"
    target = {"RoleName" if kind == "role" else "UserName": principal.name}
    getattr(iam, f"put_{kind}_policy")(PolicyName=name, PolicyDocument=allow_assume(role_arn), **target)
    try:
        yield
    finally:
        getattr(iam, f"delete_{kind}_policy")(PolicyName=name, **target)


@pytest.fixture
def principal_of(workspace: Workspace, user_credentials: Callable[[str], dict[str, str]]
                 ) -> Callable[[str, str], Principal]:
    """``principal_of(stack, kind)``: the consumer's function (its execution role) or its user."""

    def principal(stack: str, kind: str) -> Principal:
        if kind == FUNCTION:
            return Principal(stack, kind, workspace.output(stack, "executionRoleArn"),
                             execution_role_credentials(workspace, stack))
        return Principal(stack, kind, workspace.output(stack, "assumeGroupUserArns")[0], user_credentials(stack))

    return principal


@pytest.mark.parametrize(("stack", "kind", "target"), CASES)
def test_a_consumer_cannot_assume_another_grants_role(workspace, principal_of, grant, stack, kind, target,
                                                      bucket_unchanged):
    intruder, other = principal_of(stack, kind), grant(target)
    with bucket_unchanged():
        assert_denied(lambda: assume(workspace, intruder.credentials, other, source_identity=None))  # even with the ID


@pytest.mark.parametrize(("stack", "kind", "target"), CASES)
def test_another_grants_trust_policy_denies_a_consumer_whose_own_account_allows_it(
        workspace, principal_of, grant, stack, kind, target, bucket_unchanged):
    intruder, other = principal_of(stack, kind), grant(target)
    with identity_allows(workspace, intruder, other.role_arn), bucket_unchanged():
        assert_denied(lambda: assume(workspace, intruder.credentials, other, source_identity=None))


@pytest.mark.parametrize(("stack", "kind", "target"), CASES)
def test_a_consumers_own_identity_policy_denies_another_grants_role_that_trusts_it(
        workspace, principal_of, grant, stack, kind, target, bucket_unchanged):
    intruder, other = principal_of(stack, kind), grant(target)
    with trust_also_names(workspace, DATA_STACK, other.role_name, intruder.arn), bucket_unchanged():
        assert_denied(lambda: assume(workspace, intruder.credentials, other, source_identity=None))


@pytest.mark.parametrize(("stack", "kind", "target"), CASES)
def test_the_same_assume_succeeds_only_once_both_the_trust_and_the_identity_allow_it(
        workspace, principal_of, grant, stack, kind, target, bucket_unchanged):
    """The control of the three above: the request itself is sound, so their denials were the policies'."""
    intruder, other = principal_of(stack, kind), grant(target)
    with trust_also_names(workspace, DATA_STACK, other.role_name, intruder.arn), \
            identity_allows(workspace, intruder, other.role_arn), bucket_unchanged():
        session = assume(workspace, intruder.credentials, other, source_identity=None)
        identity = workspace.cloud.client("sts", credentials=session).get_caller_identity()
    assert f":assumed-role/{other.role_name}/" in identity["Arn"]


@contextlib.contextmanager
def function_pointed_at(workspace: Workspace, stack: str, grant: DeployedGrant) -> Generator[None]:
    """The consumer's function configured, by its account's administrator, with another grant's role and external
    ID (as if it had learnt them); then its own configuration again. A configuration change starts fresh workers."""
    lam = workspace.cloud.client("lambda", stack)
    function = workspace.output(stack, "functionName")
    saved = lam.get_function_configuration(FunctionName=function)["Environment"]["Variables"]
    lam.update_function_configuration(FunctionName=function, Environment={"Variables": {
        **saved, "TARGET_ROLE_ARN": grant.role_arn, "EXTERNAL_ID": grant.external_id or ""}})
    try:
        yield
    finally:
        lam.update_function_configuration(FunctionName=function, Environment={"Variables": saved})


@pytest.mark.parametrize(("stack", "target"), [
    pytest.param(stack, GRANT_OF[other], id=f"{stack}-to-{GRANT_OF[other]}")
    for stack in CONSUMERS for other in CONSUMERS if other != stack])
def test_a_consumers_function_pointed_at_another_grants_role_is_refused(workspace, grant, prod_s3, bucket, stack,
                                                                       target, bucket_unchanged):
    other = grant(target)
    event = function_event(prod_s3, bucket, grant(GRANT_OF[stack]))
    with function_pointed_at(workspace, stack, other), bucket_unchanged():
        status, body = invoke_consumer(workspace, stack, event)
    assert (status, body["error"]) == (403, "AccessDenied"), body
    assert other.role_arn in body["message"]  # refused at the assume, naming the role


def test_a_read_grant_cannot_write_under_its_own_prefix(workspace, role_session, analytics_reader: DeployedGrant,
                                                        prod_s3, bucket, bucket_unchanged):
    assert analytics_reader.access == "read"
    existing = analytics_reader.key()
    prod_s3.put_object(Bucket=bucket, Key=existing, Body=b"readable")
    s3 = role_session(analytics_reader)
    assert s3.get_object(Bucket=bucket, Key=existing)["Body"].read() == b"readable"  # what it may do
    with bucket_unchanged():
        assert_denied(lambda: s3.put_object(Bucket=bucket, Key=analytics_reader.key(), Body=b"x"))
        assert_denied(lambda: s3.put_object(Bucket=bucket, Key=existing, Body=b"overwritten"))
        assert_denied(lambda: s3.copy_object(Bucket=bucket, Key=analytics_reader.key(),
                                             CopySource={"Bucket": bucket, "Key": existing}))
        assert_denied(lambda: s3.create_multipart_upload(Bucket=bucket, Key=analytics_reader.key()))
        assert_denied(lambda: s3.delete_object(Bucket=bucket, Key=existing))


def test_a_write_grant_cannot_read_under_its_own_prefix(workspace, role_session, dev_writer: DeployedGrant,
                                                        prod_s3, bucket, bucket_unchanged):
    assert dev_writer.access == "write"
    s3 = role_session(dev_writer)
    key = dev_writer.key()
    version = s3.put_object(Bucket=bucket, Key=key, Body=b"write-only")["VersionId"]  # what it may do
    with bucket_unchanged():
        assert_denied(lambda: s3.get_object(Bucket=bucket, Key=key))
        assert_denied(lambda: s3.get_object(Bucket=bucket, Key=key, VersionId=version))
        assert_denied(lambda: s3.head_object(Bucket=bucket, Key=key), code="403")
        assert_denied(lambda: s3.delete_object(Bucket=bucket, Key=key))


# A principal with the name a grant trusts, but in the other consumer's account.
IMPOSTORS = [pytest.param(GRANT_OF[stack], kind, other,
                          id=f"{GRANT_OF[stack]}-{kind.replace(' ', '-')}-from-{other}")
             for stack in CONSUMERS for kind in (FUNCTION, USER) for other in CONSUMERS if other != stack]


@contextlib.contextmanager
def impostor(workspace: Workspace, account: str, kind: str, name: str,
             role_arn: str) -> Generator[dict[str, str]]:
    """A role or user named ``name`` in ``account``, which that account allows to assume ``role_arn``: its
    credentials (a user's: MFA-backed, as the grant's users have), removed afterwards."""
    iam = workspace.cloud.client("iam", account)
    account_id = workspace.cloud.account_id(account)
    if kind == FUNCTION:
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"}, "Action": "sts:AssumeRole"}]}))
        iam.put_role_policy(RoleName=name, PolicyName="assume-grant", PolicyDocument=allow_assume(role_arn))
        try:
            yield workspace.cloud.client("sts", account).assume_role(
                RoleArn=f"arn:aws:iam::{account_id}:role/{name}", RoleSessionName=name)["Credentials"]
        finally:
            iam.delete_role_policy(RoleName=name, PolicyName="assume-grant")
            iam.delete_role(RoleName=name)
        return
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="assume-grant", PolicyDocument=allow_assume(role_arn))
    try:
        yield mfa_user_credentials(workspace, account, name, True)
    finally:
        for device in iam.list_mfa_devices(UserName=name)["MFADevices"]:
            iam.deactivate_mfa_device(UserName=name, SerialNumber=device["SerialNumber"])
            iam.delete_virtual_mfa_device(SerialNumber=device["SerialNumber"])
        for key in iam.list_access_keys(UserName=name)["AccessKeyMetadata"]:
            iam.delete_access_key(UserName=name, AccessKeyId=key["AccessKeyId"])
        iam.delete_user_policy(UserName=name, PolicyName="assume-grant")
        iam.delete_user(UserName=name)


@pytest.mark.parametrize(("target", "kind", "account"), IMPOSTORS)
def test_a_principal_named_in_a_grant_is_denied_when_it_calls_from_another_account(
        workspace, grant, target, kind, account, bucket_unchanged):
    trusted = grant(target)
    name = (workspace.output(trusted.consumer, "executionRoleArn") if kind == FUNCTION
            else workspace.output(trusted.consumer, "assumeGroupUserArns")[0]).split("/")[-1]
    assert workspace.cloud.account_id(account) != trusted.account_id
    with impostor(workspace, account, kind, name, trusted.role_arn) as credentials, bucket_unchanged():
        # Same name, the grant's external ID, MFA for a user, its own account's allow: the trust names the
        # principal of the grant's account only.
        assert_denied(lambda: assume(workspace, credentials, trusted))
