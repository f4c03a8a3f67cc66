"""Session policies as AssumeRole passes them: the inline ``Policy`` and the managed ``PolicyArns``.

Rule (localcloud/iam/evaluation.py docstring): all of a session's session policies are one policy type; the session
may do what any of them allows, intersected with the role's identity-based policies; an explicit Deny in any of them
wins. Pages: access_policies.html#policies_session, access_policies.html ("Overview of JSON policies": a logical OR
across the policies of a request), reference_policies_evaluation-logic.html (one session-policy step), STS
API_AssumeRole.html (Policy and PolicyArns; "the intersection of the role's identity-based policy and the session
policies").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from localcloud.evaluator import ALLOW, EXPLICIT_DENY, IDENTITY, IMPLICIT_DENY, SESSION, Caller, StatementRef, evaluate
from localcloud_testing.evaluation import APP_ROLE, BUCKET, PROD, PUT_INCOMING, allow, deny, policy, s3

SESSION_ARN = f"arn:aws:sts::{PROD}:assumed-role/App/s1"
ROLE_CAN_DO_S3 = policy(allow("s3:*"))
READ_ONLY = policy(allow("s3:GetObject", Sid="Read"))  # e.g. a managed policy passed in PolicyArns
UPLOADS = policy(allow("s3:PutObject", f"{BUCKET}/incoming/*", Sid="Uploads"))


def app_session(
    *session_policies: Mapping[str, Any],
    identity: tuple[Mapping[str, Any], ...] = (ROLE_CAN_DO_S3,),
    session_policy: Mapping[str, Any] | None = None,
) -> Caller:
    return Caller(SESSION_ARN, "assumed-role", PROD, APP_ROLE, identity_policies=identity,
                  session_policy=session_policy, session_policies=session_policies)


def test_managed_session_policy_alone_narrows_the_role() -> None:
    """STS API_AssumeRole.html, PolicyArns: managed session policies limit the session like the inline one."""
    decision = evaluate(s3(app_session(READ_ONLY)))
    assert decision.effect == IMPLICIT_DENY and decision.missing_allow == SESSION
    assert evaluate(s3(app_session(READ_ONLY), "s3:GetObject")).allowed


def test_inline_and_managed_session_policies_allow_when_any_of_them_allows() -> None:
    """access_policies.html: one policy type, OR across its policies; the inline policy (index 0) lacks the action,
    the managed one (index 1) has it."""
    decision = evaluate(s3(app_session(READ_ONLY, UPLOADS)))
    assert decision.effect == ALLOW
    assert StatementRef(SESSION, 1, "Uploads") in decision.determining
    assert StatementRef(SESSION, 0, "Read") not in decision.determining


def test_no_session_policy_allowing_is_an_implicit_deny_of_the_session_kind() -> None:
    """reference_policies_evaluation-logic.html: a present session policy that does not allow implicitly denies."""
    decision = evaluate(s3(app_session(READ_ONLY, policy(allow("s3:ListBucket")))))
    assert decision.effect == IMPLICIT_DENY and decision.missing_allow == SESSION


def test_explicit_deny_in_a_managed_session_policy_beats_the_inline_allow() -> None:
    """access_policies.html#policies_session: an explicit deny in any of these policies overrides the allow."""
    decision = evaluate(s3(app_session(UPLOADS, policy(deny("s3:PutObject", Sid="Frozen")))))
    assert decision.effect == EXPLICIT_DENY
    assert decision.determining == (StatementRef(SESSION, 1, "Frozen"),)


def test_session_policies_never_grant_what_the_role_does_not() -> None:
    """STS API_AssumeRole.html: "You cannot use session policies to grant more permissions than those allowed by the
    identity-based policy of the role that is being assumed"."""
    decision = evaluate(s3(app_session(policy(allow("*")), identity=())))
    assert decision.effect == IMPLICIT_DENY and decision.missing_allow == IDENTITY


def test_legacy_session_policy_field_counts_as_one_more_session_policy() -> None:
    """The older single ``session_policy`` joins ``session_policies`` (after them) as one more of the same type."""
    caller = app_session(READ_ONLY, session_policy=UPLOADS)
    decision = evaluate(s3(caller))
    assert decision.effect == ALLOW and StatementRef(SESSION, 1, "Uploads") in decision.determining
    assert caller.all_session_policies == (READ_ONLY, UPLOADS)
    assert evaluate(s3(app_session(session_policy=READ_ONLY))).missing_allow == SESSION


def test_no_session_policies_means_no_narrowing() -> None:
    """reference_policies_evaluation-logic.html: without a session policy a role session is allowed by its role."""
    assert evaluate(s3(app_session())).allowed
    assert evaluate(s3(app_session(identity=(PUT_INCOMING,)))).allowed


def test_grant_to_the_session_arn_is_not_limited_by_managed_session_policies() -> None:
    """access_policies.html#policies_session: a resource-based policy naming the session ARN is not limited by the
    session policy."""
    bucket = policy(allow("s3:PutObject", f"{BUCKET}/*", Principal={"AWS": SESSION_ARN}))
    assert evaluate(s3(app_session(READ_ONLY, identity=()), bucket_policy=bucket)).allowed


def test_grant_to_the_role_arn_is_limited_by_managed_session_policies() -> None:
    """access_policies.html#policies_session: a resource-based policy naming the role ARN is limited by the session
    policies, any of which may allow."""
    bucket = policy(allow("s3:PutObject", f"{BUCKET}/*", Principal={"AWS": APP_ROLE}))
    assert evaluate(s3(app_session(READ_ONLY, identity=()), bucket_policy=bucket)).missing_allow == SESSION
    assert evaluate(s3(app_session(READ_ONLY, UPLOADS, identity=()), bucket_policy=bucket)).allowed
