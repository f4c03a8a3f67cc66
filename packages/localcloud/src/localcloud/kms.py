"""KMS as localcloud emulates it: the operations, how a request names its key, the key states that refuse an
operation, and the key policies AWS writes itself. Pure (standard library and ``localcloud.arns`` only).

Sources (KMS API Reference, per operation, as botocore's kms model carries it, and the KMS Developer Guide):

- Each operation's "Cross-account use" and "Required permissions": which operations take a key of another
  account (by key ARN or alias ARN only), which take an alias at all (``KeyId``: "key ID, key ARN, alias name, or
  alias ARN" for cryptographic operations and DescribeKey, "key ID or key ARN" for the others), and which
  permission is checked where ("(key policy)" or "(IAM policy)").
- API_CreateAlias.html / API_UpdateAlias.html / API_DeleteAlias.html: kms:CreateAlias (and the others) "on the
  alias (IAM policy)" and "on the KMS key (key policy)"; UpdateAlias on the current and on the new key.
- API_ReEncrypt.html: kms:ReEncryptFrom on the source key, kms:ReEncryptTo on the destination key.
- key-state.html, "Key state table": which operations fail on a disabled key or a key pending deletion, and with
  which error ("DisabledException: <key ARN> is disabled.", "KMSInvalidStateException: <key ARN> is pending
  deletion.", "KMSInvalidStateException: <key ARN> is not pending deletion."). For cryptographic operations on a key
  pending deletion the table allows either error; localcloud answers KMSInvalidStateException, which is what S3
  reports for such a key (KMS.KMSInvalidStateException ... is pending deletion.).
- key-policy-default.html: the default key policy, which moto attaches itself (Sid "Enable IAM User Permissions").
- The AWS managed key for S3 (alias/aws/s3): UsingKMSEncryption.html ("Amazon S3 automatically creates an AWS
  managed key in your AWS account the first time that you add an object encrypted with SSE-KMS"); its key policy
  is not printed in the guide. ``aws_managed_s3_policy`` is the document KMS returns for it (Id "auto-s3-2"), whose
  first statement follows the pattern conditions-kms.html shows for the EBS managed key.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from localcloud import arns

# The forms a KeyId takes (e.g. API_DescribeKey.html, KeyId).
KEY_ID = "key ID"
KEY_ARN = "key ARN"
ALIAS_NAME = "alias name"
ALIAS_ARN = "alias ARN"

_KEY_ID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_KEY_ARN = re.compile(r"^arn:[\w-]+:kms:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):key/(?P<id>[^/]+)$")
_ALIAS_ARN = re.compile(r"^arn:[\w-]+:kms:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):(?P<alias>alias/.+)$")
# API_CreateAlias.html, AliasName: "alias/" and then alphanumerics, "/", "_" and "-".
ALIAS_PATTERN = re.compile(r"^alias/[A-Za-z0-9/_-]{1,250}$")
AWS_ALIAS_PREFIX = "alias/aws/"  # reserved for AWS managed keys (API_CreateAlias.html)
S3_MANAGED_ALIAS = "alias/aws/s3"
S3_MANAGED_KEY_DESCRIPTION = "Default master key that protects my S3 objects when no other key is defined"


@dataclass(frozen=True)
class KeyName:
    """A KeyId read once: its form and what it names (the account and region only from an ARN)."""

    form: str
    value: str
    key_id: str | None = None  # KEY_ID, KEY_ARN
    alias: str | None = None  # ALIAS_NAME, ALIAS_ARN: "alias/..."
    account: str | None = None
    region: str | None = None


def parse_key_name(value: str) -> KeyName | None:
    """The form of a KeyId; None for a value that is none of the four (KMS answers NotFoundException)."""
    if _KEY_ID.match(value):
        return KeyName(KEY_ID, value, key_id=value.lower())
    found = _KEY_ARN.match(value)
    if found:
        return KeyName(KEY_ARN, value, key_id=found["id"], account=found["account"], region=found["region"])
    found = _ALIAS_ARN.match(value)
    if found:
        return KeyName(ALIAS_ARN, value, alias=found["alias"], account=found["account"], region=found["region"])
    if value.startswith("alias/"):
        return KeyName(ALIAS_NAME, value, alias=value)
    return None


@dataclass(frozen=True)
class KmsKey:
    """A KMS key as the gate needs it: where it lives, its state and spec, its key policy (a dict) and tags."""

    arn: str
    key_id: str
    account: str
    region: str
    state: str  # Enabled | Disabled | PendingDeletion
    key_spec: str
    key_usage: str
    origin: str
    manager: str  # CUSTOMER | AWS
    policy: Mapping[str, Any] | None
    tags: Mapping[str, str]
    multi_region: bool = False


# --- Key states (key-state.html) --------------------------------------------------------------------------------

ENABLED, DISABLED, PENDING_DELETION = "Enabled", "Disabled", "PendingDeletion"


@dataclass(frozen=True)
class StateRule:
    """Which key states an operation refuses (key-state.html, "Key state table")."""

    disabled: bool = False  # DisabledException: <key ARN> is disabled.
    pending_deletion: bool = False  # KMSInvalidStateException: <key ARN> is pending deletion.
    needs_pending_deletion: bool = False  # KMSInvalidStateException: <key ARN> is not pending deletion.


_ANY_STATE = StateRule()
_USABLE_ONLY = StateRule(disabled=True, pending_deletion=True)
_NOT_PENDING_DELETION = StateRule(pending_deletion=True)


def state_refusal(key: KmsKey, rule: StateRule) -> tuple[str, str] | None:
    """(error code, message) when ``key``'s state refuses an operation with ``rule``, as key-state.html words it."""
    if rule.needs_pending_deletion and key.state != PENDING_DELETION:
        return "KMSInvalidStateException", f"{key.arn} is not pending deletion."
    if rule.pending_deletion and key.state == PENDING_DELETION:
        return "KMSInvalidStateException", f"{key.arn} is pending deletion."
    if rule.disabled and key.state == DISABLED:
        return "DisabledException", f"{key.arn} is disabled."
    return None


