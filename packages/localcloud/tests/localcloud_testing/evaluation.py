"""The evaluator cases' vocabulary: accounts, ARNs, the documentation pages they cite, and small builders of
policies, callers and requests (shared by every file in tests/evaluator/)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from localcloud.evaluator import AccessRequest, Caller, evaluate

PROD = "111111111111"
DEV = "222222222222"
OTHER = "333333333333"

BUCKET = "arn:aws:s3:::prod-bucket"
OBJECT = f"{BUCKET}/incoming/data.csv"
ROLE = f"arn:aws:iam::{PROD}:role/writers/DevWriter"  # with a path: the session ARN drops it
DEV_ROLE = f"arn:aws:iam::{DEV}:role/ci/Deployer"
APP_ROLE = f"arn:aws:iam::{PROD}:role/App"  # a role in the bucket account

EVAL_LOGIC = "reference_policies_evaluation-logic.html"
CROSS_ACCOUNT = "reference_policies_evaluation-logic-cross-account.html"
PRINCIPAL = "reference_policies_elements_principal.html"
NOT_PRINCIPAL = "reference_policies_elements_notprincipal.html"
OPERATORS = "reference_policies_elements_condition_operators.html"
MULTI_VALUE = "reference_policies_condition-logic-multiple-context-keys-or-values.html"
SET_OPERATORS = "reference_policies_multi-value-conditions.html"
ACTION = "reference_policies_elements_action.html"
RESOURCE = "reference_policies_elements_resource.html"
NOT_ACTION = "reference_policies_elements_notaction.html"
NOT_RESOURCE = "reference_policies_elements_notresource.html"
BOUNDARIES = "access_policies_boundaries.html"
SESSION_POLICIES = "access_policies.html"
REVOKE = "id_roles_use_revoke-sessions.html"
ASSUME_ROLE = "API_AssumeRole.html"
GET_CALLER_IDENTITY = "API_GetCallerIdentity.html"
SWITCH_ROLE = "id_roles_use_switch-role-console.html"
CONDITION_KEYS = "reference_policies_condition-keys.html"
VARIABLES = "reference_policies_variables.html"
S3_ACTIONS = "using-with-s3-policy-actions.html"
SESSION_TAGS = "id_session-tags.html"
SOURCE_IDENTITY = "id_credentials_temp_control-access_monitor.html"
SINGLE_VS_MULTI = "reference_policies_condition-single-vs-multi-valued-context-keys.html"
CONFUSED_DEPUTY = "confused-deputy.html"
DISABLE_PERMISSIONS = "id_credentials_temp_control-access_disable-perms.html"
SOURCE_FUNCTION_ARN = "permissions-source-function-arn.html"  # Lambda Developer Guide
# KMS Developer Guide
KEY_POLICIES = "key-policies.html"
KEY_POLICY_DEFAULT = "key-policy-default.html"
KEY_POLICY_EXTERNAL = "key-policy-modifying-external-accounts.html"
KMS_IAM_POLICIES = "iam-policies.html"
KMS_CONDITIONS = "conditions-kms.html"
# Amazon S3 User Guide
S3_SSE_KMS = "UsingKMSEncryption.html"
S3_BUCKET_KEYS = "bucket-key.html"

PAGES = {
    EVAL_LOGIC, CROSS_ACCOUNT, PRINCIPAL, NOT_PRINCIPAL, OPERATORS, MULTI_VALUE, SET_OPERATORS, ACTION, RESOURCE,
    NOT_ACTION, NOT_RESOURCE, BOUNDARIES, SESSION_POLICIES, REVOKE, ASSUME_ROLE, GET_CALLER_IDENTITY, SWITCH_ROLE,
    CONDITION_KEYS, VARIABLES, S3_ACTIONS, SESSION_TAGS, SOURCE_IDENTITY, SINGLE_VS_MULTI, CONFUSED_DEPUTY,
    DISABLE_PERMISSIONS, SOURCE_FUNCTION_ARN, KEY_POLICIES, KEY_POLICY_DEFAULT, KEY_POLICY_EXTERNAL,
    KMS_IAM_POLICIES, KMS_CONDITIONS, S3_SSE_KMS, S3_BUCKET_KEYS,
}


def assert_follows_aws_rule(case: Case) -> None:
    """The evaluator decides ``case`` as AWS documents it (its page), for the documented reason when it names one."""
    decision = evaluate(case.request)
    assert decision.allowed is case.allowed, (
        f"expected allowed={case.allowed} (see {case.page}), got: {decision.reason}"
    )
    if case.reason is not None:
        assert case.reason in decision.reason, f"reason {decision.reason!r} lacks {case.reason!r}"


def assert_table_is_well_formed(cases: list[Case]) -> None:
    """Every case of a table has its own id and cites a page of the known list."""
    ids = [case.id for case in cases]
    assert len(set(ids)) == len(ids), f"duplicate ids: {sorted(i for i in ids if ids.count(i) > 1)}"
    unknown = {case.id: case.page for case in cases if not known_page(case.page)}
    assert not unknown, f"cases citing pages outside the list: {unknown}"


def known_page(page: str) -> bool:
    """Whether ``page`` (optionally with a ``#section`` anchor) is one of the pages cases may cite."""
    return page.split("#", 1)[0] in PAGES


@dataclass(frozen=True)
class Case:
    """One rule: the request, what AWS decides, and the page that says so."""

    id: str
    request: AccessRequest
    allowed: bool
    page: str
    reason: str | None = None  # a fragment the Decision.reason must contain, when the wording matters


# ---------------------------------------------------------------------------------------------------------------
# Builders: small on purpose, so each case reads as its rule
# ---------------------------------------------------------------------------------------------------------------


def policy(*statements: Mapping[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(action: str | list[str], resource: str | list[str] = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action: str | list[str], resource: str | list[str] = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def trust(
    principal: Any, *, action: str | list[str] = "sts:AssumeRole", effect: str = "Allow", **extra: Any
) -> dict[str, Any]:
    """A trust policy statement: no Resource element (the role is the resource)."""
    return {"Effect": effect, "Principal": principal, "Action": action, **extra}


def user(
    name: str = "alice",
    account: str = DEV,
    *policies: Mapping[str, Any],
    boundary: Mapping[str, Any] | None = None,
) -> Caller:
    arn = f"arn:aws:iam::{account}:user/{name}"
    return Caller(arn, "user", account, arn, identity_policies=policies, permissions_boundary=boundary)


def session(
    role_arn: str = DEV_ROLE,
    name: str = "ci",
    *policies: Mapping[str, Any],
    session_policy: Mapping[str, Any] | None = None,
) -> Caller:
    account = role_arn.split(":")[4]
    role_name = role_arn.rsplit("/", 1)[-1]
    arn = f"arn:aws:sts::{account}:assumed-role/{role_name}/{name}"
    return Caller(arn, "assumed-role", account, role_arn, identity_policies=policies, session_policy=session_policy)


def root(account: str = PROD) -> Caller:
    arn = f"arn:aws:iam::{account}:root"
    return Caller(arn, "root", account, arn)


def service(name: str) -> Caller:
    return Caller(name, "service", None, name)


def s3(
    caller: Caller,
    action: str = "s3:PutObject",
    resource: str = OBJECT,
    *,
    account: str | None = PROD,
    bucket_policy: Mapping[str, Any] | None = None,
    context: Mapping[str, Any] | None = None,
) -> AccessRequest:
    return AccessRequest(caller, action, resource, account, dict(context or {}), bucket_policy)


def assume(
    caller: Caller,
    trust_policy: Mapping[str, Any] | None,
    *,
    role_arn: str = ROLE,
    context: Mapping[str, Any] | None = None,
) -> AccessRequest:
    return AccessRequest(caller, "sts:AssumeRole", role_arn, role_arn.split(":")[4], dict(context or {}), trust_policy)


def user_arn(name: str, account: str = DEV) -> str:
    return f"arn:aws:iam::{account}:user/{name}"


def alice(*policies: Mapping[str, Any], **kwargs: Any) -> Caller:
    """The bucket account's own user."""
    return user("alice", PROD, *policies, **kwargs)


def when(condition: Mapping[str, Any], action: str = "s3:PutObject") -> dict[str, Any]:
    """An identity policy allowing ``action`` on everything, only under ``condition``."""
    return policy(allow(action, "*", Condition=condition))


# Frequently used policies.
PUT_INCOMING = policy(allow("s3:PutObject", f"{BUCKET}/incoming/*"))
ASSUME_ANY_PROD_ROLE = policy(allow("sts:AssumeRole", f"arn:aws:iam::{PROD}:role/*"))
BUCKET_ALLOWS_DEV = policy(allow("s3:PutObject", f"{BUCKET}/*", Principal={"AWS": f"arn:aws:iam::{DEV}:root"}))
TRUST_DEV_ROOT = policy(trust({"AWS": f"arn:aws:iam::{DEV}:root"}))
TRUST_PROD_ROOT = policy(trust({"AWS": f"arn:aws:iam::{PROD}:root"}))
SECURE_TRANSPORT_DENY = {
    "Sid": "DenyInsecureTransport",
    "Effect": "Deny",
    "Principal": "*",
    "Action": "s3:*",
    "Resource": [BUCKET, f"{BUCKET}/*"],
    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
}
TLS_ONLY_BUCKET = policy(SECURE_TRANSPORT_DENY, *BUCKET_ALLOWS_DEV["Statement"])
REVOKE_BEFORE = policy(
    {
        "Sid": "RevokeOlderSessions",
        "Effect": "Deny",
        "Action": "*",
        "Resource": "*",
        "Condition": {"DateLessThan": {"aws:TokenIssueTime": "2026-01-01T12:00:00Z"}},
    }
)
PREFIX_LISTING = policy(
    allow("s3:ListBucket", BUCKET, Condition={"StringLike": {"s3:prefix": ["incoming/*", "incoming/"]}})
)
MFA_REQUIRED_TRUST = policy(
    trust({"AWS": f"arn:aws:iam::{DEV}:root"}, Condition={"Bool": {"aws:MultiFactorAuthPresent": True}})
)
CI_USERS_ONLY_TRUST = policy(
    trust({"AWS": DEV}, Condition={"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{DEV}:user/ci-*"}})
)
EXTERNAL_ID_TRUST = policy(
    trust({"AWS": f"arn:aws:iam::{DEV}:root"}, Condition={"StringEquals": {"sts:ExternalId": "prod-uploads-7f3a"}})
)
DENY_WITHOUT_MFA = policy(
    allow("s3:*", f"{BUCKET}/*"),
    deny(
        "s3:PutObject",
        f"{BUCKET}/*",
        Sid="DenyWithoutMfa",
        Condition={"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}},
    ),
)
