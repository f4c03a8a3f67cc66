"""What a KMS request asks for: the one key it acts on (resolved from whatever form of KeyId it gives to the key's
ARN), the IAM checks it needs, and the canonical parameters moto receives (every key named by its ARN).

``classify`` is called by ``localcloud.actions.classify`` for the signing name "kms"; it asks the ``Directory``
about existing keys and aliases and raises ``KmsRequestError`` where KMS itself would answer without authorizing
(a key or alias that does not exist, a form of KeyId the operation does not take). Rules and pages: see
``localcloud.kms``. Resolution (API_DescribeKey.html and each operation's KeyId):

- a key ID or an alias name names a key of the caller's own account, in the Region of the request ("To specify a
  KMS key in a different AWS account, you must use the key ARN or alias ARN"); so an alias name never reaches
  another account;
- a key ARN or alias ARN names its account and Region; a Region other than the request's is refused as KMS does
  ("Invalid arn REGION", KMS's NotFoundException as LocalStack records it), another account only for the
  operations whose "Cross-account use" is Yes;
- Decrypt and ReEncrypt take the key from the ciphertext (moto writes the key ID into it); a KeyId or SourceKeyId
  naming another key is refused with IncorrectKeyException.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from localcloud import arns, kms
from localcloud.actions import ActionPlan, Check, Directory, UnexpectedParameter, input_members
from localcloud.kms import KmsKey
from localcloud.sigv4 import HttpRequest

# KMS's words for the refusals below where the API reference gives none: moto's and LocalStack's (which
# LocalStack checks against AWS).
NOT_FOUND = "NotFoundException"
CIPHERTEXT_KEY_NOT_FOUND = ("The ciphertext refers to a customer master key that does not exist, does not exist in "
                            "this region, or you are not allowed to access.")
INCORRECT_KEY = "The request was rejected because the specified KMS key cannot decrypt the data."  # kms model


class KmsRequestError(Exception):
    """KMS answers the request itself, before any authorization: ``code`` and ``message`` of its JSON error."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(f"{code}: {message}")
        self.code, self.message, self.status = code, message, status


def not_emulated(what: str) -> KmsRequestError:
    return KmsRequestError("UnsupportedOperationException", f"localcloud does not emulate {what}.")


@dataclass(frozen=True)
class ResolvedKey:
    """The key a KeyId names, and the alias it was named by (kms:RequestAlias), if any."""

    key: KmsKey
    alias: str | None = None


@dataclass(frozen=True)
class KeyScope:
    """Who asks, where: the caller's account and the Region of the request (for S3's calls on the caller's
    behalf, the bucket's Region), and what answers questions about keys."""

    account: str
    region: str
    directory: Directory

    def alias_arn(self, alias: str) -> str:
        return arns.kms_alias(self.region, self.account, alias)


def _key_of(scope: KeyScope, account: str, key_id: str) -> KmsKey:
    found = scope.directory.kms_key(account, scope.region, key_id)
    if found is None:
        raise KmsRequestError(NOT_FOUND, f"Key '{arns.kms_key(scope.region, account, key_id)}' does not exist")
    return found


def _aliased(scope: KeyScope, account: str, alias: str) -> KmsKey:
    target = scope.directory.kms_alias_target(account, scope.region, alias)
    if target is None and alias.startswith(kms.AWS_ALIAS_PREFIX) and account == scope.account:
        # A predefined AWS alias: KMS creates its AWS managed key on first use (API_DescribeKey.html, KeyId).
        if alias != kms.S3_MANAGED_ALIAS:
            raise not_emulated(f"the AWS managed key {alias} (of the AWS managed keys it has only {kms.S3_MANAGED_ALIAS})")
        created = scope.directory.kms_aws_managed_key(account, scope.region, alias)
        target = created.key_id if created is not None else None
    if target is None:
        raise KmsRequestError(NOT_FOUND, f"Alias {arns.kms_alias(scope.region, account, alias)} is not found.")
    return _key_of(scope, account, target)