# --- Operations ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KmsOperation:
    """One emulated operation on one key (``key_param``), or on none."""

    key_param: str | None = None  # the parameter naming the key
    aliases: bool = False  # the parameter may be an alias name or alias ARN
    cross_account: bool = False  # a key of another account may be named (by ARN)
    state: StateRule = _ANY_STATE


_CRYPTO = dict(key_param="KeyId", aliases=True, cross_account=True, state=_USABLE_ONLY)
_MANAGE = dict(key_param="KeyId", state=_NOT_PENDING_DELETION)

OPERATIONS: Mapping[str, KmsOperation] = {
    # IAM policy only: no key (CreateKey, ListKeys, ListAliases)
    "CreateKey": KmsOperation(),
    "ListKeys": KmsOperation(),
    "ListAliases": KmsOperation(key_param="KeyId"),  # KeyId only filters; kms:ListAliases is an IAM permission
    # Aliases: the alias (IAM policy) and the key (key policy)
    "CreateAlias": KmsOperation(key_param="TargetKeyId", state=_NOT_PENDING_DELETION),
    "UpdateAlias": KmsOperation(key_param="TargetKeyId", state=_NOT_PENDING_DELETION),
    "DeleteAlias": KmsOperation(),
    # Key management (key policy), in the caller's own account only
    "DescribeKey": KmsOperation(key_param="KeyId", aliases=True, cross_account=True),
    "GetKeyPolicy": KmsOperation(key_param="KeyId"),
    "PutKeyPolicy": KmsOperation(key_param="KeyId"),
    "GetKeyRotationStatus": KmsOperation(key_param="KeyId", cross_account=True),
    "EnableKeyRotation": KmsOperation(key_param="KeyId", state=_USABLE_ONLY),
    "DisableKeyRotation": KmsOperation(key_param="KeyId", state=_USABLE_ONLY),
    "EnableKey": KmsOperation(**_MANAGE),
    "DisableKey": KmsOperation(**_MANAGE),
    "UpdateKeyDescription": KmsOperation(**_MANAGE),
    "ScheduleKeyDeletion": KmsOperation(**_MANAGE),
    "CancelKeyDeletion": KmsOperation(key_param="KeyId", state=StateRule(needs_pending_deletion=True)),
    "TagResource": KmsOperation(**_MANAGE),
    "UntagResource": KmsOperation(**_MANAGE),
    "ListResourceTags": KmsOperation(key_param="KeyId"),
    # Cryptographic operations (key policy), also across accounts
    "Encrypt": KmsOperation(**_CRYPTO),
    "GenerateDataKey": KmsOperation(**_CRYPTO),
    "GenerateDataKeyWithoutPlaintext": KmsOperation(**_CRYPTO),
    "Decrypt": KmsOperation(**_CRYPTO),  # the key of the ciphertext; KeyId optional
    # kms:ReEncryptFrom on the ciphertext's key, kms:ReEncryptTo on DestinationKeyId's (API_ReEncrypt.html)
    "ReEncrypt": KmsOperation(key_param="DestinationKeyId", aliases=True, cross_account=True, state=_USABLE_ONLY),
}

