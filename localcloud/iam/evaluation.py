"""The IAM policy evaluation algorithm of localcloud: one request in, one allow/deny decision out.

Pure and deterministic: standard library only, no clock, no I/O. The caller (the localcloud gate) resolves who is
calling and which policies apply; this module decides. Sources (IAM User Guide unless said otherwise):

- reference_policies_evaluation-logic.html: default deny; an explicit Deny in any applicable policy wins; in the same
  account a resource policy naming the user or the session ARN grants alone, one naming the role ARN is still
  limited by the permissions boundary and session policy; role trust policies must always allow explicitly.
- reference_policies_evaluation-logic-cross-account.html: across accounts both the caller's account (identity
  policies, boundary, session policy) and the resource's account (resource or trust policy) must allow.
- STS API_AssumeRole.html: cross-account AssumeRole needs the trust policy and the caller's identity allow even when
  the trust policy names the user; in the same account either naming the caller in the trust policy or trusting the
  account plus an identity allow.
- id_roles_use_switch-role-console.html: the root user cannot assume a role (STS answers "Roles may not be assumed
  by root accounts").

Choices where the documentation is silent, taken so that the emulator never grants more than AWS would without
a reason:
- A Principal of ``"*"`` counts as naming the caller directly (it names every principal), so in the same account it
  grants alone; across accounts the caller's identity policy must still allow.
- When a permissions boundary or a session policy is present it must also allow, except for the same-account grants
  the evaluation-logic page exempts (resource or trust policy naming the user or the session itself).
- Statements with an unsupported condition operator never grant, and still deny (see conditions.py).
- A statement whose policy variable cannot be filled does not apply, Allow or Deny
  (reference_policies_variables.html: "causes the statement to be invalid").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from localcloud.iam.conditions import evaluate_condition_block, normalize_context
from localcloud.iam.matching import (
    VARIABLES_VERSION,
    ContextValues,
    PrincipalMatch,
    UnresolvedVariable,
    action_matches,
    as_list,
    match_principal,
    not_principal_excludes,
    resource_matches,
)

CALLER_KINDS = ("user", "assumed-role", "root", "service")

# Policy kinds, as named in Decision.reason and Decision.deciding_policy.
IDENTITY = "identity-based policy"
BOUNDARY = "permissions boundary"
SESSION = "session policy"
RESOURCE = "resource policy"
TRUST = "role trust policy"

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

# STS answers GetCallerIdentity whatever the policies say, even under an explicit deny
# (API_GetCallerIdentity.html: "No permissions are required to perform this operation").
ALWAYS_ALLOWED_ACTIONS = frozenset({"sts:getcalleridentity"})


@dataclass(frozen=True)
class Caller:
    """Who is calling, with every policy that applies to them on the caller's side.

    ``principal_arn`` is the value of ``aws:PrincipalArn``: the user ARN, for a role session the role ARN (with
    its path), the root ARN, or for a service its service name.
    """

    arn: str
    kind: str  # "user" | "assumed-role" | "root" | "service"
    account: str | None  # None for a service principal
    principal_arn: str
    identity_policies: tuple[Mapping[str, Any], ...] = ()
    permissions_boundary: Mapping[str, Any] | None = None
    session_policy: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        if self.kind not in CALLER_KINDS:
            raise ValueError(
                f"Caller kind {self.kind!r} is invalid. A caller kind is one of {', '.join(CALLER_KINDS)}."
            )
        if self.kind != "service" and not self.account:
            raise ValueError(f"Caller {self.arn!r} of kind {self.kind!r} needs its 12-digit account.")


@dataclass(frozen=True)
class AccessRequest:
    """One authorization question: may ``caller`` do ``action`` on ``resource``?

    ``resource_policy`` is the bucket policy for S3, and for sts:AssumeRole (and the STS actions evaluated with it)
    the role's trust policy. ``resource_account`` None means the caller's own account (or not account-scoped).
    """

    caller: Caller
    action: str
    resource: str
    resource_account: str | None
    context: Mapping[str, Any] = field(default_factory=dict)
    resource_policy: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Decision:
    """The answer, with a short reason naming the deciding policy kind and statement."""

    allowed: bool
    reason: str
    deciding_policy: str | None = None  # one of the policy kinds above, when a single policy decided
    deciding_statement: str | None = None  # Sid, or "#n" (1-based) for a statement without one


# ---------------------------------------------------------------------------------------------------------------
# Statements
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Statement:
    """A statement with where it came from."""

    kind: str
    label: str  # Sid, or "#n"
    body: Mapping[str, Any]
    variables_enabled: bool

    @property
    def effect(self) -> str:
        return str(self.body.get("Effect", ""))

    @property
    def described(self) -> str:
        return f"{self.kind} (statement {self.label})"


@dataclass(frozen=True)
class _Hit:
    """A statement that applies to the request, with how its Principal named the caller (policies with one)."""

    statement: _Statement
    naming: PrincipalMatch | None = None


def _statements(policy: Mapping[str, Any] | None, kind: str) -> list[_Statement]:
    """The statements of a policy document (Statement may be one object or a list)."""
    if not policy:
        return []
    variables_enabled = str(policy.get("Version", "")) == VARIABLES_VERSION
    found = []
    for index, body in enumerate(as_list(policy.get("Statement")), start=1):
        if isinstance(body, Mapping):
            label = str(body.get("Sid") or f"#{index}")
            found.append(_Statement(kind=kind, label=label, body=body, variables_enabled=variables_enabled))
    return found


@dataclass(frozen=True)
class _Evaluation:
    """Everything the decision steps share for one request."""

    request: AccessRequest
    context: ContextValues
    # Statements skipped or applied because they could not be evaluated, reported in a denial's reason.
    notes: list[str] = field(default_factory=list)

    @property
    def caller(self) -> Caller:
        return self.request.caller

    @property
    def cross_account(self) -> bool:
        """Whether the resource lives in another account than the caller (never for a service principal)."""
        owner = self.request.resource_account
        return self.caller.account is not None and owner is not None and owner != self.caller.account


def _action_applies(body: Mapping[str, Any], action: str) -> bool:
    if "Action" in body:
        return action_matches(body["Action"], action)
    if "NotAction" in body:
        return not action_matches(body["NotAction"], action)
    return False  # a statement without Action or NotAction is invalid and grants or denies nothing


def _resource_applies(statement: _Statement, resource: str, variables: ContextValues | None) -> bool:
    body = statement.body
    if statement.kind == TRUST:
        return True  # a trust policy's resource is the role it is attached to; it has no Resource element
    if "Resource" in body:
        return resource_matches(body["Resource"], resource, variables)
    if "NotResource" in body:
        return not resource_matches(body["NotResource"], resource, variables)
    return False


def _principal_naming(statement: _Statement, caller: Caller) -> PrincipalMatch | None:
    """How a resource or trust policy statement names the caller; None when it does not apply to the caller."""
    body = statement.body
    if "Principal" in body:
        return match_principal(body["Principal"], caller)
    if "NotPrincipal" in body:
        deny = statement.effect == "Deny"
        if not_principal_excludes(body["NotPrincipal"], caller, whole_chain=deny):
            return None
        return PrincipalMatch.DIRECT  # "everyone except ..." names the caller as much as "*" does
    return None


def _applies(statement: _Statement, evaluation: _Evaluation) -> _Hit | None:
    """The statement as a hit if it applies to this request (action, resource, principal, conditions)."""
    request = evaluation.request
    body = statement.body
    variables = evaluation.context if statement.variables_enabled else None
    naming: PrincipalMatch | None = None
    try:
        if not _action_applies(body, request.action):
            return None
        if not _resource_applies(statement, request.resource, variables):
            return None
        if statement.kind in (RESOURCE, TRUST):
            naming = _principal_naming(statement, request.caller)
            if naming is None:
                return None
        outcome = evaluate_condition_block(body.get("Condition"), evaluation.context, variables)
    except UnresolvedVariable as error:
        evaluation.notes.append(f"{statement.described} does not apply: {error}")
        return None
    if outcome.unsupported:
        # Fail closed: an operator we cannot evaluate never grants, and it lets a Deny stand.
        effect = "still denies" if statement.effect == "Deny" else "grants nothing"
        evaluation.notes.append(f"{statement.described} {effect}: {outcome.detail}")
        return _Hit(statement, naming) if statement.effect == "Deny" else None
    return _Hit(statement, naming) if outcome.matched else None


def _first_hit(statements: list[_Statement], effect: str, evaluation: _Evaluation) -> _Hit | None:
    for statement in statements:
        if statement.effect == effect:
            hit = _applies(statement, evaluation)
            if hit is not None:
                return hit
    return None


def _strongest_allow(statements: list[_Statement], evaluation: _Evaluation) -> _Hit | None:
    """The Allow that names the caller most specifically (resource and trust policies)."""
    best: _Hit | None = None
    for statement in statements:
        if statement.effect == "Allow":
            hit = _applies(statement, evaluation)
            if hit is not None and (best is None or (hit.naming or 0) > (best.naming or 0)):
                best = hit
    return best


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


def _deny(reason: str, hit: _Hit | None = None) -> Decision:
    if hit is None:
        return Decision(allowed=False, reason=reason)
    return Decision(False, reason, hit.statement.kind, hit.statement.label)


def _allow(reason: str, hit: _Hit | None = None) -> Decision:
    if hit is None:
        return Decision(allowed=True, reason=reason)
    return Decision(True, reason, hit.statement.kind, hit.statement.label)


def _caller_policies(evaluation: _Evaluation) -> dict[str, list[_Statement]]:
    """The caller-side policies by kind. The root user and service principals have none that apply."""
    caller = evaluation.caller
    if caller.kind in ("root", "service"):
        return {IDENTITY: [], BOUNDARY: [], SESSION: []}
    statements: list[_Statement] = []
    for policy in caller.identity_policies:
        statements.extend(_statements(policy, IDENTITY))
    return {
        IDENTITY: statements,
        BOUNDARY: _statements(caller.permissions_boundary, BOUNDARY),
        SESSION: _statements(caller.session_policy, SESSION),
    }


def _explicit_deny(
    evaluation: _Evaluation, caller_side: dict[str, list[_Statement]], resource_side: list[_Statement]
) -> Decision | None:
    """Step 1: an explicit Deny in any applicable policy is final."""
    for statements in (*caller_side.values(), resource_side):
        hit = _first_hit(statements, "Deny", evaluation)
        if hit is not None:
            return _deny(f"explicit deny in {hit.statement.described}", hit)
    return None


def _what(evaluation: _Evaluation) -> str:
    return f"{evaluation.request.action} on {evaluation.request.resource}"


def _limits(evaluation: _Evaluation, caller_side: dict[str, list[_Statement]]) -> Decision | None:
    """A denial when a present permissions boundary or session policy does not allow; None when they do."""
    caller = evaluation.caller
    for kind, present in ((BOUNDARY, caller.permissions_boundary), (SESSION, caller.session_policy)):
        if present is not None and _first_hit(caller_side[kind], "Allow", evaluation) is None:
            return _deny(f"{kind} does not allow {_what(evaluation)}")
    return None


def _identity_side(evaluation: _Evaluation, caller_side: dict[str, list[_Statement]]) -> Decision:
    """The caller's own account: an identity-based Allow, narrowed by the boundary and session policy."""
    hit = _first_hit(caller_side[IDENTITY], "Allow", evaluation)
    if hit is None:
        return _deny(f"no {IDENTITY} allows {_what(evaluation)}")
    limited = _limits(evaluation, caller_side)
    if limited is not None:
        return limited
    return _allow(f"allowed by {hit.statement.described}", hit)