def resolve_key(value: Any, scope: KeyScope, operation: str, *, aliases: bool, cross_account: bool) -> ResolvedKey:
    """The key ``value`` names for ``operation``, by the rules of the module docstring."""
    name = kms.parse_key_name(value) if isinstance(value, str) else None
    if name is None or (name.alias is not None and not aliases):
        raise KmsRequestError(NOT_FOUND, f"Invalid keyId {value}")
    if name.region is not None and name.region != scope.region:
        raise KmsRequestError(NOT_FOUND, f"Invalid arn {name.region}")
    account = name.account or scope.account
    if account != scope.account and not cross_account:
        raise KmsRequestError(NOT_FOUND, f"localcloud: {operation} takes no KMS key of another AWS account "
                              f"({value}): the KMS API reference says \"Cross-account use: No\".")
    if name.alias is not None:
        return ResolvedKey(_aliased(scope, account, name.alias), name.alias)
    assert name.key_id is not None
    return ResolvedKey(_key_of(scope, account, name.key_id))


def _ciphertext_key(params: Mapping[str, Any], name: str, scope: KeyScope) -> KmsKey:
    """The key a ciphertext parameter was encrypted under, in any account of the Region."""
    try:
        blob = base64.b64decode(str(params.get(name) or ""), validate=True)
    except (binascii.Error, ValueError):
        raise KmsRequestError("InvalidCiphertextException", "") from None
    keys = scope.directory.kms_ciphertext_keys(scope.region, blob)
    if keys is None:
        raise KmsRequestError("InvalidCiphertextException", "")
    if len(keys) != 1:
        if keys:
            raise KmsRequestError("InvalidCiphertextException", "localcloud: the ciphertext's key ID is held by "
                                  "more than one account; it cannot tell which key to use.")
        raise KmsRequestError("AccessDeniedException", CIPHERTEXT_KEY_NOT_FOUND)
    return keys[0]


# --- Checks -------------------------------------------------------------------------------------------------------


def _key_check(action: str, resolved: ResolvedKey, scope: KeyScope, context: Mapping[str, str | list[str]] | None = None,
               *, from_ciphertext: bool = False) -> Check:
    key = resolved.key
    merged: dict[str, str | list[str]] = {**kms.key_condition_keys(key, scope.account), **(context or {})}
    if resolved.alias is not None:
        merged["kms:RequestAlias"] = resolved.alias
    return Check(action, key.arn, key.account, merged, key_policy=True, from_ciphertext=from_ciphertext)


def _iam_check(action: str, resource: str, scope: KeyScope,
               context: Mapping[str, str | list[str]] | None = None) -> Check:
    return Check(action, resource, scope.account, {"kms:CallerAccount": scope.account, **(context or {})})


def _request_keys(operation: str, params: Mapping[str, Any]) -> dict[str, str | list[str]]:
    """The condition keys of the request's own parameters (conditions-kms.html)."""
    keys: dict[str, str | list[str]] = {}
    if operation in ("GetKeyPolicy", "PutKeyPolicy"):
        keys["kms:PolicyName"] = str(params.get("PolicyName") or "default")
    if "BypassPolicyLockoutSafetyCheck" in params:
        keys["kms:BypassPolicyLockoutSafetyCheck"] = "true" if params["BypassPolicyLockoutSafetyCheck"] else "false"
    if "PendingWindowInDays" in params:
        keys["kms:ScheduleKeyDeletionPendingWindowInDays"] = str(params["PendingWindowInDays"])
    if "Tags" in params:
        keys.update(kms.request_tag_keys(params["Tags"]))
    if operation == "UntagResource" and params.get("TagKeys"):
        keys["aws:TagKeys"] = [str(key) for key in params["TagKeys"]]
    context = params.get("EncryptionContext")
    keys.update(kms.encryption_context_keys(context if isinstance(context, dict) else None))
    return keys


