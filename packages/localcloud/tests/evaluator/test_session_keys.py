"""The session keys the gate puts in the request context, evaluated as the AWS documentation's examples do.

Pages (IAM User Guide): id_session-tags.html (session tags, aws:PrincipalTag, aws:RequestTag, aws:TagKeys,
sts:TransitiveTagKeys, "Permissions required to add session tags", "Chaining roles with session tags") and
id_credentials_temp_control-access_monitor.html (sts:SetSourceIdentity, sts:SourceIdentity, aws:SourceIdentity).
The documentation's account 123456789012 is PROD here; its chained example already uses PROD (111111111111) and DEV
(222222222222).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from localcloud.evaluator import (
    ALLOW,
    EXPLICIT_DENY,
    IDENTITY,
    IMPLICIT_DENY,
    TRUST,
    AccessRequest,
    Caller,
    StatementRef,
    evaluate,
    principal_tag_context,
)
from localcloud_testing.evaluation import BUCKET, DEV, PROD, allow, deny, policy, root, s3, trust, user, user_arn

SESSION_TAGS = "id_session-tags.html"
SOURCE_IDENTITY = "id_credentials_temp_control-access_monitor.html"

TAGGED_ROLE = f"arn:aws:iam::{PROD}:role/my-role-example"
TAGGER = user_arn("test-session-tags", PROD)

# id_session-tags.html, "Permissions required to add session tags": "Example role trust policy for session tags".
SESSION_TAGS_TRUST = policy(
    {
        "Sid": "AllowIamUserAssumeRole",
        "Effect": "Allow",
        "Action": "sts:AssumeRole",
        "Principal": {"AWS": TAGGER},
        "Condition": {
            "StringLike": {"aws:RequestTag/Project": "*", "aws:RequestTag/CostCenter": "*",
                           "aws:RequestTag/Department": "*"},
            "StringEquals": {"sts:ExternalId": "Example987"},
        },
    },
    {
        "Sid": "AllowPassSessionTagsAndTransitive",
        "Effect": "Allow",
        "Action": "sts:TagSession",
        "Principal": {"AWS": TAGGER},
        "Condition": {
            "StringLike": {"aws:RequestTag/Project": "*", "aws:RequestTag/CostCenter": "*"},
            "StringEquals": {"aws:RequestTag/Department": ["Engineering", "Marketing"]},
            "ForAllValues:StringEquals": {"sts:TransitiveTagKeys": ["Project", "Department"]},
        },
    },
)

# The page's example request: --tags Project=Automation CostCenter=12345 Department=Engineering
# --transitive-tag-keys Project Department --external-id Example987
EXAMPLE_TAGS = {"Project": "Automation", "CostCenter": "12345", "Department": "Engineering"}


def tag_request(tags: Mapping[str, str], transitive: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    """The context of AssumeRole / TagSession passing ``tags``: aws:RequestTag/KEY, aws:TagKeys and
    sts:TransitiveTagKeys."""
    context: dict[str, Any] = {f"aws:RequestTag/{key}": value for key, value in tags.items()}
    context["aws:TagKeys"] = list(tags)
    if transitive is not None:
        context["sts:TransitiveTagKeys"] = transitive
    return {**context, **extra}


def sts(caller: Caller, action: str, role_arn: str, trust_policy: Mapping[str, Any] | None,
        context: Mapping[str, Any]) -> AccessRequest:
    return AccessRequest(caller, action, role_arn, role_arn.split(":")[4], dict(context), trust_policy)


def tagger() -> Caller:
    return user("test-session-tags", PROD)


def role_session(role_arn: str, name: str, *policies: Mapping[str, Any]) -> Caller:
    account, role_name = role_arn.split(":")[4], role_arn.rsplit("/", 1)[-1]
    arn = f"arn:aws:sts::{account}:assumed-role/{role_name}/{name}"
    return Caller(arn, "assumed-role", account, role_arn, identity_policies=policies)


# ---------------------------------------------------------------------------------------------------------------
# aws:PrincipalTag: session tags override role tags; transitive tags carry on
# ---------------------------------------------------------------------------------------------------------------

TEAM_RED_ONLY = policy(allow("s3:PutObject", Condition={"StringEquals": {"aws:PrincipalTag/team": "red"}}))


def test_session_tag_overrides_the_role_tag_of_the_same_key_regardless_of_case() -> None:
    """id_session-tags.html: "New session tags override existing assumed role or federated user tags with the same
    tag key, regardless of case." The role is tagged Team=blue; the session was tagged team=red."""
    context = principal_tag_context({"Team": "blue", "Owner": "ops"}, {"team": "red"})
    assert context == {"aws:PrincipalTag/team": "red", "aws:PrincipalTag/Owner": "ops"}
    caller = role_session(f"arn:aws:iam::{PROD}:role/App", "s1", TEAM_RED_ONLY)
    assert evaluate(s3(caller, context=context)).allowed
    assert not evaluate(s3(caller, context=principal_tag_context({"Team": "blue"}))).allowed


