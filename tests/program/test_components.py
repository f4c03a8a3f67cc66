"""Each component on its own, from its args alone: children parented to it, named from its name, outputs registered."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pulumi
import pytest

from components.assume_group import AssumeGroup, AssumeGroupArgs
from components.grant_function import HANDLERS, GrantFunction, GrantFunctionArgs
from components.grant_role import GrantRole, GrantRoleArgs
from components.hardened_bucket import BucketKms, HardenedBucket, HardenedBucketArgs
from components.policies import KeyUse
from components.settings import Access, Grant, Workload
from tests.program.conftest import FakeCloud
from tests.project import run_pulumi

PROD = "111111111111"
CONSUMER = "222222222222"
ROLE_ARN = f"arn:aws:iam::{PROD}:role/cross-account-s3-team"
GRANT = Grant(name="team", account_id=CONSUMER, role_names=("fn-role",), user_names=(), key_prefix="in/",
              access=Access.WRITE, require_mfa=False)


def run_component(build, account: str = PROD, outputs: tuple[str, ...] = ()) -> tuple[FakeCloud, dict[str, Any]]:
    """Run `build` as a program; returns the recorded resources and the component's `outputs`, resolved."""
    cloud = FakeCloud(account)

    def body():
        component = build()
        for name in outputs:
            pulumi.export(name, getattr(component, name))

    exports = run_pulumi(body, "prod", cloud, config={}, monitor=cloud.monitor())
    return cloud, {name: out.value for name, out in exports.items()}


def children_of(cloud: FakeCloud, name: str) -> set[str]:
    return {r.name for r in cloud.resources if r.parent is not None and r.parent.name == name}


# --- HardenedBucket ---------------------------------------------------------------------------------------------


def test_two_hardened_buckets_do_not_collide():
    def build():
        HardenedBucket("a", HardenedBucketArgs())
        return HardenedBucket("b", HardenedBucketArgs())

    cloud, _ = run_component(build)
    urns = [(r.typ, r.name) for r in cloud.resources]
    assert len(urns) == len(set(urns))
    assert children_of(cloud, "b") == {"b", "b-public-access", "b-encryption", "b-versioning", "b-ownership",
                                       "b-tls-only"}


def test_a_kms_bucket_has_a_key_of_its_own_as_its_child_and_refuses_other_encryption():
    uses = (KeyUse("Writer", (f"arn:aws:iam::{PROD}:role/w",), ("kms:GenerateDataKey",), "in/"),)
    kms = BucketKms(account_id=PROD, region="eu-west-1", uses=uses, deletion_window_days=7)
    cloud, exports = run_component(lambda: HardenedBucket("b", HardenedBucketArgs(kms=kms)),
                                   outputs=("kms_key_arn",))
    key = cloud.one("aws:kms/key:Key")
    assert key.parent is not None and key.parent.type == "cross-account-s3:storage:BucketKey"
    assert key.inputs["deletionWindowInDays"] == 7 and key.inputs["enableKeyRotation"] is True
    assert [s["Sid"] for s in key.policy()["Statement"]] == ["KeyAdministration", "Writer"]
    rule = cloud.one("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")
    assert rule.inputs["rules"][0]["applyServerSideEncryptionByDefault"] == {
        "sseAlgorithm": "aws:kms", "kmsMasterKeyId": exports["kms_key_arn"]}
    sids = [s["Sid"] for s in cloud.one("aws:s3/bucketPolicy:BucketPolicy").policy()["Statement"]]
    assert sids == ["DenyInsecureTransport", "DenyOtherEncryption", "DenyOtherKmsKey", "DenyAwsManagedKey"]


def test_a_bucket_with_an_existing_key_creates_none():
    arn = f"arn:aws:kms:eu-west-1:{PROD}:key/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
    kms = BucketKms(account_id=PROD, region="eu-west-1", key_arn=arn)
    cloud, exports = run_component(lambda: HardenedBucket("b", HardenedBucketArgs(kms=kms)), outputs=("kms_key_arn",))
    assert not cloud.of_type("aws:kms/key:Key") and exports["kms_key_arn"] == arn