def _create_key_keys(params: Mapping[str, Any]) -> dict[str, str | list[str]]:
    """CreateKey's kms:KeySpec, kms:KeyUsage, kms:KeyOrigin and kms:MultiRegion, with the API's defaults."""
    return {
        "kms:KeySpec": str(params.get("KeySpec") or params.get("CustomerMasterKeySpec") or "SYMMETRIC_DEFAULT"),
        "kms:KeyUsage": str(params.get("KeyUsage") or "ENCRYPT_DECRYPT"),
        "kms:KeyOrigin": str(params.get("Origin") or "AWS_KMS"),
        "kms:MultiRegion": "true" if params.get("MultiRegion") else "false",
    }


def _refuse_unsupported(operation: str, params: Mapping[str, Any]) -> None:
    for name, why in kms.UNSUPPORTED_PARAMETERS.get(operation, {}).items():
        if name in params:
            raise not_emulated(f"{operation}'s {name} ({why})")
    for name in kms.ALGORITHM_PARAMETERS:
        if name in params and params[name] != kms.SYMMETRIC_ALGORITHM:
            raise not_emulated(f"{name} {params[name]!r}: localcloud's keys are symmetric encryption keys only")
    if operation == "CreateKey":
        for name, allowed in kms.CREATE_KEY_VALUES.items():
            if name in params and params[name] not in allowed:
                raise not_emulated(f"CreateKey with {name} {params[name]!r} (only {', '.join(allowed)})")
        if params.get("MultiRegion"):
            raise not_emulated("multi-Region keys (CreateKey MultiRegion)")


def _alias_checks(operation: str, params: Mapping[str, Any], scope: KeyScope) -> tuple[list[Check], dict[str, Any]]:
    """CreateAlias, UpdateAlias, DeleteAlias: the alias (IAM policy) and the key(s) (key policy)."""
    alias = params.get("AliasName")
    if not isinstance(alias, str) or not kms.ALIAS_PATTERN.match(alias):
        raise KmsRequestError("ValidationException", f"Invalid alias name {alias!r}: an alias name is \"alias/\" "
                              "followed by letters, digits, \"/\", \"_\" and \"-\" (API_CreateAlias.html).")
    action = f"kms:{operation}"
    checks = [_iam_check(action, scope.alias_arn(alias), scope)]
    rewritten = dict(params)
    if operation in ("UpdateAlias", "DeleteAlias"):
        checks.append(_key_check(action, ResolvedKey(_aliased(scope, scope.account, alias)), scope))
    if operation in ("CreateAlias", "UpdateAlias"):
        target = resolve_key(params.get("TargetKeyId"), scope, operation, aliases=False, cross_account=False)
        checks.append(_key_check(action, target, scope))
        rewritten["TargetKeyId"] = target.key.arn
    return checks, rewritten


