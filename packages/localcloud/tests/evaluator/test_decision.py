"""The structured decision: effect, missing_allow, determining and errors, asserted as data, never as prose.

Each test names the page its rule comes from (IAM User Guide unless said otherwise). ``aws_denial_clause`` below is
the consumer the fields exist for: it writes the tail of AWS's access-denied message (troubleshoot_access-denied.html)
from the fields alone, the way localcloud/gate.py's ``denial_clause`` does today by matching ``reason`` prefixes.
"""

from __future__ import annotations

import pytest

from localcloud.evaluator import (
    ALLOW,
    BOUNDARY,
    EXPLICIT_DENY,
    IDENTITY,
    IMPLICIT_DENY,
    RESOURCE,
    SESSION,
    TRUST,
    AccessRequest,
    Caller,
    Decision,
    StatementRef,
    evaluate,
    is_always_allowed,
    is_trust_policy_action,
)
from localcloud_testing.evaluation import (
    APP_ROLE,
    ASSUME_ANY_PROD_ROLE,
    BUCKET,
    BUCKET_ALLOWS_DEV,
    DEV,
    DEV_ROLE,
    PROD,
    PUT_INCOMING,
    ROLE,
    TRUST_DEV_ROOT,
    alice,
    allow,
    assume,
    deny,
    policy,
    root,
    s3,
    service,
    session,
    trust,
    user,
    user_arn,
)

_PHRASES = {
    IDENTITY: "an identity-based policy",
    RESOURCE: "a resource-based policy",
    BOUNDARY: "a permissions boundary",
    SESSION: "a session policy",
    TRUST: "a resource-based policy",
}
_NO_ALLOW = {
    IDENTITY: "identity-based policy",
    RESOURCE: "resource-based policy",
    BOUNDARY: "permissions boundary",
    SESSION: "session policy",
    TRUST: "resource-based policy",
}


def aws_denial_clause(decision: Decision, action: str) -> str:
    """The tail of AWS's access-denied message, from the structured fields only."""
    if decision.effect == EXPLICIT_DENY:
        return f" with an explicit deny in {_PHRASES[decision.determining[0].kind]}"
    if decision.effect == IMPLICIT_DENY and decision.missing_allow is not None:
        return f" because no {_NO_ALLOW[decision.missing_allow]} allows the {action} action"
    return ""


def ref(kind: str, statement: str, policy: int = 0) -> StatementRef:
    return StatementRef(kind, policy, statement)


# ---------------------------------------------------------------------------------------------------------------
# Allow
# ---------------------------------------------------------------------------------------------------------------


def test_same_account_identity_allow_is_determined_by_the_identity_statement() -> None:
    """reference_policies_evaluation-logic.html: in one account an identity-based Allow is enough."""
    decision = evaluate(s3(alice(policy(allow("s3:GetObject")), PUT_INCOMING)))
    assert decision.effect == ALLOW and decision.allowed
    assert decision.missing_allow is None and decision.errors == ()
    assert decision.determining == (ref(IDENTITY, "#1", policy=1),)
    assert decision.deciding_policy == IDENTITY


def test_allow_under_boundary_and_session_policy_names_a_statement_of_each_kind() -> None:
    """access_policies.html#policies_session: the session's permissions are the intersection of the identity-based
    policy, the permissions boundary and the session policy, so each of them determined the allow."""
    caller = Caller(
        f"arn:aws:sts::{PROD}:assumed-role/App/s1", "assumed-role", PROD, APP_ROLE,
        identity_policies=(PUT_INCOMING,),
        permissions_boundary=policy(allow("s3:*", Sid="S3Only")),
        session_policies=(policy(allow("s3:PutObject", Sid="Uploads")),),
    )
    decision = evaluate(s3(caller))
    assert decision.effect == ALLOW
    assert decision.determining == (ref(IDENTITY, "#1"), ref(BOUNDARY, "S3Only"), ref(SESSION, "Uploads"))


def test_allow_lists_every_allowing_statement_of_a_kind() -> None:
    """reference_policies_evaluation-logic.html: any Allow of the kind grants; all of them are determining."""
    decision = evaluate(s3(alice(policy(allow("s3:PutObject", Sid="A"), allow("s3:*", Sid="B")))))
    assert decision.determining == (ref(IDENTITY, "A"), ref(IDENTITY, "B"))


def test_cross_account_allow_is_determined_by_both_sides() -> None:
    """reference_policies_evaluation-logic-cross-account.html: the caller's identity policy and the bucket policy."""
    decision = evaluate(s3(session(DEV_ROLE, "ci", PUT_INCOMING), bucket_policy=BUCKET_ALLOWS_DEV))
    assert decision.effect == ALLOW
    assert decision.determining == (ref(IDENTITY, "#1"), ref(RESOURCE, "#1"))
    assert decision.deciding_policy == RESOURCE


