"""KMS behind the gate: the operations localcloud emulates (``localcloud.kms.OPERATIONS``; every other one refused by
name), each key a request names resolved to its ARN (``localcloud.kms_actions``) and handed to moto by that ARN,
key policies checked before KMS takes them (``kms_policy``), and the key states that refuse an operation.

moto's KMS knows no key states for cryptography (it encrypts with a disabled key), reads a key policy's Deny
statements by itself (turned off: moto_adapter.MotoSettings) and looks every key up in one account: the gate hands
it the key's ARN in the key's own account (``Gate.moto_account``).
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import TYPE_CHECKING

from werkzeug.wrappers import Response

from localcloud import kms, moto_adapter
from localcloud.gate import kms_policy
from localcloud.gate.errors import GateError

if TYPE_CHECKING:
    from localcloud.gate.app import Gate
    from localcloud.gate.exchange import Exchange


def check_emulated(gate: Gate, ex: Exchange) -> Response | None:
    """Before authorization: an operation localcloud does not emulate is refused by name (moto would answer some of
    them, grants for one, without the gate knowing what they change)."""
    assert ex.plan is not None
    if ex.plan.operation not in kms.OPERATIONS:
        raise GateError(501, "NotImplemented", f"localcloud does not emulate KMS {ex.plan.operation}: of AWS KMS it "
                        f"answers {', '.join(sorted(kms.OPERATIONS))}.", sender=False)
    return None


def canonical_body(gate: Gate, ex: Exchange) -> Response | None:
    """moto receives the parameters the gate authorized: every key by the ARN it was resolved to (by its ID where
    moto takes no ARN, in the key's own account all the same)."""
    assert ex.plan is not None and ex.request is not None
    params = moto_adapter.kms_params_for_moto(ex.plan.operation, dict(ex.plan.params))
    ex.plan = replace(ex.plan, params=params)
    body = json.dumps(params, separators=(",", ":")).encode()
    if body != ex.request.body:
        ex.request = replace(ex.request, body=body)
    return None


def key_deletion(gate: Gate, ex: Exchange) -> Response:
    """ScheduleKeyDeletion and CancelKeyDeletion answer with the key's ARN (API_ScheduleKeyDeletion.html,
    API_CancelKeyDeletion.html, KeyId: "The Amazon Resource Name (key ARN) of the KMS key"), and scheduling with
    the key's new state and waiting period; moto echoes the KeyId it was given and leaves those out."""
    assert ex.plan is not None
    response = gate.forward(ex)
    key_arn = next((check.resource for check in ex.plan.checks if check.key_policy), None)
    if response.status_code != 200 or key_arn is None:
        return response
    answer = json.loads(response.get_data() or b"{}")
    answer["KeyId"] = key_arn
    if ex.plan.operation == "ScheduleKeyDeletion":
        answer["KeyState"] = kms.PENDING_DELETION
        answer["PendingWindowInDays"] = ex.plan.params.get("PendingWindowInDays", 30)
    response.set_data(json.dumps(answer).encode())
    return response


def check_policy(gate: Gate, ex: Exchange) -> Response | None:
    kms_policy.check_new_policy(gate, ex)
    return None


def check_key_state(gate: Gate, ex: Exchange) -> Response | None:
    """After authorization (a caller who may not use the key learns nothing of its state): the key states that
    refuse the operation (key-state.html). The rule applies to every key the operation uses (ReEncrypt: the source
    and the destination) but UpdateAlias's current key, which may be pending deletion (footnote 10)."""
    assert ex.plan is not None
    operation = kms.OPERATIONS[ex.plan.operation]
    keys = [check for check in ex.plan.checks if check.key_policy]
    if ex.plan.operation == "UpdateAlias":
        keys = keys[-1:]  # the new target
    for check in keys:
        key = gate.directory.kms_key_by_arn(check.resource)
        refusal = kms.state_refusal(key, operation.state) if key is not None else None
        if refusal is not None:
            raise GateError(400, *refusal)
    if ex.plan.operation == "ScheduleKeyDeletion":
        _check_pending_window(ex)
    return None


def _check_pending_window(ex: Exchange) -> None:
    """moto schedules nothing, and answers no error, for a waiting period outside 7 to 30 days
    (API_ScheduleKeyDeletion.html, PendingWindowInDays: "it must be between 7 and 30, inclusive")."""
    assert ex.plan is not None
    days = ex.plan.params.get("PendingWindowInDays", 30)
    if not isinstance(days, int) or isinstance(days, bool) or not 7 <= days <= 30:
        raise GateError(400, "ValidationException", f"PendingWindowInDays {days!r} is not valid: it must be between "
                        "7 and 30, inclusive.")


def list_aliases(gate: Gate, ex: Exchange) -> Response:
    """moto lists every predefined AWS alias with a made-up TargetKeyId; KMS lists those it has not yet associated
    with a key without one (API_ListAliases.html: "aliases that have no TargetKeyId field. These are predefined
    aliases that AWS has created but has not yet associated with a KMS key")."""
    assert ex.principal is not None and ex.signed is not None
    response = gate.forward(ex)
    if response.status_code != 200:
        return response
    answer = json.loads(response.get_data() or b"{}")
    account = gate.moto_account(ex)
    for alias in answer.get("Aliases", []):
        target = alias.get("TargetKeyId")
        if target and gate.directory.kms_key(account, ex.signed.region, target) is None:
            del alias["TargetKeyId"]
    response.set_data(json.dumps(answer).encode())
    return response