# Parameters moto would ignore or that name something localcloud does not emulate: refused by name rather than
# dropped (operation -> parameter -> why). GrantTokens: grants are not emulated; DryRun: moto runs the operation.
_GRANTS = "localcloud does not emulate grants (CreateGrant and grant tokens)"
_DRY_RUN = "moto would run the operation instead of a dry run"
_PAGES = "moto answers every item in one page and ignores paging"
UNSUPPORTED_PARAMETERS: Mapping[str, Mapping[str, str]] = {
    "CreateKey": {"CustomKeyStoreId": "localcloud has no custom key stores",
                  "XksKeyId": "localcloud has no external key stores"},
    "ListKeys": {"Limit": _PAGES, "Marker": _PAGES, "ResourceOwners": "localcloud does not emulate AWS RAM"},
    "ListAliases": {"Limit": _PAGES, "Marker": _PAGES},
    "ListResourceTags": {"Limit": _PAGES, "Marker": _PAGES},
    "EnableKeyRotation": {"RotationPeriodInDays": "moto keeps no rotation period (it could not be read back)"},
    "DescribeKey": {"GrantTokens": _GRANTS},
    **{operation: {"GrantTokens": _GRANTS, "DryRun": _DRY_RUN, "Recipient": "localcloud has no Nitro Enclaves"}
       for operation in ("Encrypt", "GenerateDataKey", "GenerateDataKeyWithoutPlaintext", "Decrypt")},
    "ReEncrypt": {"GrantTokens": _GRANTS, "DryRun": _DRY_RUN},
}
# CreateKey inputs other than these values are refused: moto encrypts with one AES key whatever the spec says, and
# keeps no imported or external key material.
CREATE_KEY_VALUES: Mapping[str, tuple[str, ...]] = {
    "KeySpec": ("SYMMETRIC_DEFAULT",),
    "CustomerMasterKeySpec": ("SYMMETRIC_DEFAULT",),
    "KeyUsage": ("ENCRYPT_DECRYPT",),
    "Origin": ("AWS_KMS",),
}
# EncryptionAlgorithm of a symmetric encryption key (API_Encrypt.html: "SYMMETRIC_DEFAULT ... the default").
SYMMETRIC_ALGORITHM = "SYMMETRIC_DEFAULT"
ALGORITHM_PARAMETERS = ("EncryptionAlgorithm", "SourceEncryptionAlgorithm", "DestinationEncryptionAlgorithm")


# --- Condition keys (conditions-kms.html, conditions-aws.html) -------------------------------------------------


def encryption_context_keys(context: Mapping[str, str] | None) -> dict[str, str | list[str]]:
    """kms:EncryptionContext:KEY for each pair and kms:EncryptionContextKeys listing the keys; nothing for an empty
    context (the keys are then missing from the request context)."""
    if not context:
        return {}
    keys: dict[str, str | list[str]] = {f"kms:EncryptionContext:{name}": str(value) for name, value in context.items()}
    keys["kms:EncryptionContextKeys"] = list(context)
    return keys


def key_condition_keys(key: KmsKey, caller_account: str) -> dict[str, str | list[str]]:
    """The keys of a KMS key resource operation: the caller's account, the key's spec, usage, origin and
    Region-ness, and its tags as aws:ResourceTag/KEY."""
    keys: dict[str, str | list[str]] = {
        "kms:CallerAccount": caller_account,
        "kms:KeySpec": key.key_spec,
        "kms:KeyUsage": key.key_usage,
        "kms:KeyOrigin": key.origin,
        "kms:MultiRegion": "true" if key.multi_region else "false",
    }
    keys.update({f"aws:ResourceTag/{name}": value for name, value in key.tags.items()})
    return keys


def request_tag_keys(tags: Any) -> dict[str, str | list[str]]:
    """aws:RequestTag/KEY and aws:TagKeys of a KMS Tags list ([{"TagKey": ..., "TagValue": ...}])."""
    pairs = [(str(tag.get("TagKey", "")), str(tag.get("TagValue", ""))) for tag in tags or []
             if isinstance(tag, Mapping)]
    if not pairs:
        return {}
    keys: dict[str, str | list[str]] = {f"aws:RequestTag/{name}": value for name, value in pairs}
    keys["aws:TagKeys"] = [name for name, _ in pairs]
    return keys


# --- Key policies AWS writes ------------------------------------------------------------------------------------


def aws_managed_s3_policy(account: str, region: str) -> dict[str, Any]:
    """The key policy of the AWS managed key aws/s3: any principal of the account, through S3 only, and the account
    reading the key's metadata."""
    return {
        "Version": "2012-10-17",
        "Id": "auto-s3-2",
        "Statement": [
            {
                "Sid": "Allow access through S3 for all principals in the account that are authorized to use S3",
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
                "Resource": "*",
                "Condition": {"StringEquals": {"kms:CallerAccount": account,
                                               "kms:ViaService": via_service("s3", region)}},
            },
            {
                "Sid": "Allow direct access to key metadata to the account",
                "Effect": "Allow",
                "Principal": {"AWS": arns.account_root(account)},
                "Action": ["kms:Describe*", "kms:Get*", "kms:List*"],
                "Resource": "*",
            },
        ],
    }


def via_service(service: str, region: str) -> str:
    """kms:ViaService of a service calling KMS for a principal (conditions-kms.html: "s3.us-west-2.amazonaws.com")."""
    return f"{service}.{region}.amazonaws.com"