def _crypto_checks(operation: str, params: Mapping[str, Any], scope: KeyScope) -> tuple[list[Check], dict[str, Any]]:
    """Decrypt and ReEncrypt: the key of the ciphertext (and ReEncrypt's destination)."""
    rewritten = dict(params)
    source = ResolvedKey(_ciphertext_key(params, "CiphertextBlob", scope))
    named_by = "KeyId" if operation == "Decrypt" else "SourceKeyId"
    if params.get(named_by) is not None:
        named = resolve_key(params[named_by], scope, operation, aliases=True, cross_account=True)
        if named.key.arn != source.key.arn:
            raise KmsRequestError("IncorrectKeyException", INCORRECT_KEY)
        source = ResolvedKey(source.key, named.alias)
        rewritten[named_by] = source.key.arn
    if operation == "Decrypt":
        context = kms.encryption_context_keys(params.get("EncryptionContext") or None)
        return [_key_check("kms:Decrypt", source, scope, context, from_ciphertext=params.get("KeyId") is None)], \
            rewritten
    destination = resolve_key(params.get("DestinationKeyId"), scope, operation, aliases=True, cross_account=True)
    if destination.key.account != source.key.account:
        raise not_emulated("ReEncrypt between keys of two accounts (moto re-encrypts within one account)")
    rewritten["DestinationKeyId"] = destination.key.arn
    same = {"kms:ReEncryptOnSameKey": "true" if destination.key.arn == source.key.arn else "false"}
    checks = [
        _key_check("kms:ReEncryptFrom", source, scope,
                   {**same, **kms.encryption_context_keys(params.get("SourceEncryptionContext") or None)},
                   from_ciphertext=params.get("SourceKeyId") is None),
        _key_check("kms:ReEncryptTo", destination, scope,
                   {**same, **kms.encryption_context_keys(params.get("DestinationEncryptionContext") or None)}),
    ]
    return checks, rewritten


def _checks(operation: str, params: Mapping[str, Any], scope: KeyScope) -> tuple[list[Check], dict[str, Any]]:
    action = f"kms:{operation}"
    context = _request_keys(operation, params)
    spec = kms.OPERATIONS.get(operation)
    if spec is None:  # not emulated: refused by name before authorization (localcloud.gate.kms)
        return [_iam_check(action, "*", scope)], dict(params)
    if operation == "CreateKey":
        merged = {**_create_key_keys(params), **context}
        checks = [_iam_check(action, "*", scope, merged)]
        if params.get("Tags"):  # API_CreateKey.html: "To use the Tags parameter, kms:TagResource (IAM policy)"
            checks.append(_iam_check("kms:TagResource", "*", scope, merged))
        # moto keeps no KeyUsage when none is given; KMS's default is ENCRYPT_DECRYPT (API_CreateKey.html).
        return checks, {"KeyUsage": "ENCRYPT_DECRYPT", **params}
    if operation in ("CreateAlias", "UpdateAlias", "DeleteAlias"):
        return _alias_checks(operation, params, scope)
    if operation in ("Decrypt", "ReEncrypt"):
        return _crypto_checks(operation, params, scope)
    rewritten = dict(params)
    if operation in ("GetKeyPolicy", "PutKeyPolicy") and "PolicyName" not in params:
        rewritten["PolicyName"] = "default"  # the API's default (moto requires the parameter)
    if spec.key_param is None or (operation == "ListAliases" and "KeyId" not in params):
        return [_iam_check(action, "*", scope, context)], rewritten
    resolved = resolve_key(params.get(spec.key_param), scope, operation, aliases=spec.aliases,
                           cross_account=spec.cross_account)
    rewritten[spec.key_param] = resolved.key.arn
    if operation == "ListAliases":  # KeyId only filters the list: kms:ListAliases is an IAM permission
        return [_iam_check(action, "*", scope, context)], rewritten
    return [_key_check(action, resolved, scope, context)], rewritten


def classify(request: HttpRequest, *, region: str, caller_account: str, directory: Directory) -> ActionPlan:
    """The plan of a KMS request (JSON protocol, ``X-Amz-Target: TrentService.<Operation>``)."""
    operation = (request.header("x-amz-target") or "").rpartition(".")[2]
    try:
        params = json.loads(request.body) if request.body else {}
    except ValueError:
        params = {}
    if not isinstance(params, dict):
        params = {}
    members = input_members("kms", operation) if operation else None
    if members is not None:
        for name in params:
            if name not in members:
                raise UnexpectedParameter(operation, name, names_resource=name.endswith("KeyId"))
    scope = KeyScope(caller_account, region, directory)
    if operation in kms.OPERATIONS:
        _refuse_unsupported(operation, params)
    checks, rewritten = _checks(operation, params, scope)
    return ActionPlan("kms", operation, "json", tuple(checks), rewritten)