def test_inherited_transitive_tag_overrides_the_next_roles_tag() -> None:
    """id_session-tags.html, "Chaining roles with session tags": "The inherited Star = 1 session tag overrides the
    role Star = 3 tag"; the role's own Lightning tag applies too."""
    inherited = {"Star": "1", "Heart": "1"}
    context = principal_tag_context({"Star": "3", "Lightning": "1"}, inherited_transitive_tags=inherited)
    assert context == {"aws:PrincipalTag/Star": "1", "aws:PrincipalTag/Lightning": "1", "aws:PrincipalTag/Heart": "1"}


def test_transitive_tag_in_the_context_decides_a_later_request_of_the_chain() -> None:
    """id_session-tags.html: transitive tags persist during role chaining, so a later session's request carries the
    tag as aws:PrincipalTag/KEY and a policy can decide on it."""
    caller = role_session(f"arn:aws:iam::{PROD}:role/Role3", "Session3", policy(
        allow("s3:PutObject", f"{BUCKET}/*", Condition={"StringEquals": {"aws:PrincipalTag/Project": "Automation"}})))
    assert evaluate(s3(caller, context={"aws:PrincipalTag/Project": "Automation"})).allowed
    assert evaluate(s3(caller)).missing_allow == IDENTITY


def test_transitive_tag_decides_the_next_roles_trust_policy() -> None:
    """id_session-tags.html, "Chaining roles with session tags": the tags of the calling session are evaluated by the
    next role's trust policy."""
    role2 = f"arn:aws:iam::{PROD}:role/Role2"
    chain_trust = policy(trust({"AWS": f"arn:aws:iam::{PROD}:role/Role1"},
                               Condition={"StringEquals": {"aws:PrincipalTag/Heart": "1"}}))
    caller = role_session(f"arn:aws:iam::{PROD}:role/Role1", "Session1")
    assert evaluate(sts(caller, "sts:AssumeRole", role2, chain_trust, {"aws:PrincipalTag/Heart": "1"})).allowed
    assert evaluate(sts(caller, "sts:AssumeRole", role2, chain_trust, {})).missing_allow == TRUST


# ---------------------------------------------------------------------------------------------------------------
# sts:TagSession with aws:RequestTag, aws:TagKeys and sts:TransitiveTagKeys in the trust policy
# ---------------------------------------------------------------------------------------------------------------


def test_example_assume_role_with_the_three_required_tags_is_allowed() -> None:
    """id_session-tags.html: AllowIamUserAssumeRole requires Project, CostCenter, Department and the external ID."""
    context = tag_request(EXAMPLE_TAGS, ["Project", "Department"], **{"sts:ExternalId": "Example987"})
    decision = evaluate(sts(tagger(), "sts:AssumeRole", TAGGED_ROLE, SESSION_TAGS_TRUST, context))
    assert decision.effect == ALLOW
    assert decision.determining == (StatementRef(TRUST, 0, "AllowIamUserAssumeRole"),)


def test_example_assume_role_without_a_required_tag_is_denied() -> None:
    """id_session-tags.html: "This block ensures that user passes at least these three session tags. Otherwise, the
    operation fails."."""
    tags = {"Project": "Automation", "Department": "Engineering"}
    context = tag_request(tags, **{"sts:ExternalId": "Example987"})
    decision = evaluate(sts(tagger(), "sts:AssumeRole", TAGGED_ROLE, SESSION_TAGS_TRUST, context))
    assert decision.effect == IMPLICIT_DENY and decision.missing_allow == TRUST


