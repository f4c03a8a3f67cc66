"""The IAM policy evaluation algorithm of localcloud: one request in, one structured decision out (decision.py).

Pure and deterministic: standard library only, no clock, no I/O. The caller (the localcloud gate) resolves who is
calling and which policies apply; this module decides. Sources (IAM User Guide unless said otherwise):

- reference_policies_evaluation-logic.html: default deny; an explicit Deny in any applicable policy wins; in the same
  account a resource policy naming the user or the session ARN grants alone, one naming the role ARN is still
  limited by the permissions boundary and session policy; role trust policies must always allow explicitly.
- reference_policies_evaluation-logic-cross-account.html: across accounts both the caller's account (identity
  policies, boundary, session policy) and the resource's account (resource or trust policy) must allow.
- STS API_AssumeRole.html: cross-account AssumeRole needs the trust policy and the caller's identity allow even when
  the trust policy names the user; in the same account either naming the caller in the trust policy or trusting the
  account plus an identity allow. sts:TagSession (id_session-tags.html, "Permissions required to add session tags")
  and sts:SetSourceIdentity (id_credentials_temp_control-access_monitor.html) are authorized the same way, against
  the trust policy and the caller's identity policy.
- STS API_GetCallerIdentity.html: "No permissions are required to perform this operation", so it is allowed even
  under an explicit deny.
- id_roles_use_switch-role-console.html: the root user cannot assume a role (STS answers "Roles may not be assumed
  by root accounts").
- KMS Developer Guide, key-policies.html: "Unless the key policy explicitly allows it, you cannot use IAM policies to
  allow access to a KMS key. Without permission from the key policy, IAM policies that allow permissions have no
  effect", for every principal, "including the account root user or key creator"; key-policy-default.html: a key
  policy statement naming the account (``arn:aws:iam::ACCOUNT:root``) "enables IAM policies", so the caller's
  identity policy must then allow too; key-policy-modifying-external-accounts.html: another account's principal
  needs the key policy (naming its account or itself) and its own identity policy. A request flagged
  ``key_policy`` is decided by those rules (``_decide_key``); an explicit Deny still wins first.

Session policies. The inline ``Policy`` and the managed ``PolicyArns`` (up to 10) of AssumeRole are one policy type,
"session policies", combined like the policies of any one type: the session may do what ANY of them allows, and that
set is intersected with the identity-based policies (and the boundary). Pages: access_policies.html#policies_session
("You can pass a single JSON inline session policy document using the Policy parameter. You can use the PolicyArns
parameter to specify up to 10 managed session policies"; "The permissions for a session are the intersection of the
identity-based policies ... and the session policies"); access_policies.html, "Overview of JSON policies" ("If
multiple policies apply to a request, AWS applies a logical OR across all of those policies"); and
reference_policies_evaluation-logic.html, whose session step is one check for the whole type ("If a session policy
is present and does not allow the requested action, then the request is implicitly denied"). STS API_AssumeRole.html
also treats them as one set ("the intersection of the role's identity-based policy and the session policies"; one
2,048-character plaintext limit "for both inline and managed session policies"). No page says that each session
policy must allow on its own. An explicit Deny in any of them still wins.

Choices where the documentation is silent, taken so that the emulator never grants more than AWS would without
a reason:
- A Principal of ``"*"`` counts as naming the caller directly (it names every principal), so in the same account it
  grants alone; across accounts the caller's identity policy must still allow.
- When a permissions boundary or a session policy is present it must also allow, except for the same-account grants
  the evaluation-logic page exempts (resource or trust policy naming the user or the session itself).
- Statements with an unsupported condition operator never grant, and still deny (see conditions.py); either way
  they are reported in ``Decision.errors``.
- A statement whose policy variable cannot be filled does not apply, Allow or Deny
  (reference_policies_variables.html: "causes the statement to be invalid"); it is reported in ``Decision.errors``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from localcloud.evaluator.conditions import normalize_context
from localcloud.evaluator.decision import (
    ALLOW,
    BOUNDARY,
    EXPLICIT_DENY,
    IDENTITY,
    IMPLICIT_DENY,
    KEY,
    RESOURCE,
    SESSION,
    TRUST,
    Decision,
    StatementRef,
)
from localcloud.evaluator.matching import PrincipalMatch
from localcloud.evaluator.statements import Assessment, Hit, Statement, assess, statements_of

__all__ = [
    "ALWAYS_ALLOWED_ACTIONS",
    "CALLER_KINDS",
    "TRUST_POLICY_ACTIONS",
    "AccessRequest",
    "Caller",
    "evaluate",
    "is_always_allowed",
    "is_trust_policy_action",
]

CALLER_KINDS = ("user", "assumed-role", "root", "service")

# Actions authorized by the role's trust policy (request.resource_policy) rather than by a resource policy.
# sts:TagSession and sts:SetSourceIdentity are evaluated alongside sts:AssumeRole (API_AssumeRole.html).
TRUST_POLICY_ACTIONS = frozenset(
    {
        "sts:assumerole",
        "sts:assumerolewithwebidentity",
        "sts:assumerolewithsaml",
        "sts:tagsession",
        "sts:setsourceidentity",
    }
)

# Actions AWS answers whatever the policies say, even under an explicit deny, with the page that says so.
ALWAYS_ALLOWED_ACTIONS: Mapping[str, str] = {
    "sts:getcalleridentity": 'STS API_GetCallerIdentity.html: "No permissions are required to perform this operation"',
}


def is_trust_policy_action(action: str) -> bool:
    """Whether ``action`` is authorized by the role's trust policy (AssumeRole*, TagSession, SetSourceIdentity)."""
    return action.lower() in TRUST_POLICY_ACTIONS