def _same_account_grant(
    evaluation: _Evaluation, caller_side: dict[str, list[_Statement]], grant: _Hit | None
) -> Decision:
    """Same account: a grant naming the caller itself stands alone, one naming its role is still narrowed by the
    boundary and session policy, and one naming only the account delegates to the identity policies."""
    if grant is not None and grant.naming == PrincipalMatch.DIRECT:
        return _allow(f"allowed by {grant.statement.described}, which names the caller", grant)
    if grant is not None and grant.naming == PrincipalMatch.ROLE:
        limited = _limits(evaluation, caller_side)
        if limited is not None:
            return limited
        return _allow(f"allowed by {grant.statement.described}, which names the caller's role", grant)
    return _identity_side(evaluation, caller_side)


def _both_sides(evaluation: _Evaluation, caller_side: dict[str, list[_Statement]], grant: _Hit) -> Decision:
    """Cross-account: the resource side has allowed; the caller's account must allow too."""
    side = _identity_side(evaluation, caller_side)
    if not side.allowed:
        return _deny(f"{side.reason}; cross-account access needs the caller's identity allow as well")
    return Decision(
        True,
        f"{side.reason} and by {grant.statement.described} (cross-account: both sides allow)",
        grant.statement.kind,
        grant.statement.label,
    )