@pytest.mark.parametrize(
    ("tags", "transitive", "allowed"),
    [
        pytest.param(EXAMPLE_TAGS, ["Project", "Department"], True, id="the_page_example_request"),
        pytest.param(EXAMPLE_TAGS, None, True, id="no_transitive_keys_is_a_subset_too"),
        pytest.param(EXAMPLE_TAGS, ["Project"], True, id="a_subset_of_the_transitive_keys"),
        pytest.param(EXAMPLE_TAGS, ["Project", "CostCenter"], False, id="a_transitive_key_outside_the_list"),
        pytest.param({**EXAMPLE_TAGS, "Department": "Sales"}, None, False, id="department_outside_the_two_values"),
        pytest.param({"Project": "Automation", "Department": "Marketing"}, None, False, id="cost_center_missing"),
    ],
)
def test_example_tag_session_statement(tags: Mapping[str, str], transitive: list[str] | None, allowed: bool) -> None:
    """id_session-tags.html, AllowPassSessionTagsAndTransitive: any Project and CostCenter, Department Engineering or
    Marketing, and "the maximum set of tags you can set as transitive. The user can choose to set a subset or no
    tags as transitive"."""
    decision = evaluate(sts(tagger(), "sts:TagSession", TAGGED_ROLE, SESSION_TAGS_TRUST, tag_request(tags, transitive)))
    assert decision.allowed is allowed
    if not allowed:
        assert decision.missing_allow == TRUST


def test_tag_keys_for_all_values_limits_the_keys_a_caller_may_pass() -> None:
    """id_session-tags.html: aws:TagKeys "limits the maximum set of session tags that can be passed"
    (reference_policies_multi-value-conditions.html: ForAllValues, every request value must be listed)."""
    only_two = policy(trust({"AWS": TAGGER}, action="sts:TagSession",
                            Condition={"ForAllValues:StringEquals": {"aws:TagKeys": ["Project", "CostCenter"]}}))
    ok = tag_request({"Project": "A", "CostCenter": "1"})
    extra = tag_request({"Project": "A", "CostCenter": "1", "Owner": "me"})
    assert evaluate(sts(tagger(), "sts:TagSession", TAGGED_ROLE, only_two, ok)).allowed
    assert evaluate(sts(tagger(), "sts:TagSession", TAGGED_ROLE, only_two, extra)).missing_allow == TRUST


def test_cross_account_tag_session_needs_the_callers_identity_allow_too() -> None:
    """id_session-tags.html ("you must have the following permissions-only action in your policy: sts:TagSession")
    with reference_policies_evaluation-logic-cross-account.html: trust policy and identity policy both allow."""
    trust_dev = policy(trust({"AWS": DEV}, action=["sts:AssumeRole", "sts:TagSession"]))
    assume_only = user("alice", DEV, policy(allow("sts:AssumeRole", TAGGED_ROLE)))
    tagging = user("alice", DEV, policy(allow(["sts:AssumeRole", "sts:TagSession"], TAGGED_ROLE)))
    context = tag_request({"Project": "A"})
    assert evaluate(sts(assume_only, "sts:TagSession", TAGGED_ROLE, trust_dev, context)).missing_allow == IDENTITY
    decision = evaluate(sts(tagging, "sts:TagSession", TAGGED_ROLE, trust_dev, context))
    assert decision.effect == ALLOW and [found.kind for found in decision.determining] == [IDENTITY, TRUST]


# ---------------------------------------------------------------------------------------------------------------
# Source identity: sts:SourceIdentity on sts:SetSourceIdentity, aws:SourceIdentity afterwards
# ---------------------------------------------------------------------------------------------------------------

DEVELOPER_ROLE = f"arn:aws:iam::{PROD}:role/Developer_Role"
DEV_USER = user_arn("DevUser", PROD)

# id_credentials_temp_control-access_monitor.html: "Example identity-based policy attached to DevUser".
DEV_USER_POLICY = policy(
    {"Sid": "AssumeRole", "Effect": "Allow", "Action": "sts:AssumeRole", "Resource": DEVELOPER_ROLE},
    {
        "Sid": "SetAwsUserNameAsSourceIdentity",
        "Effect": "Allow",
        "Action": "sts:SetSourceIdentity",
        "Resource": DEVELOPER_ROLE,
        "Condition": {"StringLike": {"sts:SourceIdentity": "${aws:username}"}},
    },
)
# The same page: "Example role trust policy for source identity".
SOURCE_IDENTITY_TRUST = policy(
    {
        "Sid": "AllowDevUserAssumeRole",
        "Effect": "Allow",
        "Principal": {"AWS": DEV_USER},
        "Action": ["sts:AssumeRole", "sts:SetSourceIdentity"],
        "Condition": {"StringEquals": {"sts:SourceIdentity": "DevUser"}},
    }
)