# --- GrantRole --------------------------------------------------------------------------------------------------


def test_grant_role_alone_builds_trust_and_permission_from_its_grant():
    cloud, _ = run_component(lambda: GrantRole("x", GrantRoleArgs(grant=GRANT, bucket_name="bkt", region="eu-west-1")))
    role = cloud.one("aws:iam/role:Role")
    assert role.name == "x-role" and role.inputs["name"] == "cross-account-s3-team"
    (trust,) = role.policy("assumeRolePolicy")["Statement"]
    assert trust["Sid"] == "WorkloadsAssume"
    assert trust["Principal"] == {"AWS": f"arn:aws:iam::{CONSUMER}:root"}
    assert trust["Condition"] == {"ArnEquals": {"aws:PrincipalArn": f"arn:aws:iam::{CONSUMER}:role/fn-role"}}
    permission = cloud.one("aws:iam/rolePolicy:RolePolicy", "x-bucket-access").policy()
    assert {s["Action"]: s["Resource"] for s in permission["Statement"]} == {
        "s3:PutObject": "arn:aws:s3:::bkt/in/*", "s3:ListBucket": "arn:aws:s3:::bkt"}
    assert children_of(cloud, "x") == {"x-role", "x-bucket-access"}


@pytest.mark.parametrize("access, actions", [
    (Access.WRITE, {"s3:PutObject", "s3:ListBucket"}),
    (Access.READ, {"s3:GetObject", "s3:ListBucket"}),
    (Access.READ_WRITE, {"s3:PutObject", "s3:GetObject", "s3:ListBucket"}),
], ids=lambda v: v.value if isinstance(v, Access) else "")
def test_grant_role_permission_is_its_grants_access(access, actions):
    grant = dataclasses.replace(GRANT, access=access)
    cloud, _ = run_component(lambda: GrantRole("x", GrantRoleArgs(grant=grant, bucket_name="bkt", region="eu-west-1")))
    assert {s["Action"] for s in cloud.one("aws:iam/rolePolicy:RolePolicy").policy()["Statement"]} == actions


def test_grant_role_takes_its_session_length_boundary_and_tags():
    grant = dataclasses.replace(GRANT, max_session_seconds=7200, tags={"owner": "team", "project": "grant's"})
    args = GrantRoleArgs(grant=grant, bucket_name="bkt", region="eu-west-1", permissions_boundary_arn=f"arn:aws:iam::{PROD}:policy/pb",
                         tags={"project": "stack's", "env": "prod"})
    cloud, _ = run_component(lambda: GrantRole("x", args))
    role = cloud.one("aws:iam/role:Role").inputs
    assert role["maxSessionDuration"] == 7200
    assert role["permissionsBoundary"] == f"arn:aws:iam::{PROD}:policy/pb"
    assert role["tags"] == {"project": "grant's", "env": "prod", "owner": "team", "grant": "team"}


def test_grant_role_revocation_and_suspension_are_policies_of_their_own():
    # Each switch adds one child and changes nothing else, so turning it off again removes only it.
    plain, _ = run_component(lambda: GrantRole("x", GrantRoleArgs(grant=GRANT, bucket_name="bkt", region="eu-west-1")))
    grant = dataclasses.replace(GRANT, revoke_sessions_issued_before="2026-12-01T09:30:15Z", suspended=True)
    cloud, _ = run_component(lambda: GrantRole("x", GrantRoleArgs(grant=grant, bucket_name="bkt", region="eu-west-1")))
    assert children_of(cloud, "x") == children_of(plain, "x") | {"x-revoke-older-sessions", "x-suspended"}
    revoke = cloud.one("aws:iam/rolePolicy:RolePolicy", "x-revoke-older-sessions")
    assert revoke.inputs["name"] == "revoke-older-sessions"
    assert revoke.policy()["Statement"][0]["Condition"] == {
        "DateLessThan": {"aws:TokenIssueTime": "2026-12-01T09:30:15Z"}}
    assert cloud.one("aws:iam/rolePolicy:RolePolicy", "x-suspended").policy()["Statement"][0]["Effect"] == "Deny"
    assert cloud.one("aws:iam/role:Role").inputs == plain.one("aws:iam/role:Role").inputs