def _decide_trust(
    evaluation: _Evaluation, caller_side: dict[str, list[_Statement]], trust: list[_Statement]
) -> Decision:
    """sts:AssumeRole and friends: the trust policy must always allow explicitly."""
    caller = evaluation.caller
    if caller.kind == "root":
        return _deny("the root user cannot assume a role; use an IAM user or role")
    if evaluation.request.resource_policy is None:
        return _deny(f"the role has no {TRUST}, so nobody can assume it")
    grant = _strongest_allow(trust, evaluation)
    if grant is None:
        return _deny(f"{TRUST} does not allow {caller.arn} to {evaluation.request.action}")
    if caller.kind == "service":
        return _allow(f"allowed by {grant.statement.described} for service {caller.arn}", grant)
    if evaluation.cross_account:
        return _both_sides(evaluation, caller_side, grant)
    return _same_account_grant(evaluation, caller_side, grant)


def _decide_resource(
    evaluation: _Evaluation, caller_side: dict[str, list[_Statement]], resource: list[_Statement]
) -> Decision:
    """Every other action: identity policies, possibly with a resource policy (e.g. a bucket policy)."""
    caller = evaluation.caller
    has_policy = evaluation.request.resource_policy is not None
    grant = _strongest_allow(resource, evaluation) if has_policy else None
    if caller.kind == "service":
        if grant is None:
            return _deny(f"no {RESOURCE} allows service {caller.arn} to {_what(evaluation)}")
        return _allow(f"allowed by {grant.statement.described} for service {caller.arn}", grant)
    if not evaluation.cross_account:
        if caller.kind == "root":
            return _allow("the root user has full access to its own account's resources")
        return _same_account_grant(evaluation, caller_side, grant)
    owner = evaluation.request.resource_account
    if not has_policy:
        return _deny(
            f"the resource in account {owner} has no {RESOURCE}, so it grants nothing to account {caller.account}"
        )
    if grant is None:
        return _deny(f"{RESOURCE} of account {owner} does not allow {caller.arn} to {_what(evaluation)}")
    if caller.kind == "root":
        return _allow(f"allowed by {grant.statement.described} for the root user of account {caller.account}", grant)
    return _both_sides(evaluation, caller_side, grant)


def evaluate(request: AccessRequest) -> Decision:
    """Decide whether AWS would allow ``request``: explicit deny, then the grants each policy kind can give."""
    if request.action.lower() in ALWAYS_ALLOWED_ACTIONS:
        return _allow(f"{request.action} is always allowed")
    trust = request.action.lower() in TRUST_POLICY_ACTIONS
    evaluation = _Evaluation(request=request, context=_build_context(request))
    caller_side = _caller_policies(evaluation)
    resource_side = _statements(request.resource_policy, TRUST if trust else RESOURCE)
    decision = _explicit_deny(evaluation, caller_side, resource_side)
    if decision is None and trust:
        decision = _decide_trust(evaluation, caller_side, resource_side)
    elif decision is None:
        decision = _decide_resource(evaluation, caller_side, resource_side)
    return _with_notes(decision, evaluation.notes)


def _with_notes(decision: Decision, notes: list[str]) -> Decision:
    """A denial also says which statements could not be evaluated, since one of them may be the cause."""
    if decision.allowed or not notes:
        return decision
    unique = list(dict.fromkeys(notes))
    return replace(decision, reason=f"{decision.reason} [{'; '.join(unique)}]")
