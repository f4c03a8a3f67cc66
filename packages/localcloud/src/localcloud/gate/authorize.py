"""The request handler that asks the evaluator about every check of the operation, and AWS's denial messages.

A denial never reaches moto. For DeleteObjects a denied key fails only its own item (``ex.denied_items``), as S3
reports per-key errors.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Response

from localcloud.actions import Check
from localcloud.gate.errors import AccessDenied
from localcloud.evaluator import (
    BOUNDARY,
    EXPLICIT_DENY,
    IDENTITY,
    RESOURCE,
    SESSION,
    TRUST,
    AccessRequest,
    Decision,
    evaluate,
    is_trust_policy_action,
)

if TYPE_CHECKING:
    from localcloud.gate.app import Gate
    from localcloud.gate.exchange import Exchange

_DENYING_POLICY = {
    IDENTITY: "an identity-based policy",
    RESOURCE: "a resource-based policy",
    BOUNDARY: "a permissions boundary",
    SESSION: "a session policy",
    TRUST: "a resource-based policy",
}
_NOT_ALLOWING_POLICY = {
    IDENTITY: "identity-based policy",
    BOUNDARY: "permissions boundary",
    SESSION: "session policy",
    RESOURCE: "resource-based policy",
    TRUST: "resource-based policy",
}


def denial_clause(decision: Decision, action: str) -> str:
    """The tail AWS adds to an access-denied message: which kind of policy denied, or which did not allow
    (reference_policies_access-denied.html)."""
    if decision.effect == EXPLICIT_DENY and decision.deciding_policy in _DENYING_POLICY:
        return f" with an explicit deny in {_DENYING_POLICY[decision.deciding_policy]}"
    if decision.missing_allow in _NOT_ALLOWING_POLICY:
        return f" because no {_NOT_ALLOWING_POLICY[decision.missing_allow]} allows the {action} action"
    return ""


def denial_message(caller_arn: str, check: Check, decision: Decision, protocol: str) -> str:
    """``User: ARN is not authorized to perform: ACTION on resource: RESOURCE because ...`` as each service says it."""
    resource = f'"{check.resource}"' if protocol == "rest-xml" else check.resource
    message = f"User: {caller_arn} is not authorized to perform: {check.action} on resource: {resource}"
    if check.action.lower().startswith("sts:assumerole"):
        return message  # STS names no reason for AssumeRole denials
    return message + denial_clause(decision, check.action)


def authorize(gate: Gate, ex: Exchange) -> Response | None:
    assert ex.plan is not None and ex.principal is not None and ex.protocol is not None
    for check in ex.plan.checks:
        decision = decide(gate, ex, check)
        gate.record(ex, check, decision)
        if decision.allowed:
            continue
        if ex.plan.per_item and check.item is not None:
            ex.denied_items.append(check.item)
            continue
        raise AccessDenied(denial_message(ex.principal.caller.arn, check, decision, ex.protocol))
    return None


def decide(gate: Gate, ex: Exchange, check: Check) -> Decision:
    assert ex.principal is not None
    resource_policy: Mapping[str, Any] | None = None
    if is_trust_policy_action(check.action):
        role = gate.directory.role(check.resource)
        if role is None:
            return Decision(False, f"no role {check.resource} exists")
        resource_policy = role.trust_policy
    elif check.bucket is not None:
        resource_policy = gate.directory.bucket_policy(check.bucket)
    elif check.action.lower().startswith("lambda:") and check.resource.startswith("arn:aws:lambda:"):
        # A function's resource-based policy (lambda:AddPermission) grants across accounts
        # (access-control-resource-based.html).
        resource_policy = gate.directory.lambda_policy(check.resource)
    context = {**ex.context, **check.context}
    if check.resource_account:
        context.setdefault("aws:ResourceAccount", check.resource_account)
    request = AccessRequest(
        caller=ex.principal.caller,
        action=check.action,
        resource=check.resource,
        resource_account=check.resource_account,
        context=context,
        resource_policy=resource_policy,
    )
    try:
        return evaluate(request)
    except Exception as error:  # noqa: BLE001 - an evaluator failure must deny, never let a request through
        gate.log.exception("evaluator failed on %s %s", check.action, check.resource)
        return Decision(False, f"evaluator error: {error!r}")