def test_grant_role_outputs_are_its_roles_arn_and_name():
    cloud, exports = run_component(lambda: GrantRole("x", GrantRoleArgs(grant=GRANT, bucket_name="bkt", region="eu-west-1")),
                                   outputs=("role_arn", "role_name"))
    component = cloud.one("cross-account-s3:access:GrantRole")
    assert component.name == "x"
    role = cloud.one("aws:iam/role:Role")
    assert role.parent is not None and role.parent.type == "cross-account-s3:access:GrantRole"
    assert exports == {"role_arn": f"arn:aws:iam::{PROD}:role/cross-account-s3-team",
                       "role_name": "cross-account-s3-team"}


def test_two_grant_roles_do_not_collide():
    other = dataclasses.replace(GRANT, name="other")

    def build():
        GrantRole("team", GrantRoleArgs(grant=GRANT, bucket_name="bkt", region="eu-west-1"))
        return GrantRole("other", GrantRoleArgs(grant=other, bucket_name="bkt", region="eu-west-1"))

    cloud, _ = run_component(build)
    assert sorted(r.inputs["name"] for r in cloud.of_type("aws:iam/role:Role")) == [
        "cross-account-s3-other", "cross-account-s3-team"]


# --- GrantFunction ----------------------------------------------------------------------------------------------


def function_args(project_dir: Path, workload: Workload, **changes: Any) -> GrantFunctionArgs:
    args = GrantFunctionArgs(workload=workload, function_name="f", execution_role_name="f-role",
                             code_dir=project_dir / "lambda_handler", target_role_arn=ROLE_ARN, target_bucket="bkt",
                             target_key_prefix="in/", target_region="eu-west-1", account_id=CONSUMER, max_body_bytes=1000,
                             max_object_bytes=2000)
    return dataclasses.replace(args, **changes)


@pytest.mark.parametrize("workload", [Workload.WRITER, Workload.READER], ids=lambda w: w.value)
def test_grant_function_alone_assumes_only_its_target(project_dir, workload):
    cloud, _ = run_component(lambda: GrantFunction("w", function_args(project_dir, workload)), account=CONSUMER)
    statement = cloud.one("aws:iam/rolePolicy:RolePolicy", "w-assume-grant-role").policy()["Statement"]
    assert statement == [{"Sid": "AssumeGrantRole", "Effect": "Allow", "Action": "sts:AssumeRole",
                          "Resource": ROLE_ARN}]
    assert {r.name for r in cloud.resources} == {"w", "w-logs", "w-execution-role", "w-assume-grant-role",
                                                 "w-write-logs", "w-function"}
    assert children_of(cloud, "w") == {"w-logs", "w-execution-role", "w-assume-grant-role", "w-write-logs",
                                       "w-function"}


def test_grant_function_writer_runs_the_writer_handler_with_its_body_limit(project_dir):
    cloud, _ = run_component(lambda: GrantFunction("w", function_args(project_dir, Workload.WRITER)),
                             account=CONSUMER)
    function = cloud.one("aws:lambda/function:Function").inputs
    assert function["handler"] == "lambda_handler.handler.lambda_handler"
    assert function["environment"]["variables"] == {
        "TARGET_ROLE_ARN": ROLE_ARN, "TARGET_BUCKET": "bkt", "TARGET_KEY_PREFIX": "in/", "TARGET_REGION": "eu-west-1",
        "MAX_BODY_BYTES": "1000"}