def is_always_allowed(action: str) -> bool:
    """Whether AWS allows ``action`` whatever the policies say (sts:GetCallerIdentity); case-insensitive."""
    return action.lower() in ALWAYS_ALLOWED_ACTIONS


@dataclass(frozen=True)
class Caller:
    """Who is calling, with every policy that applies to them on the caller's side.

    ``principal_arn`` is the value of ``aws:PrincipalArn``: the user ARN, for a role session the role ARN (with
    its path), the root ARN, or for a service its service name. ``session_policies`` holds the session's inline
    policy and its managed session policies (PolicyArns); ``session_policy`` is the older single-policy field,
    counted as one more session policy.
    """

    arn: str
    kind: str  # "user" | "assumed-role" | "root" | "service"
    account: str | None  # None for a service principal
    principal_arn: str
    identity_policies: tuple[Mapping[str, Any], ...] = ()
    permissions_boundary: Mapping[str, Any] | None = None
    session_policy: Mapping[str, Any] | None = None
    session_policies: tuple[Mapping[str, Any], ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in CALLER_KINDS:
            raise ValueError(
                f"Caller kind {self.kind!r} is invalid. A caller kind is one of {', '.join(CALLER_KINDS)}."
            )
        if self.kind != "service" and not self.account:
            raise ValueError(f"Caller {self.arn!r} of kind {self.kind!r} needs its 12-digit account.")
        object.__setattr__(self, "identity_policies", tuple(self.identity_policies))
        object.__setattr__(self, "session_policies", tuple(self.session_policies))

    @property
    def all_session_policies(self) -> tuple[Mapping[str, Any], ...]:
        """Every session policy of the session, ``session_policies`` first, then ``session_policy``."""
        if self.session_policy is None:
            return self.session_policies
        return (*self.session_policies, self.session_policy)


@dataclass(frozen=True)
class AccessRequest:
    """One authorization question: may ``caller`` do ``action`` on ``resource``?

    ``resource_policy`` is the bucket policy for S3, and for sts:AssumeRole (and the STS actions evaluated with it)
    the role's trust policy. ``resource_account`` None means the caller's own account (or not account-scoped).
    ``key_policy`` says that ``resource_policy`` is a KMS key's key policy, which must allow every request on the
    key (None then means a key without one: nobody may use it).
    """

    caller: Caller
    action: str
    resource: str
    resource_account: str | None
    context: Mapping[str, Any] = field(default_factory=dict)
    resource_policy: Mapping[str, Any] | None = None
    key_policy: bool = False


# ---------------------------------------------------------------------------------------------------------------
# Context
# ---------------------------------------------------------------------------------------------------------------


def _build_context(request: AccessRequest) -> dict[str, tuple[str, ...]]:
    """The request context, plus the principal keys AWS always sets, unless the request already carries them.

    aws:PrincipalArn (the role ARN for a session), aws:PrincipalAccount, aws:PrincipalType and aws:username for an
    IAM user (reference_policies_condition-keys.html); aws:PrincipalServiceName for a service principal.
    """
    context = normalize_context(request.context)
    caller = request.caller
    derived: dict[str, str] = {}
    if caller.kind == "service":
        derived["aws:principalservicename"] = caller.arn
    else:
        derived["aws:principalarn"] = caller.principal_arn
        derived["aws:principalaccount"] = caller.account or ""
        derived["aws:principaltype"] = {"user": "User", "assumed-role": "AssumedRole", "root": "Account"}[caller.kind]
        if caller.kind == "user":
            derived["aws:username"] = caller.arn.rsplit("/", 1)[-1]
    for key, value in derived.items():
        context.setdefault(key, (value,))
    return context


# ---------------------------------------------------------------------------------------------------------------
# Decision steps
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Evaluation:
    """Everything the decision steps share for one request."""

    request: AccessRequest
    assessment: Assessment

    @property
    def caller(self) -> Caller:
        return self.request.caller

    @property
    def cross_account(self) -> bool:
        """Whether the resource lives in another account than the caller (never for a service principal)."""
        owner = self.request.resource_account
        return self.caller.account is not None and owner is not None and owner != self.caller.account

    @property
    def what(self) -> str:
        return f"{self.request.action} on {self.request.resource}"


def _refs(hits: list[Hit]) -> tuple[StatementRef, ...]:
    return tuple(dict.fromkeys(hit.statement.ref for hit in hits))


def _implicit(reason: str, missing: str | None) -> Decision:
    return Decision(False, reason, effect=IMPLICIT_DENY, missing_allow=missing)


def _allowed(reason: str, primary: Hit | None, determining: list[Hit]) -> Decision:
    """An allow, naming ``primary`` as the deciding statement and every hit that had to allow as determining."""
    if primary is None:
        return Decision(True, reason, effect=ALLOW, determining=_refs(determining))
    statement = primary.statement
    return Decision(True, reason, statement.kind, statement.label, effect=ALLOW, determining=_refs(determining))


def _caller_statements(caller: Caller) -> list[Statement]:
    """The caller-side statements, identity first, then boundary, then session policies. The root user and service
    principals have none that apply."""
    if caller.kind in ("root", "service"):
        return []
    return [
        *statements_of(caller.identity_policies, IDENTITY),
        *statements_of((caller.permissions_boundary,), BOUNDARY),
        *statements_of(caller.all_session_policies, SESSION),
    ]


def _explicit_deny(evaluation: _Evaluation) -> Decision | None:
    """Step 1: an explicit Deny in any applicable policy is final; every applicable Deny is determining."""
    denies = evaluation.assessment.denies
    if not denies:
        return None
    first = denies[0].statement
    return Decision(
        False,
        f"explicit deny in {first.described}",
        first.kind,
        first.label,
        effect=EXPLICIT_DENY,
        determining=_refs(denies),
    )


def _limits(evaluation: _Evaluation) -> tuple[Decision | None, list[Hit]]:
    """A denial when a present permissions boundary or session policy does not allow; else their allowing hits.

    All session policies together are one policy type: any of them allowing is enough (module docstring).
    """
    caller = evaluation.caller
    allowing: list[Hit] = []
    for kind, present in ((BOUNDARY, caller.permissions_boundary is not None),
                          (SESSION, bool(caller.all_session_policies))):
        if not present:
            continue
        hits = evaluation.assessment.allows_of(kind)
        if not hits:
            return _implicit(f"{kind} does not allow {evaluation.what}", kind), []
        allowing.extend(hits)
    return None, allowing


def _identity_side(evaluation: _Evaluation) -> Decision:
    """The caller's own account: an identity-based Allow, narrowed by the boundary and session policies."""
    hits = evaluation.assessment.allows_of(IDENTITY)
    if not hits:
        return _implicit(f"no {IDENTITY} allows {evaluation.what}", IDENTITY)
    denial, limits = _limits(evaluation)
    if denial is not None:
        return denial
    return _allowed(f"allowed by {hits[0].statement.described}", hits[0], [*hits, *limits])


def _naming_at_least(evaluation: _Evaluation, kind: str, strength: PrincipalMatch) -> list[Hit]:
    return [hit for hit in evaluation.assessment.allows_of(kind) if (hit.naming or 0) >= strength]


def _same_account_grant(evaluation: _Evaluation, grant: Hit | None) -> Decision:
    """Same account: a grant naming the caller itself stands alone, one naming its role is still narrowed by the
    boundary and session policies, and one naming only the account delegates to the identity policies."""
    if grant is not None and grant.naming == PrincipalMatch.DIRECT:
        hits = _naming_at_least(evaluation, grant.statement.kind, PrincipalMatch.DIRECT)
        return _allowed(f"allowed by {grant.statement.described}, which names the caller", grant, hits)
    if grant is not None and grant.naming == PrincipalMatch.ROLE:
        denial, limits = _limits(evaluation)
        if denial is not None:
            return denial
        hits = _naming_at_least(evaluation, grant.statement.kind, PrincipalMatch.ROLE)
        return _allowed(f"allowed by {grant.statement.described}, which names the caller's role", grant,
                        [*hits, *limits])
    return _identity_side(evaluation)


def _both_sides(evaluation: _Evaluation, grant: Hit) -> Decision:
    """Cross-account: the resource side has allowed; the caller's account must allow too."""
    side = _identity_side(evaluation)
    if not side.allowed:
        return replace(side, reason=f"{side.reason}; cross-account access needs the caller's identity allow as well")
    resource_hits = evaluation.assessment.allows_of(grant.statement.kind)
    return replace(
        side,
        reason=f"{side.reason} and by {grant.statement.described} (cross-account: both sides allow)",
        deciding_policy=grant.statement.kind,
        deciding_statement=grant.statement.label,
        determining=(*side.determining, *_refs(resource_hits)),
    )


def _decide_trust(evaluation: _Evaluation) -> Decision:
    """sts:AssumeRole and friends: the trust policy must always allow explicitly."""
    caller = evaluation.caller
    if caller.kind == "root":
        return _implicit("the root user cannot assume a role; use an IAM user or role", None)
    if evaluation.request.resource_policy is None:
        return _implicit(f"the role has no {TRUST}, so nobody can assume it", TRUST)
    grant = evaluation.assessment.strongest_allow(TRUST)
    if grant is None:
        return _implicit(f"{TRUST} does not allow {caller.arn} to {evaluation.request.action}", TRUST)
    if caller.kind == "service":
        hits = evaluation.assessment.allows_of(TRUST)
        return _allowed(f"allowed by {grant.statement.described} for service {caller.arn}", grant, hits)
    if evaluation.cross_account:
        return _both_sides(evaluation, grant)
    return _same_account_grant(evaluation, grant)


def _decide_resource(evaluation: _Evaluation) -> Decision:
    """Every other action: identity policies, possibly with a resource policy (e.g. a bucket policy)."""
    caller = evaluation.caller
    has_policy = evaluation.request.resource_policy is not None
    grant = evaluation.assessment.strongest_allow(RESOURCE) if has_policy else None
    if caller.kind == "service":
        if grant is None:
            return _implicit(f"no {RESOURCE} allows service {caller.arn} to {evaluation.what}", RESOURCE)
        hits = evaluation.assessment.allows_of(RESOURCE)
        return _allowed(f"allowed by {grant.statement.described} for service {caller.arn}", grant, hits)
    if not evaluation.cross_account:
        if caller.kind == "root":
            return _allowed("the root user has full access to its own account's resources", None, [])
        return _same_account_grant(evaluation, grant)
    owner = evaluation.request.resource_account
    if not has_policy:
        return _implicit(
            f"the resource in account {owner} has no {RESOURCE}, so it grants nothing to account {caller.account}",
            RESOURCE,
        )
    if grant is None:
        return _implicit(f"{RESOURCE} of account {owner} does not allow {caller.arn} to {evaluation.what}", RESOURCE)
    if caller.kind == "root":
        hits = evaluation.assessment.allows_of(RESOURCE)
        return _allowed(f"allowed by {grant.statement.described} for the root user of account {caller.account}",
                        grant, hits)
    return _both_sides(evaluation, grant)


def _decide_key(evaluation: _Evaluation) -> Decision:
    """A KMS key: its key policy must allow, in the key's own account too, and even the root user
    (key-policies.html). Then the same grants as any resource policy: naming the caller stands alone in the
    same account, naming the account delegates to its identity policies, and another account's caller needs its
    identity allow as well (key-policy-modifying-external-accounts.html)."""
    caller = evaluation.caller
    if evaluation.request.resource_policy is None:
        return _implicit(f"the KMS key has no {KEY}, so nobody can use it", KEY)
    grant = evaluation.assessment.strongest_allow(KEY)
    if grant is None:
        return _implicit(f"no {KEY} allows {caller.arn} to {evaluation.what}", KEY)
    hits = evaluation.assessment.allows_of(KEY)
    if caller.kind == "service":
        return _allowed(f"allowed by {grant.statement.described} for service {caller.arn}", grant, hits)
    if caller.kind == "root":
        # The root user has no identity policies and needs none in its own account; the key policy allowed it
        # (naming its account is naming it: reference_policies_elements_principal.html).
        return _allowed(f"allowed by {grant.statement.described} for the root user of account {caller.account}",
                        grant, hits)
    if evaluation.cross_account:
        return _both_sides(evaluation, grant)
    return _same_account_grant(evaluation, grant)


def evaluate(request: AccessRequest) -> Decision:
    """Decide whether AWS would allow ``request``: explicit deny, then the grants each policy kind can give."""
    if is_always_allowed(request.action):
        page = ALWAYS_ALLOWED_ACTIONS[request.action.lower()]
        return Decision(True, f"{request.action} is always allowed ({page})", effect=ALLOW)
    trust = is_trust_policy_action(request.action)
    kind = TRUST if trust else KEY if request.key_policy else RESOURCE
    statements = [
        *_caller_statements(request.caller),
        *statements_of((request.resource_policy,), kind),
    ]
    context = _build_context(request)
    assessment = assess(statements, request.action, request.resource, request.caller, context)
    evaluation = _Evaluation(request=request, assessment=assessment)
    decision = _explicit_deny(evaluation)
    if decision is None:
        decide = _decide_trust if trust else _decide_key if request.key_policy else _decide_resource
        decision = decide(evaluation)
    return _with_errors(decision, assessment.errors)


def _with_errors(decision: Decision, errors: list[str]) -> Decision:
    """Every decision carries the statements that could not be evaluated; a denial also names them in its reason,
    since one of them may be the cause."""
    unique = tuple(dict.fromkeys(errors))
    if not unique:
        return decision
    if decision.allowed:
        return replace(decision, errors=unique)
    return replace(decision, reason=f"{decision.reason} [{'; '.join(unique)}]", errors=unique)
