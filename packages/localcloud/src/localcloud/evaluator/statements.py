"""Statements of the policies that apply to one request, and which of them apply (IAM evaluator internals).

Every statement is assessed once per request, so each decision can name all the statements that determined it and
all the statements that could not be evaluated (decision.py). Standard library only. Sources (IAM User Guide):

- reference_policies_elements_condition_operators.html and conditions.py: an unsupported operator never grants,
  and lets a Deny stand (fail closed).
- reference_policies_variables.html: a statement whose policy variable cannot be filled "is invalid": it applies
  neither as an Allow nor as a Deny.
- reference_policies_elements_principal.html, ..._notprincipal.html: how a resource, trust or key policy names the
  caller (KMS Developer Guide, key-policies.html: a key policy's Principal element works as in other resource
  policies).
- Lambda Developer Guide, permissions-source-function-arn.html: keys only identity-based policies can use
  (``session_keys.IDENTITY_POLICY_ONLY_KEYS``) are missing from the context a resource or trust policy sees.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from localcloud.evaluator.conditions import evaluate_condition_block
from localcloud.evaluator.decision import RESOURCE_SIDE_KINDS, TRUST, StatementRef
from localcloud.evaluator.matching import (
    VARIABLES_VERSION,
    ContextValues,
    PrincipalIdentity,
    PrincipalMatch,
    UnresolvedVariable,
    action_matches,
    as_list,
    match_principal,
    not_principal_excludes,
    resource_matches,
)
from localcloud.evaluator.session_keys import IDENTITY_POLICY_ONLY_KEYS


@dataclass(frozen=True)
class Statement:
    """A statement with where it came from."""

    kind: str
    policy: int  # position among the policies of its kind
    label: str  # Sid, or "#n"
    body: Mapping[str, Any]
    variables_enabled: bool

    @property
    def effect(self) -> str:
        return str(self.body.get("Effect", ""))

    @property
    def ref(self) -> StatementRef:
        return StatementRef(self.kind, self.policy, self.label)

    @property
    def described(self) -> str:
        return f"{self.kind} (statement {self.label})"


@dataclass(frozen=True)
class Hit:
    """A statement that applies to the request, with how its Principal named the caller (policies with one)."""

    statement: Statement
    naming: PrincipalMatch | None = None


def statements_of(policies: Iterable[Mapping[str, Any] | None], kind: str) -> list[Statement]:
    """The statements of policy documents of one kind (Statement may be one object or a list)."""
    found: list[Statement] = []
    for position, policy in enumerate(policies):
        if not policy:
            continue
        variables_enabled = str(policy.get("Version", "")) == VARIABLES_VERSION
        for index, body in enumerate(as_list(policy.get("Statement")), start=1):
            if isinstance(body, Mapping):
                label = str(body.get("Sid") or f"#{index}")
                found.append(Statement(kind, position, label, body, variables_enabled))
    return found


@dataclass
class Assessment:
    """Which statements of one request apply, by effect, and which could not be evaluated."""

    allows: list[Hit] = field(default_factory=list)
    denies: list[Hit] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def allows_of(self, kind: str) -> list[Hit]:
        return [hit for hit in self.allows if hit.statement.kind == kind]

    def strongest_allow(self, kind: str) -> Hit | None:
        """The Allow of ``kind`` that names the caller most specifically (resource and trust policies)."""
        best: Hit | None = None
        for hit in self.allows_of(kind):
            if best is None or (hit.naming or 0) > (best.naming or 0):
                best = hit
        return best


def _action_applies(body: Mapping[str, Any], action: str) -> bool:
    if "Action" in body:
        return action_matches(body["Action"], action)
    if "NotAction" in body:
        return not action_matches(body["NotAction"], action)
    return False  # a statement without Action or NotAction is invalid and grants or denies nothing


def _resource_applies(statement: Statement, resource: str, variables: ContextValues | None) -> bool:
    body = statement.body
    if statement.kind == TRUST:
        return True  # a trust policy's resource is the role it is attached to; it has no Resource element
    if "Resource" in body:
        return resource_matches(body["Resource"], resource, variables)
    if "NotResource" in body:
        return not resource_matches(body["NotResource"], resource, variables)
    return False


def _principal_naming(statement: Statement, caller: PrincipalIdentity) -> PrincipalMatch | None:
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


def _error(statement: Statement, problem: str) -> str:
    return f"{statement.kind} {statement.policy} (statement {statement.label}): {problem}"


def _assess_one(
    statement: Statement,
    action: str,
    resource: str,
    caller: PrincipalIdentity,
    context: ContextValues,
    errors: list[str],
) -> Hit | None:
    """The statement as a hit if it applies to this request (action, resource, principal, conditions)."""
    body = statement.body
    variables = context if statement.variables_enabled else None
    naming: PrincipalMatch | None = None
    try:
        if not _action_applies(body, action):
            return None
        if not _resource_applies(statement, resource, variables):
            return None
        if statement.kind in RESOURCE_SIDE_KINDS:
            naming = _principal_naming(statement, caller)
            if naming is None:
                return None
        outcome = evaluate_condition_block(body.get("Condition"), context, variables)
    except UnresolvedVariable as error:
        errors.append(_error(statement, f"does not apply: {error}"))
        return None
    if outcome.unsupported:
        # Fail closed: an operator we cannot evaluate never grants, and it lets a Deny stand.
        deny = statement.effect == "Deny"
        errors.append(_error(statement, f"{'still denies' if deny else 'grants nothing'}: {outcome.detail}"))
        return Hit(statement, naming) if deny else None
    return Hit(statement, naming) if outcome.matched else None


def assess(
    statements: Iterable[Statement],
    action: str,
    resource: str,
    caller: PrincipalIdentity,
    context: ContextValues,
) -> Assessment:
    """Assess every statement once: the applying Allows and Denies, in policy order, and the evaluation errors."""
    result = Assessment()
    resource_side = {key: values for key, values in context.items() if key not in IDENTITY_POLICY_ONLY_KEYS}
    for statement in statements:
        if statement.effect not in ("Allow", "Deny"):
            continue  # an invalid Effect grants and denies nothing
        seen = resource_side if statement.kind in RESOURCE_SIDE_KINDS else context
        hit = _assess_one(statement, action, resource, caller, seen, result.errors)
        if hit is not None:
            (result.allows if statement.effect == "Allow" else result.denies).append(hit)
    return result
