"""aws.kms.Key and aws.kms.Alias (pulumi-aws v7) as KMS API calls; resources.RESOURCE_TYPES registers them.

pulumi-aws v7 bridges terraform-provider-aws's aws_kms_key and aws_kms_alias (internal/service/kms/key.go and
alias.go); these mappings make the calls the provider makes, in its order:

- Key: CreateKey (Policy, Description, KeyUsage, KeySpec, Tags, BypassPolicyLockoutSafetyCheck, MultiRegion), then
  EnableKeyRotation if enable_key_rotation and DisableKey if not is_enabled. An update enables the key first (a
  disabled key takes no other change), then sets rotation, the description (UpdateKeyDescription), the policy
  (PutKeyPolicy) and the tags (TagResource/UntagResource), and disables the key last. key_usage,
  customer_master_key_spec and multi_region replace the key. Description and policy are optional and computed: left
  out, they stay as they are (a key without a policy input has AWS's default key policy). Deleting schedules the
  deletion (ScheduleKeyDeletion with deletion_window_in_days, AWS's 30 days when unset): the key stays, pending
  deletion, as in AWS.
- Alias: CreateAlias; a new target_key_id is UpdateAlias, a new name or name_prefix a new alias; DeleteAlias.
  Without name or name_prefix, Pulumi's auto-name with "alias/" in front (pulumi-aws#1445).

Refused by name (not applied, so not in the inputs): custom_key_store_id and xks_key_id (localcloud has no custom
key stores), rotation_period_in_days (moto keeps no rotation period, so it could be neither applied nor read
back), and v7's per-resource region, as for every type.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import re
import threading
from datetime import UTC, datetime
from functools import cache
from typing import Any

import botocore.session
from botocore.exceptions import ClientError

from localcloud import arns
from localcloud.sdk import LOADER_LOCK
from localcloud_pulumi.mapping import Account, Inputs, Outputs, ResourceType, physical_name

KEY_TYPE = "aws:kms/key:Key"
ALIAS_TYPE = "aws:kms/alias:Alias"

KEY_POLICY_NAME = "default"  # a key's one policy (API_PutKeyPolicy.html: "The only valid value is default")
ALIAS_PREFIX = "alias/"
RESERVED_ALIAS_PREFIX = "alias/aws/"  # AWS managed keys' aliases (API_CreateAlias.html)
DELETION_WINDOW_DAYS = range(7, 31)  # API_ScheduleKeyDeletion.html, PendingWindowInDays: 7 to 30
_ALIAS_NAME = re.compile(r"alias/[0-9A-Za-z_/-]+")  # the provider's check of name and name_prefix

# The provider's schema defaults (key.go): CreateKey always sends KeyUsage, KeySpec and the lockout switch.
KEY_DEFAULTS: dict[str, Any] = {
    "keyUsage": "ENCRYPT_DECRYPT",
    "customerMasterKeySpec": "SYMMETRIC_DEFAULT",
    "bypassPolicyLockoutSafetyCheck": False,
    "enableKeyRotation": False,
    "isEnabled": True,
    "multiRegion": False,
}


# --- Key ----------------------------------------------------------------------------------------------------

def _given(inputs: Inputs) -> dict[str, Any]:
    return KEY.effective(inputs)


def _key_tags(tags: Any) -> list[dict[str, str]]:
    """KMS's tag list (TagKey/TagValue, API_Tag.html), not IAM's or S3's Key/Value."""
    return [{"TagKey": k, "TagValue": v} for k, v in sorted((tags or {}).items())]


def _document(policy: str) -> str:
    """The policy as the provider sends it (structure.NormalizeJsonString: compact JSON, object keys sorted)."""
    return json.dumps(json.loads(policy), separators=(",", ":"), sort_keys=True)