@pytest.mark.parametrize(("source_identity", "allowed"), [("DevUser", True), ("Admin", False)])
def test_example_trust_policy_accepts_only_the_users_own_name(source_identity: str, allowed: bool) -> None:
    """id_credentials_temp_control-access_monitor.html: "When AWS evaluates the request, the request context contains
    the sts:SourceIdentity of DevUser", and the trust policy's condition defines the acceptable value."""
    caller = user("DevUser", PROD, DEV_USER_POLICY)
    context = {"sts:SourceIdentity": source_identity}
    decision = evaluate(sts(caller, "sts:SetSourceIdentity", DEVELOPER_ROLE, SOURCE_IDENTITY_TRUST, context))
    assert decision.allowed is allowed
    assert decision.missing_allow == (None if allowed else TRUST)


@pytest.mark.parametrize(("source_identity", "allowed"), [("DevUser", True), ("Admin", False)])
def test_example_identity_policy_fills_aws_username_for_the_source_identity(
    source_identity: str, allowed: bool
) -> None:
    """id_credentials_temp_control-access_monitor.html, SetAwsUserNameAsSourceIdentity (StringLike
    ${aws:username}); across accounts the identity policy has to allow (reference_policies_evaluation-logic-cross-
    account.html), so here it decides: DevUser lives in DEV and the trust policy allows DEV's principals."""
    role = DEVELOPER_ROLE
    identity = policy(*DEV_USER_POLICY["Statement"])
    caller = user("DevUser", DEV, identity)
    trust_dev = policy(trust({"AWS": DEV}, action=["sts:AssumeRole", "sts:SetSourceIdentity"]))
    decision = evaluate(sts(caller, "sts:SetSourceIdentity", role, trust_dev, {"sts:SourceIdentity": source_identity}))
    assert decision.allowed is allowed
    if allowed:
        assert StatementRef(IDENTITY, 0, "SetAwsUserNameAsSourceIdentity") in decision.determining
    else:
        assert decision.missing_allow == IDENTITY


CRITICAL_ROLE = f"arn:aws:iam::{PROD}:role/CriticalRole"
CRITICAL_ROLE_2 = f"arn:aws:iam::{DEV}:role/CriticalRole_2"
# id_credentials_temp_control-access_monitor.html, "Role chaining and cross-account requirements".
CRITICAL_ROLE_POLICY = policy({"Sid": "AssumeRoleAndSetSourceIdentity", "Effect": "Allow",
                               "Action": ["sts:AssumeRole", "sts:SetSourceIdentity"], "Resource": CRITICAL_ROLE_2})
CRITICAL_ROLE_2_TRUST = policy({"Effect": "Allow", "Principal": {"AWS": CRITICAL_ROLE},
                                "Action": ["sts:AssumeRole", "sts:SetSourceIdentity"],
                                "Condition": {"StringLike": {"aws:SourceIdentity": ["Saanvi", "Diego"]}}})


@pytest.mark.parametrize("action", ["sts:AssumeRole", "sts:SetSourceIdentity"])
@pytest.mark.parametrize(("source_identity", "allowed"), [("Saanvi", True), ("Diego", True), ("Mallory", False)])
def test_chained_cross_account_assume_checks_the_sessions_source_identity(
    action: str, source_identity: str, allowed: bool
) -> None:
    """id_credentials_temp_control-access_monitor.html: "the sts:SetSourceIdentity permission must be granted in both
    the permissions policy on CriticalRole and in the role trust policy on CriticalRole_2", whose condition reads
    the aws:SourceIdentity already set on the calling session."""
    caller = role_session(CRITICAL_ROLE, "saanvi-session", CRITICAL_ROLE_POLICY)
    context = {"aws:SourceIdentity": source_identity, "sts:SourceIdentity": source_identity}
    decision = evaluate(sts(caller, action, CRITICAL_ROLE_2, CRITICAL_ROLE_2_TRUST, context))
    assert decision.allowed is allowed
    assert decision.missing_allow == (None if allowed else TRUST)