def test_grant_function_reader_runs_the_reader_handler_with_its_object_limit(project_dir):
    cloud, _ = run_component(lambda: GrantFunction("r", function_args(project_dir, Workload.READER)),
                             account=CONSUMER)
    function = cloud.one("aws:lambda/function:Function").inputs
    assert function["handler"] == "lambda_handler.reader_handler.lambda_handler"
    assert function["environment"]["variables"] == {
        "TARGET_ROLE_ARN": ROLE_ARN, "TARGET_BUCKET": "bkt", "TARGET_KEY_PREFIX": "in/", "TARGET_REGION": "eu-west-1",
        "MAX_OBJECT_BYTES": "2000"}


@pytest.mark.parametrize("workload", [Workload.WRITER, Workload.READER], ids=lambda w: w.value)
def test_grant_function_passes_the_external_id_when_given(project_dir, workload):
    args = function_args(project_dir, workload, external_id="ext-123")
    cloud, _ = run_component(lambda: GrantFunction("w", args), account=CONSUMER)
    assert cloud.one("aws:lambda/function:Function").inputs["environment"]["variables"]["EXTERNAL_ID"] == "ext-123"


@pytest.mark.parametrize("workload", [Workload.WRITER, Workload.READER], ids=lambda w: w.value)
def test_grant_function_ships_its_handler_module(project_dir, workload):
    module = HANDLERS[workload].rsplit(".", 1)[0].replace(".", "/") + ".py"
    assert (project_dir / module).is_file()
    cloud, _ = run_component(lambda: GrantFunction("w", function_args(project_dir, workload)), account=CONSUMER)
    assert module in cloud.one("aws:lambda/function:Function").inputs["code"].assets


def test_grant_function_trusts_lambda_only_on_behalf_of_its_own_account(project_dir):
    cloud, _ = run_component(lambda: GrantFunction("w", function_args(project_dir, Workload.WRITER)),
                             account=CONSUMER)
    (statement,) = cloud.one("aws:iam/role:Role").policy("assumeRolePolicy")["Statement"]
    assert statement["Principal"] == {"Service": "lambda.amazonaws.com"}
    assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": CONSUMER}}


@pytest.mark.parametrize("tag_keys, source_identity, environment, extra_actions", [
    (None, "none", {}, None),
    ([], "none", {"SESSION_TAGS": '{"function": "f"}'}, "sts:TagSession"),
    (["function", "team"], "allowed", {"SESSION_TAGS": '{"function": "f"}', "SOURCE_IDENTITY": "f"},
     ["sts:TagSession", "sts:SetSourceIdentity"]),
    (["team"], "required", {"SOURCE_IDENTITY": "f"}, "sts:SetSourceIdentity"),  # its tag key is not allowed
], ids=["nothing", "any-tag", "listed-tag-and-identity", "other-tag-required-identity"])
def test_grant_function_brings_to_its_session_what_its_grant_allows(project_dir, tag_keys, source_identity,
                                                                   environment, extra_actions):
    args = function_args(project_dir, Workload.WRITER, session_tag_keys=tag_keys, source_identity=source_identity)
    cloud, _ = run_component(lambda: GrantFunction("w", args), account=CONSUMER)
    variables = cloud.one("aws:lambda/function:Function").inputs["environment"]["variables"]
    assert {k: v for k, v in variables.items() if k in ("SESSION_TAGS", "SOURCE_IDENTITY")} == environment
    statements = cloud.one("aws:iam/rolePolicy:RolePolicy", "w-assume-grant-role").policy()["Statement"]
    assert [s.get("Action") for s in statements[1:]] == ([extra_actions] if extra_actions else [])


def test_grant_function_requires_the_external_id_in_its_assume_permission(project_dir):
    args = function_args(project_dir, Workload.READER, external_id="ext-123")
    cloud, _ = run_component(lambda: GrantFunction("w", args), account=CONSUMER)
    (statement,) = cloud.one("aws:iam/rolePolicy:RolePolicy", "w-assume-grant-role").policy()["Statement"]
    assert statement["Condition"] == {"StringEquals": {"sts:ExternalId": "ext-123"}}