def _json_object(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def _same_document(given: str, applied: str) -> bool:
    """The same policy document, however written (the provider compares documents, not their text)."""
    parsed = _json_object(given)
    return parsed is not None and parsed == _json_object(applied)


def create_key(account: Account, logical: str, inputs: Inputs) -> tuple[str, Outputs]:
    given = _given(inputs)
    args: dict[str, Any] = {"KeyUsage": given["keyUsage"], "KeySpec": given["customerMasterKeySpec"],
                            "BypassPolicyLockoutSafetyCheck": bool(given["bypassPolicyLockoutSafetyCheck"])}
    if inputs.get("description"):
        args["Description"] = inputs["description"]
    if inputs.get("policy"):
        args["Policy"] = _document(inputs["policy"])
    if given["multiRegion"]:
        args["MultiRegion"] = True
    if inputs.get("tags"):
        args["Tags"] = _key_tags(inputs["tags"])
    kms = account.client("kms")
    key_id = kms.create_key(**args)["KeyMetadata"]["KeyId"]
    try:
        if given["enableKeyRotation"]:
            kms.enable_key_rotation(KeyId=key_id)
        if not given["isEnabled"]:
            kms.disable_key(KeyId=key_id)
        return key_id, _key_outputs(kms, key_id, inputs)
    except ClientError:
        # The driver records only what was created whole; a key cannot be deleted at once, only scheduled.
        with contextlib.suppress(ClientError):
            delete_key(account, key_id, inputs)
        raise


def _key_outputs(kms: Any, key_id: str, inputs: Inputs) -> Outputs:
    """What the provider reads back (DescribeKey, GetKeyPolicy): the policy as the program gave it when KMS holds
    that document, else the one KMS holds (AWS's default key policy when none was given)."""
    metadata = kms.describe_key(KeyId=key_id)["KeyMetadata"]
    applied = kms.get_key_policy(KeyId=key_id, PolicyName=KEY_POLICY_NAME)["Policy"]
    given = _given(inputs)
    policy = inputs.get("policy")
    return {
        **inputs,
        "arn": metadata["Arn"],
        "keyId": metadata["KeyId"],
        "keyUsage": metadata["KeyUsage"],
        "customerMasterKeySpec": metadata.get("KeySpec") or metadata.get("CustomerMasterKeySpec"),
        "description": metadata.get("Description", ""),
        "isEnabled": metadata["Enabled"],
        "multiRegion": bool(metadata.get("MultiRegion")),
        "policy": policy if policy and _same_document(policy, applied) else applied,
        "enableKeyRotation": bool(given["enableKeyRotation"]),
        "bypassPolicyLockoutSafetyCheck": bool(given["bypassPolicyLockoutSafetyCheck"]),
        # Set even when not given: an update's outputs replace the stored ones (the window a delete uses).
        "deletionWindowInDays": inputs.get("deletionWindowInDays"),
        "tags": inputs.get("tags"),
        "tagsAll": dict(inputs.get("tags") or {}),
    }


def update_key(account: Account, key_id: str, old: Inputs, new: Inputs) -> Outputs:
    kms = account.client("kms")
    was, now = _given(old), _given(new)
    if now["isEnabled"] and not was["isEnabled"]:
        kms.enable_key(KeyId=key_id)  # first: a disabled key takes no other change
    if bool(now["enableKeyRotation"]) != bool(was["enableKeyRotation"]):
        if now["enableKeyRotation"]:
            kms.enable_key_rotation(KeyId=key_id)
        else:
            kms.disable_key_rotation(KeyId=key_id)
    if new.get("description") and new["description"] != old.get("description"):
        kms.update_key_description(KeyId=key_id, Description=new["description"])
    if new.get("policy") and not (old.get("policy") and _same_document(new["policy"], old["policy"])):
        kms.put_key_policy(KeyId=key_id, PolicyName=KEY_POLICY_NAME, Policy=_document(new["policy"]),
                           BypassPolicyLockoutSafetyCheck=bool(now["bypassPolicyLockoutSafetyCheck"]))
    before, after = dict(old.get("tags") or {}), dict(new.get("tags") or {})
    removed = sorted(set(before) - set(after))
    if removed:
        kms.untag_resource(KeyId=key_id, TagKeys=removed)
    changed = {k: v for k, v in after.items() if before.get(k) != v}
    if changed:
        kms.tag_resource(KeyId=key_id, Tags=_key_tags(changed))
    if was["isEnabled"] and not now["isEnabled"]:
        kms.disable_key(KeyId=key_id)  # last, for the same reason
    return _key_outputs(kms, key_id, new)


def _gone(error: ClientError) -> bool:
    """A key that does not exist, or is already pending deletion, is deleted (the provider's resourceKeyDelete)."""
    found = error.response.get("Error", {})
    return found.get("Code") == "NotFoundException" or (
        found.get("Code") == "KMSInvalidStateException" and "pending deletion" in found.get("Message", "").lower())


def delete_key(account: Account, key_id: str, inputs: Inputs) -> None:
    args: dict[str, Any] = {"KeyId": key_id}
    if inputs.get("deletionWindowInDays") is not None:
        args["PendingWindowInDays"] = int(inputs["deletionWindowInDays"])
    try:
        account.client("kms").schedule_key_deletion(**args)
    except ClientError as error:
        if not _gone(error):
            raise


@cache
def _enum(shape: str) -> frozenset[str]:
    """The values the KMS API accepts for an enum shape (botocore's model of the API)."""
    with LOADER_LOCK:
        return frozenset(botocore.session.get_session().get_service_model("kms").shape_for(shape).enum)


def check_key(inputs: Inputs) -> list[str]:
    """The provider's validation of a key's inputs (key.go's schema); values not known yet (a preview) pass."""
    problems = []
    policy = inputs.get("policy")
    if isinstance(policy, str) and not isinstance(_json_object(policy), dict):
        problems.append("policy is not a JSON policy document (an object)")
    window = inputs.get("deletionWindowInDays")
    if isinstance(window, (int, float)) and not isinstance(window, bool) and window not in DELETION_WINDOW_DAYS:
        problems.append(f"deletion_window_in_days is {window:g}: it must be between 7 and 30 days (KMS's "
                        "PendingWindowInDays)")
    for name, arg, shape in (("keyUsage", "key_usage", "KeyUsageType"),
                             ("customerMasterKeySpec", "customer_master_key_spec", "KeySpec")):
        value = inputs.get(name)
        if isinstance(value, str) and value not in _enum(shape):
            problems.append(f"{arg} {value!r} is not one of KMS's {', '.join(sorted(_enum(shape)))}")
    return problems


KEY = ResourceType(
    create_key, delete_key,
    frozenset({"description", "keyUsage", "customerMasterKeySpec", "policy", "bypassPolicyLockoutSafetyCheck",
               "deletionWindowInDays", "isEnabled", "enableKeyRotation", "multiRegion", "tags"}),
    update_key, replace_on=("keyUsage", "customerMasterKeySpec", "multiRegion"), defaults=KEY_DEFAULTS,
    check=check_key)


# --- Alias --------------------------------------------------------------------------------------------------

_unique_ids = itertools.count(1)
_unique_lock = threading.Lock()


def prefixed_unique_id(prefix: str) -> str:
    """Terraform's id.PrefixedUniqueId, which the provider names a name_prefix alias with: the prefix, the UTC time
    to a ten-thousandth of a second, and a counter of 8 hex digits."""
    now = datetime.now(UTC)
    with _unique_lock:
        count = next(_unique_ids)
    return f"{prefix}{now:%Y%m%d%H%M%S}{now.microsecond // 100:04d}{count:08x}"


def alias_name(logical: str, inputs: Inputs, *, suffix: str | None = None) -> str:
    """An alias's name: its name; else its name_prefix and a unique suffix; else Pulumi's auto-name, the logical
    name after "alias/" (unless it begins with it) and a suffix (``suffix`` fixes it, as synth does)."""
    if inputs.get("name"):
        return inputs["name"]
    if inputs.get("namePrefix"):
        return inputs["namePrefix"] + (suffix or prefixed_unique_id(""))
    return physical_name(logical if logical.startswith(ALIAS_PREFIX) else ALIAS_PREFIX + logical, {}, suffix=suffix)


def _key_id(target: str) -> str:
    """The key ID of a key ID or key ARN (what CreateAlias's TargetKeyId takes)."""
    return target.rsplit(":key/", 1)[-1]


def _alias_outputs(account: Account, name: str, inputs: Inputs) -> Outputs:
    """As the provider reads an alias back: its ARN, the target as a key ID, and the target key's ARN."""
    target = _key_id(inputs["targetKeyId"])
    return {**inputs, "name": name, "namePrefix": inputs.get("namePrefix"),
            "arn": arns.kms_alias(account.region, account.account_id, name),
            "targetKeyId": target, "targetKeyArn": arns.kms_key(account.region, account.account_id, target)}


def create_alias(account: Account, logical: str, inputs: Inputs) -> tuple[str, Outputs]:
    name = alias_name(logical, inputs)
    account.client("kms").create_alias(AliasName=name, TargetKeyId=inputs["targetKeyId"])
    return name, _alias_outputs(account, name, inputs)


def update_alias(account: Account, name: str, old: Inputs, new: Inputs) -> Outputs:
    # The provider suppresses a change from a key's ID to its ARN (or back): the same key.
    if _key_id(new["targetKeyId"]) != _key_id(old["targetKeyId"]):
        account.client("kms").update_alias(AliasName=name, TargetKeyId=new["targetKeyId"])
    return _alias_outputs(account, name, new)


def delete_alias(account: Account, name: str, inputs: Inputs) -> None:
    try:
        account.client("kms").delete_alias(AliasName=name)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "NotFoundException":
            raise


def check_alias(inputs: Inputs) -> list[str]:
    """The provider's validation of name and name_prefix (alias.go: ConflictsWith, validNameForResource)."""
    problems = []
    if inputs.get("name") is not None and inputs.get("namePrefix") is not None:
        problems.append("name and name_prefix conflict: give one")
    for key, arg in (("name", "name"), ("namePrefix", "name_prefix")):
        value = inputs.get(key)
        if not isinstance(value, str):
            continue
        if value.startswith(RESERVED_ALIAS_PREFIX):
            problems.append(f"{arg} {value!r} begins with {RESERVED_ALIAS_PREFIX!r}, which AWS reserves for AWS "
                            "managed keys")
        elif not _ALIAS_NAME.fullmatch(value):
            problems.append(f"{arg} {value!r} must begin with 'alias/' and be made of only [0-9A-Za-z_/-]")
    return problems


ALIAS = ResourceType(create_alias, delete_alias, frozenset({"name", "namePrefix", "targetKeyId"}), update_alias,
                     replace_on=("name", "namePrefix"), check=check_alias)

KMS_RESOURCE_TYPES: dict[str, ResourceType] = {KEY_TYPE: KEY, ALIAS_TYPE: ALIAS}
