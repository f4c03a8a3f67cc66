"""Role sessions as STS makes them: what AssumeRole is given (session tags, transitive tags, a source identity,
managed session policies) needs the trust policy's consent and then decides the session's later requests.

Pages: id_session-tags.html ("Permissions required to add session tags", "Chaining roles with session tags"),
id_credentials_temp_control-access_monitor.html (sts:SetSourceIdentity, sts:SourceIdentity, aws:SourceIdentity,
"Role chaining and cross-account requirements"), reference_policies_variables.html (${aws:username} in a trust
policy's condition), id_roles_use_revoke-sessions.html and id_credentials_temp_control-access_disable-perms.html
(aws:TokenIssueTime), API_AssumeRole.html (PolicyArns), access_policies.html#policies_session.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from botocore.exceptions import ClientError

from localcloud import moto_adapter
from localcloud.server import LocalCloud
from localcloud_testing.builders import DEV, Builder, allow, policy, unique
from localcloud_testing.clock import SetNow

ACCOUNT_ROOT = {"AWS": f"arn:aws:iam::{DEV}:root"}


def error_code(raised: pytest.ExceptionInfo[ClientError]) -> str:
    return str(raised.value.response["Error"]["Code"])


def sessions_of(role_arn: str) -> int:
    return sum(1 for _, arn in moto_adapter.assumed_role_sessions() if arn == role_arn)


def exists(cloud: LocalCloud, bucket: str, key: str) -> bool:
    listed = cloud.client("s3", "dev").list_objects_v2(Bucket=bucket, Prefix=key)
    return any(item["Key"] == key for item in listed.get("Contents", []))


def caller(build: Builder) -> dict[str, str]:
    """A dev user allowed to assume any role, tag sessions and set a source identity (the trust decides)."""
    _, credentials = build.user("dev", [allow(["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"], "*")])
    return credentials


def role(build: Builder, trust_actions: list[str], permissions: list[Mapping[str, Any]]) -> str:
    statement = {"Effect": "Allow", "Principal": ACCOUNT_ROOT, "Action": trust_actions}
    return build.role("dev", [statement], permissions=permissions)


def put_as(cloud: LocalCloud, credentials: Mapping[str, str], bucket: str, key: str) -> None:
    cloud.client("s3", credentials=credentials).put_object(Bucket=bucket, Key=key, Body=b"x")


def test_session_tags_need_sts_tag_session_in_the_trust_policy(cloud: LocalCloud, build: Builder) -> None:
    role_arn = role(build, ["sts:AssumeRole"], [allow("s3:*", "*")])
    with pytest.raises(ClientError) as raised:
        build.assume(role_arn, credentials=caller(build), Tags=[{"Key": "team", "Value": "data"}])
    assert error_code(raised) == "AccessDenied"
    assert sessions_of(role_arn) == 0
    assert cloud.gate is not None
    assert cloud.gate.decisions_for("sts:TagSession")[-1].allowed is False


def test_a_source_identity_needs_sts_set_source_identity_in_the_trust_policy(build: Builder) -> None:
    role_arn = role(build, ["sts:AssumeRole", "sts:TagSession"], [allow("s3:*", "*")])
    with pytest.raises(ClientError) as raised:
        build.assume(role_arn, credentials=caller(build), SourceIdentity="alice")
    assert error_code(raised) == "AccessDenied"
    assert sessions_of(role_arn) == 0


def test_a_session_tag_decides_a_principal_tag_condition(cloud: LocalCloud, build: Builder) -> None:
    bucket = build.bucket("dev")
    on_team = {"Condition": {"StringEquals": {"aws:PrincipalTag/team": "data"}}}
    role_arn = role(build, ["sts:AssumeRole", "sts:TagSession"], [allow("s3:PutObject", f"arn:aws:s3:::{bucket}/*",
                                                                        **on_team)])
    data = build.assume(role_arn, credentials=caller(build), Tags=[{"Key": "team", "Value": "data"}])
    other = build.assume(role_arn, credentials=caller(build), Tags=[{"Key": "team", "Value": "web"}])

    put_as(cloud, data, bucket, "by-data")
    with pytest.raises(ClientError) as raised:
        put_as(cloud, other, bucket, "by-web")
    assert error_code(raised) == "AccessDenied"
    assert exists(cloud, bucket, "by-data") and not exists(cloud, bucket, "by-web")


def test_the_source_identity_is_in_the_context_of_later_requests(cloud: LocalCloud, build: Builder) -> None:
    bucket = build.bucket("dev")
    alice_only = {"Condition": {"StringEquals": {"aws:SourceIdentity": "alice"}}}
    role_arn = role(build, ["sts:AssumeRole", "sts:SetSourceIdentity"],
                    [allow("s3:PutObject", f"arn:aws:s3:::{bucket}/*", **alice_only)])
    alice = build.assume(role_arn, credentials=caller(build), SourceIdentity="alice")
    bob = build.assume(role_arn, credentials=caller(build), SourceIdentity="bob")

    put_as(cloud, alice, bucket, "by-alice")
    with pytest.raises(ClientError):
        put_as(cloud, bob, bucket, "by-bob")
    assert exists(cloud, bucket, "by-alice") and not exists(cloud, bucket, "by-bob")


def test_transitive_tags_pass_through_role_chaining_and_need_tag_session_again(
    cloud: LocalCloud, build: Builder
) -> None:
    bucket = build.bucket("dev")
    first = role(build, ["sts:AssumeRole", "sts:TagSession"], [allow(["sts:AssumeRole", "sts:TagSession"], "*")])
    on_team = {"Condition": {"StringEquals": {"aws:PrincipalTag/team": "data"}}}
    second = role(build, ["sts:AssumeRole", "sts:TagSession"],
                  [allow("s3:PutObject", f"arn:aws:s3:::{bucket}/*", **on_team)])
    untagging = role(build, ["sts:AssumeRole"], [allow("s3:PutObject", "*")])
    tagged = build.assume(first, credentials=caller(build), Tags=[{"Key": "team", "Value": "data"}],
                          TransitiveTagKeys=["team"])

    chained = build.assume(second, credentials=tagged)
    put_as(cloud, chained, bucket, "chained")
    with pytest.raises(ClientError) as raised:
        build.assume(untagging, credentials=tagged)

    assert exists(cloud, bucket, "chained")
    assert error_code(raised) == "AccessDenied" and sessions_of(untagging) == 0


def test_the_source_identity_cannot_change_in_a_role_chain(build: Builder) -> None:
    first = role(build, ["sts:AssumeRole", "sts:SetSourceIdentity"],
                 [allow(["sts:AssumeRole", "sts:SetSourceIdentity"], "*")])
    second = role(build, ["sts:AssumeRole", "sts:SetSourceIdentity"], [allow("s3:*", "*")])
    alice = build.assume(first, credentials=caller(build), SourceIdentity="alice")
    with pytest.raises(ClientError) as raised:
        build.assume(second, credentials=alice, SourceIdentity="mallory")
    assert error_code(raised) == "AccessDenied" and sessions_of(second) == 0


def test_a_trust_requiring_a_source_identity_refuses_an_assume_role_without_one(build: Builder) -> None:
    """id_credentials_temp_control-access_monitor.html: "When an identity sets a source identity, the
    sts:SourceIdentity key is present in the request"; without one the key is missing, so Null false does not hold
    (reference_policies_elements_condition_operators.html, "Condition operator to check existence of condition
    keys")."""
    requiring = {"Condition": {"Null": {"sts:SourceIdentity": "false"}}}
    role_arn = build.role("dev", [{"Effect": "Allow", "Principal": ACCOUNT_ROOT,
                                   "Action": ["sts:AssumeRole", "sts:SetSourceIdentity"], **requiring}],
                          permissions=[allow("s3:*", "*")])
    with pytest.raises(ClientError) as raised:
        build.assume(role_arn, credentials=caller(build))
    assert error_code(raised) == "AccessDenied" and sessions_of(role_arn) == 0

    build.assume(role_arn, credentials=caller(build), SourceIdentity="alice")
    assert sessions_of(role_arn) == 1


def test_a_trust_can_require_the_users_own_name_as_source_identity(cloud: LocalCloud, build: Builder) -> None:
    """id_credentials_temp_control-access_monitor.html (SetAwsUserNameAsSourceIdentity): the source identity must be
    ${aws:username}; a policy variable in a condition value is filled from the request (reference_policies_variables
    .html), where aws:username is the IAM user's name (reference_policies_condition-keys.html#condition-keys-
    username). The caller may set its own name, not another."""
    own_name = {"Condition": {"StringEquals": {"sts:SourceIdentity": "${aws:username}"}}}
    role_arn = build.role("dev", [{"Effect": "Allow", "Principal": ACCOUNT_ROOT,
                                   "Action": ["sts:AssumeRole", "sts:SetSourceIdentity"], **own_name}],
                          permissions=[allow("s3:*", "*")])
    name, credentials = build.user("dev", [allow(["sts:AssumeRole", "sts:SetSourceIdentity"], "*")])

    build.assume(role_arn, credentials=credentials, SourceIdentity=name)
    with pytest.raises(ClientError) as raised:
        build.assume(role_arn, credentials=credentials, SourceIdentity="bob")

    assert error_code(raised) == "AccessDenied" and sessions_of(role_arn) == 1
    assert cloud.gate is not None
    assert cloud.gate.decisions_for("sts:AssumeRole")[-1].allowed is False  # one statement holds both actions


def test_a_chained_session_keeps_the_source_identity_as_sts_source_identity(cloud: LocalCloud, build: Builder) -> None:
    """id_credentials_temp_control-access_monitor.html, "Role chaining and cross-account requirements": the source
    identity "does not need to be explicitly set again"; "both the aws:SourceIdentity and sts:SourceIdentity keys
    are present in the request context", and "permissions for sts:SetSourceIdentity are required" in the next
    role's trust ("Permissions required to set source identity"), or "the assume role operation will fail"."""
    bucket = build.bucket("dev")
    first = role(build, ["sts:AssumeRole", "sts:SetSourceIdentity"],
                 [allow(["sts:AssumeRole", "sts:SetSourceIdentity"], "*")])
    alice_only = {"Condition": {"StringEquals": {"sts:SourceIdentity": "alice"}}}
    second = build.role("dev", [{"Effect": "Allow", "Principal": ACCOUNT_ROOT,
                                 "Action": ["sts:AssumeRole", "sts:SetSourceIdentity"], **alice_only}],
                        permissions=[allow("s3:PutObject", f"arn:aws:s3:::{bucket}/*", Condition={
                            "StringEquals": {"aws:SourceIdentity": "alice"}})])
    without_permission = role(build, ["sts:AssumeRole"], [allow("s3:*", "*")])
    alice = build.assume(first, credentials=caller(build), SourceIdentity="alice")
    bob = build.assume(first, credentials=caller(build), SourceIdentity="bob")

    chained = build.assume(second, credentials=alice)
    put_as(cloud, chained, bucket, "chained")
    with pytest.raises(ClientError) as not_alice:
        build.assume(second, credentials=bob)
    with pytest.raises(ClientError) as not_permitted:
        build.assume(without_permission, credentials=alice)

    assert exists(cloud, bucket, "chained")
    assert error_code(not_alice) == "AccessDenied" and sessions_of(second) == 1
    assert error_code(not_permitted) == "AccessDenied" and sessions_of(without_permission) == 0
    assert cloud.gate is not None
    assert cloud.gate.decisions_for("sts:SetSourceIdentity")[-1].allowed is False


def test_revoking_sessions_denies_those_issued_before_the_time_and_not_later_ones(
    cloud: LocalCloud, build: Builder, at: SetNow
) -> None:
    """id_roles_use_revoke-sessions.html: "Revoke active sessions" attaches an inline policy denying everything to
    "users who assumed the role before" that moment; "Any user who assumes the role after ... is not affected"
    (the policy: id_credentials_temp_control-access_disable-perms.html, Deny "*" on "*" under DateLessThan
    aws:TokenIssueTime). The Deny is added after the first session was issued and stops its next request."""
    bucket = build.bucket("dev")
    role_name = unique("revoked")
    role_arn = build.role("dev", [{"Effect": "Allow", "Principal": ACCOUNT_ROOT, "Action": "sts:AssumeRole"}],
                          permissions=[allow("s3:PutObject", f"arn:aws:s3:::{bucket}/*")], name=role_name)
    assumer = caller(build)
    issued = datetime.now(timezone.utc).replace(microsecond=0)
    at(issued)
    old = build.assume(role_arn, credentials=assumer)
    put_as(cloud, old, bucket, "before-revoking")

    revoked_at = issued + timedelta(seconds=30)
    at(revoked_at)
    before_now = {"DateLessThan": {"aws:TokenIssueTime": revoked_at.strftime("%Y-%m-%dT%H:%M:%SZ")}}
    revoke = policy({"Effect": "Deny", "Action": ["*"], "Resource": ["*"], "Condition": before_now})
    cloud.client("iam", "dev").put_role_policy(RoleName=role_name, PolicyName="AWSRevokeOlderSessions",
                                               PolicyDocument=revoke)
    at(revoked_at + timedelta(seconds=1))
    new = build.assume(role_arn, credentials=assumer)
    with pytest.raises(ClientError) as raised:
        put_as(cloud, old, bucket, "old-after-revoking")
    put_as(cloud, new, bucket, "new-after-revoking")

    assert error_code(raised) == "AccessDenied"
    assert "with an explicit deny in an identity-based policy" in raised.value.response["Error"]["Message"]
    assert not exists(cloud, bucket, "old-after-revoking") and exists(cloud, bucket, "new-after-revoking")


def test_managed_session_policies_narrow_the_session(cloud: LocalCloud, build: Builder) -> None:
    bucket = build.bucket("dev")
    iam = cloud.client("iam", "dev")
    read_only = iam.create_policy(PolicyName=unique("read-only"),
                                  PolicyDocument=policy(allow("s3:GetObject", "*")))["Policy"]["Arn"]
    role_arn = role(build, ["sts:AssumeRole"], [allow(["s3:PutObject", "s3:GetObject"], "*")])
    narrowed = build.assume(role_arn, credentials=caller(build), PolicyArns=[{"arn": read_only}])
    whole = build.assume(role_arn, credentials=caller(build))

    with pytest.raises(ClientError) as raised:
        put_as(cloud, narrowed, bucket, "narrowed")
    put_as(cloud, whole, bucket, "whole")

    assert error_code(raised) == "AccessDenied"
    assert "because no session policy allows the s3:PutObject action" in raised.value.response["Error"]["Message"]
    assert not exists(cloud, bucket, "narrowed") and exists(cloud, bucket, "whole")


def test_an_unknown_managed_session_policy_is_refused(cloud: LocalCloud, build: Builder) -> None:
    role_arn = role(build, ["sts:AssumeRole"], [allow("s3:*", "*")])
    with pytest.raises(ClientError) as raised:
        build.assume(role_arn, credentials=caller(build), PolicyArns=[{"arn": f"arn:aws:iam::{DEV}:policy/none"}])
    assert error_code(raised) == "NoSuchEntity" and sessions_of(role_arn) == 0


# --- GetFederationToken (API_GetFederationToken.html, id_credentials_temp_control-access_getfederationtoken.html) --


def federation_user(build: Builder, bucket: str) -> dict[str, str]:
    _, credentials = build.user("dev", [allow("sts:GetFederationToken", "*"),
                                        allow(["s3:PutObject", "s3:GetObject"], f"arn:aws:s3:::{bucket}/*")])
    return credentials


def test_a_federated_user_has_the_intersection_of_the_user_and_the_session_policy(
    cloud: LocalCloud, build: Builder
) -> None:
    bucket = build.bucket("dev")
    sts = cloud.client("sts", credentials=federation_user(build, bucket))
    token = sts.get_federation_token(Name="alice", Policy=policy(allow("s3:PutObject", f"arn:aws:s3:::{bucket}/in/*")))

    federated = token["Credentials"]
    put_as(cloud, federated, bucket, "in/a")
    with pytest.raises(ClientError) as raised:
        put_as(cloud, federated, bucket, "out/a")

    assert token["FederatedUser"]["Arn"] == f"arn:aws:sts::{DEV}:federated-user/alice"
    assert cloud.client("sts", credentials=federated).get_caller_identity()["Arn"] == token["FederatedUser"]["Arn"]
    assert error_code(raised) == "AccessDenied"
    assert exists(cloud, bucket, "in/a") and not exists(cloud, bucket, "out/a")


def test_a_federation_token_without_a_session_policy_has_no_permissions(cloud: LocalCloud, build: Builder) -> None:
    bucket = build.bucket("dev")
    federated = cloud.client("sts", credentials=federation_user(build, bucket)).get_federation_token(
        Name="nobody")["Credentials"]
    with pytest.raises(ClientError) as raised:
        put_as(cloud, federated, bucket, "in/a")
    assert error_code(raised) == "AccessDenied" and not exists(cloud, bucket, "in/a")


def test_a_federated_user_cannot_call_iam_or_assume_a_role(cloud: LocalCloud, build: Builder) -> None:
    bucket = build.bucket("dev")
    everything = policy(allow("*", "*"))
    federated = cloud.client("sts", credentials=federation_user(build, bucket)).get_federation_token(
        Name="admin", Policy=everything)["Credentials"]
    with pytest.raises(ClientError) as iam_error:
        cloud.client("iam", credentials=federated).list_users()
    with pytest.raises(ClientError) as sts_error:
        cloud.client("sts", credentials=federated).assume_role(RoleArn=f"arn:aws:iam::{DEV}:role/any",
                                                                RoleSessionName="chained")
    assert error_code(iam_error) == "AccessDenied" and error_code(sts_error) == "AccessDenied"


def test_get_federation_token_needs_the_permission(cloud: LocalCloud, build: Builder) -> None:
    _, credentials = build.user("dev", [allow("s3:*", "*")])
    with pytest.raises(ClientError) as raised:
        cloud.client("sts", credentials=credentials).get_federation_token(Name="unpermitted", Policy=policy(allow("*", "*")))
    assert error_code(raised) == "AccessDenied"


def test_a_session_of_a_deleted_role_stays_denied_when_a_role_of_that_name_is_created_again(
        cloud: LocalCloud, build: Builder) -> None:
    """A role deleted and created again under its name is another role, with another unique ID
    (reference_identifiers.html, "Unique identifiers"): sessions of the first have no permissions from the second."""
    bucket = build.bucket("dev")
    name = unique("recreated")
    statement = {"Effect": "Allow", "Principal": ACCOUNT_ROOT, "Action": ["sts:AssumeRole"]}
    role_arn = build.role("dev", [statement], permissions=[allow("s3:PutObject", "*")], name=name)
    old = build.assume(role_arn, credentials=caller(build))
    put_as(cloud, old, bucket, "before")
    iam = cloud.client("iam", "dev")
    iam.delete_role_policy(RoleName=name, PolicyName="permissions")
    iam.delete_role(RoleName=name)
    assert build.role("dev", [statement], permissions=[allow("s3:PutObject", "*")], name=name) == role_arn

    with pytest.raises(ClientError) as raised:
        put_as(cloud, old, bucket, "after")

    assert error_code(raised) == "AccessDenied"
    assert exists(cloud, bucket, "before") and not exists(cloud, bucket, "after")
    put_as(cloud, build.assume(role_arn, credentials=caller(build)), bucket, "new-session")