def test_grant_function_runs_only_after_it_may_assume_and_log(project_dir):
    # depends_on is not visible to the mocks; the function is registered after the policies it depends on.
    cloud, _ = run_component(lambda: GrantFunction("w", function_args(project_dir, Workload.WRITER)),
                             account=CONSUMER)
    order = [r.name for r in cloud.resources]
    assert order.index("w-function") > max(order.index("w-assume-grant-role"), order.index("w-write-logs"),
                                           order.index("w-logs"))


def test_grant_function_refuses_no_workload(project_dir):
    with pytest.raises(ValueError, match="a writer or a reader"):
        function_args(project_dir, Workload.NONE)


# --- AssumeGroup ------------------------------------------------------------------------------------------------


def test_assume_group_without_users_creates_no_membership():
    args = AssumeGroupArgs(group_name="g", user_names=(), target_role_arn=ROLE_ARN, require_mfa=False)
    cloud, exports = run_component(lambda: AssumeGroup("h", args), account=CONSUMER, outputs=("user_arns",))
    assert cloud.of_type("aws:iam/groupMembership:GroupMembership") == []
    assert cloud.of_type("aws:iam/user:User") == []
    (statement,) = cloud.one("aws:iam/groupPolicy:GroupPolicy").policy()["Statement"]
    assert statement == {"Sid": "AssumeGrantRole", "Effect": "Allow", "Action": "sts:AssumeRole",
                         "Resource": ROLE_ARN}
    assert exports == {"user_arns": []}


def test_assume_group_creates_its_users_in_the_group_with_mfa_required():
    args = AssumeGroupArgs(group_name="g", user_names=("alice", "bob"), target_role_arn=ROLE_ARN,
                           tags={"team": "a"})
    cloud, exports = run_component(lambda: AssumeGroup("h", args), account=CONSUMER,
                                   outputs=("group_name", "user_arns"))
    assert cloud.one("aws:iam/group:Group").inputs["name"] == "g"
    assert [u.inputs["name"] for u in cloud.of_type("aws:iam/user:User")] == ["alice", "bob"]
    assert all(u.inputs["tags"] == {"team": "a"} for u in cloud.of_type("aws:iam/user:User"))
    assert cloud.one("aws:iam/groupMembership:GroupMembership").inputs["users"] == ["alice", "bob"]
    (statement,) = cloud.one("aws:iam/groupPolicy:GroupPolicy").policy()["Statement"]
    assert statement["Condition"] == {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
    assert exports == {"group_name": "g", "user_arns": [f"arn:aws:iam::{CONSUMER}:user/alice",
                                                        f"arn:aws:iam::{CONSUMER}:user/bob"]}
    assert children_of(cloud, "h") == {"h-group", "h-assume-grant-role", "h-user-alice", "h-user-bob", "h-members"}


def test_assume_group_requires_the_external_id_and_may_set_a_source_identity():
    args = AssumeGroupArgs(group_name="g", user_names=(), target_role_arn=ROLE_ARN, require_mfa=False,
                           external_id="ext-123", set_source_identity=True)
    cloud, _ = run_component(lambda: AssumeGroup("h", args), account=CONSUMER)
    assume, extras = cloud.one("aws:iam/groupPolicy:GroupPolicy").policy()["Statement"]
    assert assume["Condition"] == {"StringEquals": {"sts:ExternalId": "ext-123"}}
    # Never sts:TagSession: people do not tag their sessions (components/policies.py trust_policy_for).
    assert extras["Action"] == "sts:SetSourceIdentity" and extras["Resource"] == ROLE_ARN


def test_assume_group_users_have_no_login_or_keys():
    args = AssumeGroupArgs(group_name="g", user_names=("alice",), target_role_arn=ROLE_ARN)
    cloud, _ = run_component(lambda: AssumeGroup("h", args), account=CONSUMER)
    types = {r.typ for r in cloud.resources}
    assert not types & {"aws:iam/userLoginProfile:UserLoginProfile", "aws:iam/accessKey:AccessKey"}
