"""The request handler that asks the evaluator about every check of the operation, and AWS's denial messages.

A denial never reaches moto. For DeleteObjects a denied key fails only its own item (``ex.denied_items``), as S3
reports per-key errors.

A check on a KMS key is decided with the key's key policy (``Check.key_policy``). A check a service makes for the
caller (``Check.via_service``: S3 calling KMS for an SSE-KMS object) is decided in the context of that request:
aws:ViaAWSService is true in it (reference_policies_condition-keys.html, "The request context key returns true when
a service uses the credentials of an IAM principal to make a request on behalf of the principal"), and the keys
that describe how the caller reached S3 (its address and user agent, S3's own s3:* keys) are not the KMS request's
(the same page: an aws:SourceIp condition "denies access if an AWS service makes calls on the principal's
behalf"). Its aws:SecureTransport is true: S3 calls KMS over TLS (localcloud's reading; AWS does not say).
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
    KEY,
    RESOURCE,
    SESSION,
    TRUST,
    AccessRequest,
    Caller,
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
    KEY: "a resource-based policy",
}
_NOT_ALLOWING_POLICY = {
    IDENTITY: "identity-based policy",
    BOUNDARY: "permissions boundary",
    SESSION: "session policy",
    RESOURCE: "resource-based policy",
    TRUST: "resource-based policy",
    KEY: "resource-based policy",
}
# KMS's denial when the key policy is what refused and KMS does not name the key: a key of another account, or the
# key of a ciphertext. Not in the KMS documentation; the wording of KMS's and S3's answers as callers report them
# ("... is not authorized to perform: kms:GenerateDataKey on this resource because ...", "... kms:Decrypt on the
# resource associated with this ciphertext because ...").
_KMS_HIDDEN = ("because the resource does not exist in this Region, no resource-based policies allow access, or a "
               "resource-based policy explicitly denies access")
# The keys of a request that describe how the caller reached the first service (lower-cased).
_FIRST_HOP_KEYS = frozenset({"aws:sourceip", "aws:useragent", "aws:sourcevpc", "aws:sourcevpce", "aws:vpcsourceip",
                             "aws:requestedregion", "aws:securetransport", "aws:viaawsservice"})


def denial_clause(decision: Decision, action: str) -> str:
    """The tail AWS adds to an access-denied message: which kind of policy denied, or which did not allow
    (reference_policies_access-denied.html)."""
    if decision.effect == EXPLICIT_DENY and decision.deciding_policy in _DENYING_POLICY:
        return f" with an explicit deny in {_DENYING_POLICY[decision.deciding_policy]}"
    if decision.missing_allow in _NOT_ALLOWING_POLICY:
        return f" because no {_NOT_ALLOWING_POLICY[decision.missing_allow]} allows the {action} action"
    return ""


def kms_denial_message(caller: Caller, check: Check, decision: Decision) -> str:
    """KMS's denial, whether KMS answers it or S3 passes it on (S3 answers 403 AccessDenied with KMS's message): it
    names the key unless the key policy refused a key of another account or of a ciphertext."""
    message = f"User: {caller.arn} is not authorized to perform: {check.action}"
    key_side = decision.missing_allow == KEY or (decision.explicit_deny and decision.deciding_policy == KEY)
    if key_side and check.from_ciphertext:
        return f"{message} on the resource associated with this ciphertext {_KMS_HIDDEN}"
    if key_side and check.resource_account != caller.account:
        return f"{message} on this resource {_KMS_HIDDEN}"
    return f"{message} on resource: {check.resource}" + denial_clause(decision, check.action)


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
        context = context_for(ex, check)
        decision = decide(gate, ex, check, context)
        gate.record(ex, check, decision, context)
        if decision.allowed:
            continue
        if ex.plan.per_item and check.item is not None:
            ex.denied_items.append(check.item)
            continue
        if check.action.lower().startswith("kms:"):
            raise AccessDenied(kms_denial_message(ex.principal.caller, check, decision))
        raise AccessDenied(denial_message(ex.principal.caller.arn, check, decision, ex.protocol))
    return None


def context_for(ex: Exchange, check: Check) -> dict[str, Any]:
    """The request context ``check`` is decided in: the request's, or the one of the request a service makes for
    the caller (module docstring), with the check's own keys and aws:ResourceAccount."""
    base: dict[str, Any] = dict(ex.context)
    if check.via_service is not None:
        base = {key: value for key, value in base.items()
                if key.lower() not in _FIRST_HOP_KEYS and not key.lower().startswith("s3:")}
        base.update({"aws:ViaAWSService": "true", "aws:SecureTransport": "true",
                     "aws:RequestedRegion": check.via_service.split(".")[1]})
    context = {**base, **check.context}
    if check.resource_account:
        context.setdefault("aws:ResourceAccount", check.resource_account)
    return context


def decide(gate: Gate, ex: Exchange, check: Check, context: Mapping[str, Any] | None = None) -> Decision:
    """The evaluator's decision on ``check`` (in ``context``, by default ``context_for(ex, check)``)."""
    assert ex.principal is not None
    resource_policy: Mapping[str, Any] | None = None
    if check.key_policy:
        key = gate.directory.kms_key_by_arn(check.resource)
        resource_policy = key.policy if key is not None else None
    elif is_trust_policy_action(check.action):
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
    request = AccessRequest(
        caller=ex.principal.caller,
        action=check.action,
        resource=check.resource,
        resource_account=check.resource_account,
        context=context if context is not None else context_for(ex, check),
        resource_policy=resource_policy,
        key_policy=check.key_policy,
    )
    try:
        return evaluate(request)
    except Exception as error:  # noqa: BLE001 - an evaluator failure must deny, never let a request through
        gate.log.exception("evaluator failed on %s %s", check.action, check.resource)
        return Decision(False, f"evaluator error: {error!r}")
