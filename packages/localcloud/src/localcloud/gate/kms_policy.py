"""The checks KMS makes on a key policy before it takes it (CreateKey's and PutKeyPolicy's Policy, KMS API
Reference): a JSON policy document, principals that exist, and the policy lockout safety check.

- "Each statement in the key policy must contain one or more principals. The principals in the key policy must exist
  and be visible to KMS." KMS answers MalformedPolicyDocumentException "Policy contains a statement with one or more
  invalid principals." (its wording as CloudFormation, Terraform and the SDKs report it; the API reference gives
  none). What localcloud can check: an IAM user, role or role session of one of the cloud's own accounts must exist
  (the role, for a session); an account ID or account root ARN, "*", and principals of accounts outside the cloud
  are accepted, because localcloud cannot know which of those exist. IAM groups are never principals
  (reference_policies_elements_principal.html), so they are invalid.
- "The key policy must allow the calling principal to make a subsequent PutKeyPolicy request on the KMS key", unless
  BypassPolicyLockoutSafetyCheck is true; KMS answers MalformedPolicyDocumentException "The new key policy will not
  allow you to update the key policy in the future." The check is an evaluation: the caller, kms:PutKeyPolicy on the
  key, the new document as its key policy, the caller's own identity policies, and this request's context (the
  policy name "default"; a later request's other parameters are unknown, so none of this one's are kept).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from localcloud import arns
from localcloud.actions import Check
from localcloud.evaluator import AccessRequest, evaluate
from localcloud.evaluator.matching import as_list
from localcloud.gate import authorize
from localcloud.gate.errors import GateError

if TYPE_CHECKING:
    from localcloud.gate.app import Gate
    from localcloud.gate.exchange import Exchange

MALFORMED = "MalformedPolicyDocumentException"
INVALID_PRINCIPALS = "Policy contains a statement with one or more invalid principals."
LOCKOUT = "The new key policy will not allow you to update the key policy in the future."
# The key CreateKey will create has no ID yet; its key policy's Resource is "*" (the key itself).
NEW_KEY_ID = "00000000-0000-0000-0000-000000000000"

_IAM_PRINCIPAL = re.compile(r"^arn:[\w-]+:iam::(?P<account>\d{12}):(?P<kind>user|role|root|group)(?P<rest>/.*)?$")
_SESSION = re.compile(r"^arn:[\w-]+:sts::(?P<account>\d{12}):assumed-role/(?P<role>[^/]+)/[^/]+$")
_ACCOUNT_ID = re.compile(r"^\d{12}$")


def check_new_policy(gate: Gate, ex: Exchange) -> None:
    """CreateKey with a Policy, PutKeyPolicy: the document, its principals, and the lockout safety check."""
    assert ex.plan is not None
    params = ex.plan.params
    if ex.plan.operation not in ("CreateKey", "PutKeyPolicy") or "Policy" not in params:
        return
    document = _document(params["Policy"])
    for statement in _statements(document):
        if "Principal" not in statement and "NotPrincipal" not in statement:
            raise GateError(400, MALFORMED, "localcloud: a key policy statement names no principal (KMS API "
                            "Reference: \"Each statement in the key policy must contain one or more principals\").")
        if not all(_principal_exists(gate, value) for value in _aws_principals(statement)):
            raise GateError(400, MALFORMED, INVALID_PRINCIPALS)
    if not params.get("BypassPolicyLockoutSafetyCheck") and not _allows_put_key_policy(gate, ex, document):
        raise GateError(400, MALFORMED, LOCKOUT)


def _document(text: Any) -> dict[str, Any]:
    try:
        document = json.loads(text) if isinstance(text, str) else None
    except ValueError:
        document = None
    if not isinstance(document, dict) or "Statement" not in document:
        raise GateError(400, MALFORMED, "localcloud: the key policy is not a JSON policy document with a Statement.")
    return document


def _statements(document: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    for statement in as_list(document.get("Statement")):
        if not isinstance(statement, Mapping):
            raise GateError(400, MALFORMED, "localcloud: a key policy statement is not a JSON object.")
        yield statement


def _aws_principals(statement: Mapping[str, Any]) -> Iterator[str]:
    for element in (statement.get("Principal"), statement.get("NotPrincipal")):
        if isinstance(element, Mapping):
            yield from (str(value) for value in as_list(element.get("AWS")))


def _principal_exists(gate: Gate, value: str) -> bool:
    if value == "*" or _ACCOUNT_ID.match(value):
        return True
    found = _IAM_PRINCIPAL.match(value)
    session = _SESSION.match(value)
    match = found or session
    if match is None:
        return False
    account = match["account"]
    if not gate.directory.has_account(account):
        return found is None or found["kind"] != "group"  # another account: localcloud cannot tell
    if session is not None:
        return gate.directory.role_arn(account, session["role"]) is not None
    assert found is not None
    if found["kind"] == "root":
        return value == arns.account_root(account)
    if found["kind"] == "role":
        return gate.directory.role(value) is not None
    if found["kind"] == "user":
        name = (found["rest"] or "").rsplit("/", 1)[-1]
        return gate.directory.user_arn(account, name) == value
    return False  # an IAM group is no principal


def _allows_put_key_policy(gate: Gate, ex: Exchange, document: Mapping[str, Any]) -> bool:
    """Whether the caller could call PutKeyPolicy on the key once ``document`` is its key policy."""
    assert ex.plan is not None and ex.principal is not None and ex.signed is not None
    caller = ex.principal.caller
    account = caller.account or ""
    key_arn = ex.plan.params.get("KeyId") if ex.plan.operation == "PutKeyPolicy" else None
    key_arn = str(key_arn or arns.kms_key(ex.signed.region, account, NEW_KEY_ID))
    check = Check("kms:PutKeyPolicy", key_arn, arns.account_of(key_arn) or account,
                  {"kms:CallerAccount": account, "kms:PolicyName": "default"}, key_policy=True)
    request = AccessRequest(caller, check.action, check.resource, check.resource_account,
                            authorize.context_for(ex, check), document, key_policy=True)
    return evaluate(request).allowed