def test_cross_account_assume_role_is_determined_by_identity_and_trust() -> None:
    """STS API_AssumeRole.html: cross-account, the trust policy and the caller's identity policy both allow."""
    decision = evaluate(assume(user("alice", DEV, ASSUME_ANY_PROD_ROLE), TRUST_DEV_ROOT))
    assert decision.effect == ALLOW
    assert decision.determining == (ref(IDENTITY, "#1"), ref(TRUST, "#1"))


def test_same_account_grant_naming_the_user_is_determined_by_the_bucket_policy_alone() -> None:
    """reference_policies_evaluation-logic.html: a same-account grant naming the user needs no identity allow."""
    bucket = policy(
        allow("s3:PutObject", f"{BUCKET}/*", Sid="Alice", Principal={"AWS": user_arn("alice", PROD)}),
        allow("s3:PutObject", f"{BUCKET}/*", Sid="Account", Principal={"AWS": PROD}),
    )
    decision = evaluate(s3(alice(), bucket_policy=bucket))
    assert decision.effect == ALLOW
    assert decision.determining == (ref(RESOURCE, "Alice"),)


def test_same_account_grant_naming_the_role_is_determined_with_the_session_policy() -> None:
    """reference_policies_evaluation-logic.html: a grant to the role ARN is still limited by the session policy."""
    bucket = policy(allow("s3:PutObject", f"{BUCKET}/*", Sid="App", Principal={"AWS": APP_ROLE}))
    caller = session(APP_ROLE, "s1", session_policy=policy(allow("s3:PutObject", Sid="Uploads")))
    decision = evaluate(s3(caller, bucket_policy=bucket))
    assert decision.effect == ALLOW
    assert decision.determining == (ref(RESOURCE, "App"), ref(SESSION, "Uploads"))


def test_root_user_in_its_own_account_is_allowed_without_determining_statements() -> None:
    """reference_policies_evaluation-logic.html: the root user has full access to its account's resources."""
    decision = evaluate(s3(root(PROD)))
    assert decision.effect == ALLOW and decision.determining == ()


def test_service_principal_allow_is_determined_by_the_trust_statement() -> None:
    """reference_policies_elements_principal.html: a Service principal in the trust policy."""
    decision = evaluate(assume(service("lambda.amazonaws.com"), policy(trust({"Service": "lambda.amazonaws.com"}))))
    assert decision.effect == ALLOW and decision.determining == (ref(TRUST, "#1"),)


# ---------------------------------------------------------------------------------------------------------------
# Explicit deny, in each policy kind
# ---------------------------------------------------------------------------------------------------------------


EXPLICIT_DENIES: list[tuple[str, AccessRequest]] = [
    (IDENTITY, s3(alice(PUT_INCOMING, policy(deny("s3:PutObject", Sid="X"))))),
    (RESOURCE, s3(alice(PUT_INCOMING), bucket_policy=policy(deny("s3:PutObject", Sid="X", Principal="*")))),
    (BOUNDARY, s3(alice(PUT_INCOMING, boundary=policy(allow("*"), deny("s3:PutObject", Sid="X"))))),
    (SESSION, s3(session(APP_ROLE, "s1", PUT_INCOMING, session_policy=policy(allow("*"), deny("s3:*", Sid="X"))))),
    (TRUST, assume(user("alice", DEV, ASSUME_ANY_PROD_ROLE),
                   policy(trust({"AWS": DEV}), trust({"AWS": user_arn("alice")}, effect="Deny", Sid="X")))),
]


@pytest.mark.parametrize(("kind", "request_"), EXPLICIT_DENIES, ids=[kind for kind, _ in EXPLICIT_DENIES])
def test_explicit_deny_names_its_policy_kind_and_statement(kind: str, request_: AccessRequest) -> None:
    """reference_policies_evaluation-logic.html: an explicit Deny in any applicable policy overrides every Allow."""
    decision = evaluate(request_)
    assert decision.effect == EXPLICIT_DENY and not decision.allowed
    assert decision.missing_allow is None
    assert [(found.kind, found.statement) for found in decision.determining] == [(kind, "X")]
    assert (decision.deciding_policy, decision.deciding_statement) == (kind, "X")
    assert aws_denial_clause(decision, request_.action) == f" with an explicit deny in {_PHRASES[kind]}"