def test_chained_set_source_identity_needs_the_permissions_policy_too() -> None:
    """id_credentials_temp_control-access_monitor.html: without sts:SetSourceIdentity in CriticalRole's permissions
    policy "the assume role operation will fail"."""
    caller = role_session(CRITICAL_ROLE, "s", policy(allow("sts:AssumeRole", CRITICAL_ROLE_2)))
    context = {"aws:SourceIdentity": "Saanvi", "sts:SourceIdentity": "Saanvi"}
    decision = evaluate(sts(caller, "sts:SetSourceIdentity", CRITICAL_ROLE_2, CRITICAL_ROLE_2_TRUST, context))
    assert decision.effect == IMPLICIT_DENY and decision.missing_allow == IDENTITY


def test_aws_source_identity_is_present_on_later_requests_of_the_session() -> None:
    """id_credentials_temp_control-access_monitor.html: "After a source identity is set, the aws:SourceIdentity key is
    present in all subsequent requests made during the role session"; a policy can require it (Null: true denies a
    session without one, reference_policies_elements_condition_operators.html)."""
    bucket = policy(
        allow("s3:PutObject", f"{BUCKET}/*", Principal={"AWS": CRITICAL_ROLE}),
        deny("s3:*", f"{BUCKET}/*", Sid="RequireSourceIdentity", Principal="*",
             Condition={"Null": {"aws:SourceIdentity": "true"}}),
    )
    caller = role_session(CRITICAL_ROLE, "s")
    assert evaluate(s3(caller, bucket_policy=bucket, context={"aws:SourceIdentity": "Saanvi"})).allowed
    decision = evaluate(s3(caller, bucket_policy=bucket))
    assert decision.effect == EXPLICIT_DENY and decision.deciding_statement == "RequireSourceIdentity"


# ---------------------------------------------------------------------------------------------------------------
# sts:TagSession and sts:SetSourceIdentity are authorized against the trust policy, like sts:AssumeRole
# ---------------------------------------------------------------------------------------------------------------

STS_PERMISSION_ACTIONS = ["sts:TagSession", "sts:SetSourceIdentity"]


@pytest.mark.parametrize("action", STS_PERMISSION_ACTIONS)
def test_without_a_trust_policy_nobody_may_tag_or_set_source_identity(action: str) -> None:
    """STS API_AssumeRole.html and reference_policies_evaluation-logic.html: a role's trust policy must allow
    explicitly; an identity allow of sts:* is not enough."""
    decision = evaluate(sts(user("alice", PROD, policy(allow("sts:*"))), action, TAGGED_ROLE, None, {}))
    assert decision.effect == IMPLICIT_DENY and decision.missing_allow == TRUST


@pytest.mark.parametrize("action", STS_PERMISSION_ACTIONS)
def test_trust_policy_deny_on_the_permission_action_is_an_explicit_deny(action: str) -> None:
    """reference_policies_evaluation-logic.html: an explicit Deny in the trust policy wins over its Allow."""
    trust_policy = policy(trust({"AWS": PROD}, action=["sts:AssumeRole", action]),
                          trust({"AWS": PROD}, action=action, effect="Deny", Sid="NoExtras"))
    decision = evaluate(sts(user("alice", PROD, policy(allow("sts:*"))), action, TAGGED_ROLE, trust_policy, {}))
    assert decision.effect == EXPLICIT_DENY and decision.determining == (StatementRef(TRUST, 0, "NoExtras"),)


@pytest.mark.parametrize("action", STS_PERMISSION_ACTIONS)
def test_same_account_trust_naming_the_account_delegates_to_the_identity_policy(action: str) -> None:
    """STS API_AssumeRole.html: in the same account, a trust policy naming the account needs the identity allow."""
    trust_policy = policy(trust({"AWS": PROD}, action=["sts:AssumeRole", action]))
    without = evaluate(sts(user("alice", PROD), action, TAGGED_ROLE, trust_policy, {}))
    assert without.missing_allow == IDENTITY
    assert evaluate(sts(user("alice", PROD, policy(allow(action))), action, TAGGED_ROLE, trust_policy, {})).allowed


@pytest.mark.parametrize("action", STS_PERMISSION_ACTIONS)
def test_root_user_cannot_tag_or_set_source_identity_either(action: str) -> None:
    """id_roles_use_switch-role-console.html: the root user cannot assume a role."""
    decision = evaluate(sts(root(PROD), action, TAGGED_ROLE, policy(trust({"AWS": PROD}, action=action)), {}))
    assert decision.effect == IMPLICIT_DENY