def test_explicit_deny_lists_every_applicable_deny_in_policy_order() -> None:
    """reference_policies_evaluation-logic.html: every applicable Deny is an explicit deny."""
    caller = alice(PUT_INCOMING, policy(deny("s3:Put*", Sid="NoPut")), boundary=policy(allow("*"), deny("s3:*")))
    decision = evaluate(s3(caller, bucket_policy=policy(deny("s3:PutObject", Sid="Frozen", Principal="*"))))
    assert decision.determining == (ref(IDENTITY, "NoPut", 1), ref(BOUNDARY, "#2"), ref(RESOURCE, "Frozen"))
    assert decision.deciding_policy == IDENTITY


def test_get_caller_identity_is_answered_by_the_evaluator_even_under_explicit_deny() -> None:
    """STS API_GetCallerIdentity.html: no permissions are required, even under an explicit deny."""
    decision = evaluate(AccessRequest(alice(policy(deny("*"))), "STS:GetCallerIdentity", "*", None))
    assert decision.effect == ALLOW and decision.determining == () and decision.errors == ()
    assert "API_GetCallerIdentity.html" in decision.reason


# ---------------------------------------------------------------------------------------------------------------
# Implicit deny, for each kind that did not allow
# ---------------------------------------------------------------------------------------------------------------


IMPLICIT_DENIES: list[tuple[str, str, AccessRequest]] = [
    ("no_identity_allow", IDENTITY, s3(alice())),
    ("boundary_does_not_allow", BOUNDARY, s3(alice(PUT_INCOMING, boundary=policy(allow("s3:GetObject"))))),
    ("session_policy_does_not_allow", SESSION,
     s3(session(APP_ROLE, "s1", PUT_INCOMING, session_policy=policy(allow("s3:GetObject"))))),
    ("cross_account_without_bucket_policy", RESOURCE, s3(session(DEV_ROLE, "ci", PUT_INCOMING))),
    ("cross_account_bucket_policy_not_naming_caller", RESOURCE,
     s3(session(DEV_ROLE, "ci", PUT_INCOMING),
        bucket_policy=policy(allow("s3:PutObject", f"{BUCKET}/*", Principal={"AWS": "333333333333"})))),
    ("cross_account_identity_side_missing", IDENTITY, s3(session(DEV_ROLE, "ci"), bucket_policy=BUCKET_ALLOWS_DEV)),
    ("service_without_resource_grant", RESOURCE, s3(service("logging.s3.amazonaws.com"))),
    ("role_without_trust_policy", TRUST, assume(alice(ASSUME_ANY_PROD_ROLE), None)),
    ("trust_policy_not_allowing_assume_role", TRUST,
     assume(user("alice", DEV, ASSUME_ANY_PROD_ROLE), policy(trust({"AWS": "333333333333"})))),
    ("trust_allows_only_another_action", TRUST,
     assume(user("alice", DEV, ASSUME_ANY_PROD_ROLE), policy(trust({"AWS": DEV}, action="sts:TagSession")))),
    ("cross_account_assume_without_identity_allow", IDENTITY, assume(user("alice", DEV), TRUST_DEV_ROOT)),
]


@pytest.mark.parametrize(("missing", "request_"), [(m, r) for _, m, r in IMPLICIT_DENIES],
                         ids=[name for name, _, _ in IMPLICIT_DENIES])
def test_implicit_deny_names_the_kind_that_did_not_allow(missing: str, request_: AccessRequest) -> None:
    """reference_policies_evaluation-logic.html (default deny; boundary and session policy narrow),
    reference_policies_evaluation-logic-cross-account.html (both sides), STS API_AssumeRole.html (trust policy)."""
    decision = evaluate(request_)
    assert decision.effect == IMPLICIT_DENY and not decision.allowed
    assert decision.missing_allow == missing
    assert decision.determining == ()


@pytest.mark.parametrize(
    ("missing", "phrase"),
    [(IDENTITY, "identity-based policy"), (BOUNDARY, "permissions boundary"), (SESSION, "session policy"),
     (RESOURCE, "resource-based policy")],
)
def test_the_gate_can_write_awss_implicit_deny_clause_from_the_fields(missing: str, phrase: str) -> None:
    """troubleshoot_access-denied.html: "because no <policy type> allows the <action> action"."""
    request_ = next(r for _, m, r in IMPLICIT_DENIES if m == missing)
    clause = aws_denial_clause(evaluate(request_), request_.action)
    assert clause == f" because no {phrase} allows the {request_.action} action"


def test_root_user_assuming_a_role_is_an_implicit_deny_outside_any_policy_kind() -> None:
    """id_roles_use_switch-role-console.html: the root user cannot assume a role, whatever the policies say."""
    decision = evaluate(assume(root(DEV), TRUST_DEV_ROOT))
    assert decision.effect == IMPLICIT_DENY and decision.missing_allow is None and decision.determining == ()


# ---------------------------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------------------------


def test_unsupported_operator_in_an_allow_is_reported_as_an_error() -> None:
    """reference_policies_elements_condition_operators.html: StringEqualz is no operator; it never grants."""
    caller = alice(policy(allow("s3:PutObject", Sid="Typo", Condition={"StringEqualz": {"s3:prefix": "x"}})))
    decision = evaluate(s3(caller, context={"s3:prefix": "x"}))
    assert decision.effect == IMPLICIT_DENY and decision.missing_allow == IDENTITY
    assert len(decision.errors) == 1
    assert decision.errors[0].startswith(f"{IDENTITY} 0 (statement Typo)") and "StringEqualz" in decision.errors[0]


def test_unsupported_operator_in_a_deny_still_denies_and_is_reported() -> None:
    """reference_policies_elements_condition_operators.html; the evaluator fails closed (conditions.py)."""
    caller = alice(PUT_INCOMING, policy(deny("s3:*", Sid="Typo", Condition={"StringEqualz": {"s3:prefix": "x"}})))
    decision = evaluate(s3(caller))
    assert decision.effect == EXPLICIT_DENY and decision.determining == (ref(IDENTITY, "Typo", 1),)
    assert len(decision.errors) == 1 and "still denies" in decision.errors[0]


def test_errored_statement_is_reported_on_an_allow_too() -> None:
    """reference_policies_variables.html: a statement whose variable has no value is invalid and does not apply;
    another statement still allows, and the errored one is reported, as Cedar reports errored policies."""
    caller = session(APP_ROLE, "s1", policy(allow("s3:PutObject", f"{BUCKET}/home/${{aws:username}}/*", Sid="Home"),
                                           allow("s3:PutObject", f"{BUCKET}/*", Sid="All")))
    decision = evaluate(s3(caller, resource=f"{BUCKET}/home/s1/a.txt"))
    assert decision.effect == ALLOW and decision.determining == (ref(IDENTITY, "All"),)
    assert len(decision.errors) == 1 and "(statement Home)" in decision.errors[0]
    assert "aws:username" in decision.errors[0]


def test_every_errored_statement_is_reported_once_whatever_decides() -> None:
    """Cedar-style diagnostics: errors do not depend on which statement decided first."""
    typo = {"StringEqualz": {"s3:prefix": "x"}}
    caller = alice(policy(deny("s3:PutObject", Sid="D"), deny("s3:*", Sid="T1", Condition=typo),
                          allow("s3:*", Sid="T2", Condition=typo)))
    decision = evaluate(s3(caller))
    assert decision.effect == EXPLICIT_DENY
    assert [error.split(":")[0] for error in decision.errors] == [
        f"{IDENTITY} 0 (statement T1)", f"{IDENTITY} 0 (statement T2)"]


# ---------------------------------------------------------------------------------------------------------------
# Constructor contract and helpers
# ---------------------------------------------------------------------------------------------------------------


def test_positional_constructor_derives_the_effect() -> None:
    """The gate's own answers: Decision(True, ...) and Decision(False, ...)."""
    assert Decision(True, "sts:GetSessionToken needs no permission").effect == ALLOW
    denied = Decision(False, "no role exists", None, None)
    assert (denied.effect, denied.missing_allow, denied.determining, denied.errors) == (IMPLICIT_DENY, None, (), ())


@pytest.mark.parametrize(
    "kwargs",
    [
        {"allowed": True, "effect": EXPLICIT_DENY},
        {"allowed": False, "effect": ALLOW},
        {"allowed": False, "effect": "deny"},
        {"allowed": False, "effect": EXPLICIT_DENY, "missing_allow": IDENTITY},
        {"allowed": False, "missing_allow": "bucket policy"},
    ],
)
def test_inconsistent_decisions_are_refused(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        Decision(reason="r", **kwargs)


def test_action_helpers_are_case_insensitive() -> None:
    """STS API_AssumeRole.html (trust policy actions), API_GetCallerIdentity.html (always allowed)."""
    for action in ("sts:AssumeRole", "STS:TAGSESSION", "sts:setsourceidentity", "sts:AssumeRoleWithWebIdentity"):
        assert is_trust_policy_action(action)
    assert not is_trust_policy_action("sts:GetCallerIdentity") and not is_trust_policy_action("s3:PutObject")
    assert is_always_allowed("sts:GetCallerIdentity") and is_always_allowed("STS:getcalleridentity")
    assert not is_always_allowed("sts:AssumeRole")


def test_statement_ref_names_the_role_of_the_trust_policy() -> None:
    """A determining trust statement is reported as the trust policy's, for the role being assumed."""
    decision = evaluate(AccessRequest(user("alice", PROD), "sts:AssumeRole", ROLE, PROD, {},
                                      policy(trust({"AWS": user_arn("alice", PROD)}, Sid="Alice"))))
    assert decision.determining == (ref(TRUST, "Alice"),)
