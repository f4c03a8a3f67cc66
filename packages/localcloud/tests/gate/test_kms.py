"""KMS through the gate: key policies enforced as AWS enforces them, every form of KeyId resolved to the one key
moto acts on, the key policy checks of CreateKey and PutKeyPolicy, key states, and what is not emulated.

Pages: KMS Developer Guide key-policies.html, key-policy-default.html, key-policy-modifying-external-accounts.html,
key-state.html, conditions-kms.html; KMS API Reference API_<Operation>.html (KeyId forms, "Cross-account use",
"Required permissions"), as botocore's kms model carries them. Accounts: prod owns the keys, dev calls across.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

import pytest
from botocore.exceptions import ClientError

from localcloud.server import LocalCloud
from localcloud_testing.builders import DEV, PROD, REGION, Builder, allow, policy, unique
from localcloud_testing.kms import DEFAULT_STATEMENT, DEV_ROOT, PROD_ROOT



pytestmark = pytest.mark.usefixtures("no_reading_mismatch")


def key_statement(principal: Any, actions: str | list[str] = "kms:*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Principal": principal, "Action": actions, "Resource": "*", **extra}


def error_of(raised: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    error = raised.value.response["Error"]
    return str(error["Code"]), str(error.get("Message", ""))


def kms_of(cloud: LocalCloud, credentials: Mapping[str, str] | None = None, account: str = "prod") -> Any:
    return cloud.client("kms", account, credentials=credentials)


def user_arn(account: str, name: str) -> str:
    return f"arn:aws:iam::{account}:user/{name}"


def last(cloud: LocalCloud, action: str) -> Any:
    assert cloud.gate is not None
    return cloud.gate.decisions_for(action)[-1]


# --- The key policy must allow (key-policies.html, key-policy-default.html) ---------------------------------------


def test_the_default_key_policy_delegates_to_iam(cloud: LocalCloud, build: Builder) -> None:
    """key-policy-default.html: CreateKey without a Policy attaches the default key policy (the account, kms:*),
    which "enables IAM policies": a user whose identity policy allows kms:Encrypt may, one without may not."""
    key = build.key("prod")
    assert json.loads(kms_of(cloud).get_key_policy(KeyId=key)["Policy"])["Statement"] == [DEFAULT_STATEMENT]
    _, allowed = build.user("prod", [allow("kms:Encrypt", key)])
    name, denied = build.user("prod", [allow("s3:*", "*")])
    kms_of(cloud, allowed).encrypt(KeyId=key, Plaintext=b"secret")
    with pytest.raises(ClientError) as raised:
        kms_of(cloud, denied).encrypt(KeyId=key, Plaintext=b"secret")
    assert error_of(raised) == ("AccessDeniedException", f"User: {user_arn(PROD, name)} is not authorized to perform: "
                                f"kms:Encrypt on resource: {key} because no identity-based policy allows the "
                                "kms:Encrypt action")


def test_a_key_policy_naming_the_user_needs_no_identity_policy(cloud: LocalCloud, build: Builder) -> None:
    """key-policies.html (key users): a key policy statement naming the principal allows it in the key's account."""
    name, credentials = build.user("prod")
    key = build.key("prod", [DEFAULT_STATEMENT, key_statement({"AWS": user_arn(PROD, name)}, ["kms:Encrypt"])])
    assert kms_of(cloud, credentials).encrypt(KeyId=key, Plaintext=b"x")["KeyId"] == key


def test_a_key_policy_without_the_account_denies_its_administrators(cloud: LocalCloud, build: Builder) -> None:
    """key-policies.html: "Unless the key policy explicitly allows it, you cannot use IAM policies to allow access
    to a KMS key": the deployer (Allow * on *) cannot even describe a key whose policy names only a role."""
    role = build.role("prod", [{"Effect": "Allow", "Principal": {"AWS": PROD_ROOT}, "Action": "sts:AssumeRole"}])
    key = build.key("prod", [key_statement({"AWS": role})])
    with pytest.raises(ClientError) as raised:
        kms_of(cloud).describe_key(KeyId=key)
    code, message = error_of(raised)
    assert code == "AccessDeniedException"
    assert message.endswith(f"on resource: {key} because no resource-based policy allows the kms:DescribeKey action")


def test_an_explicit_deny_in_the_key_policy_wins(cloud: LocalCloud, build: Builder) -> None:
    """key-policies.html: permissions must be "explicitly allowed, and never denied"."""
    key = build.key("prod", [DEFAULT_STATEMENT, {"Effect": "Deny", "Principal": "*", "Action": "kms:Encrypt",
                                                 "Resource": "*"}])
    with pytest.raises(ClientError) as raised:
        kms_of(cloud).encrypt(KeyId=key, Plaintext=b"x")
    assert error_of(raised)[1].endswith("with an explicit deny in a resource-based policy")


# --- Another account: key policy and identity policy (key-policy-modifying-external-accounts.html) -------------


def test_another_account_needs_the_key_policy_and_its_identity_policy(cloud: LocalCloud, build: Builder) -> None:
    """key-policy-modifying-external-accounts.html: the key policy must allow the other account, and that account's
    IAM policy must allow its user; the key ARN names the key (API_Encrypt.html, KeyId)."""
    key = build.key("prod", [DEFAULT_STATEMENT, key_statement({"AWS": DEV_ROOT}, ["kms:Encrypt", "kms:Decrypt"])])
    _, allowed = build.user("dev", [allow(["kms:Encrypt", "kms:Decrypt"], key)])
    name, without = build.user("dev", [allow("s3:*", "*")])
    blob = kms_of(cloud, allowed, "dev").encrypt(KeyId=key, Plaintext=b"x")["CiphertextBlob"]
    assert kms_of(cloud, allowed, "dev").decrypt(CiphertextBlob=blob)["Plaintext"] == b"x"
    with pytest.raises(ClientError) as raised:
        kms_of(cloud, without, "dev").encrypt(KeyId=key, Plaintext=b"x")
    assert error_of(raised)[1] == (f"User: {user_arn(DEV, name)} is not authorized to perform: kms:Encrypt on "
                                   f"resource: {key} because no identity-based policy allows the kms:Encrypt action")


def test_another_account_left_out_of_the_key_policy_is_told_nothing_of_the_key(cloud: LocalCloud,
                                                                                build: Builder) -> None:
    """key-policy-modifying-external-accounts.html: without the key policy no IAM policy of another account helps;
    KMS then names no key ("on this resource because the resource does not exist in this Region, ...", its
    answer as callers report it)."""
    key = build.key("prod")
    name, credentials = build.user("dev", [allow("kms:*", "*")])
    with pytest.raises(ClientError) as raised:
        kms_of(cloud, credentials, "dev").encrypt(KeyId=key, Plaintext=b"x")
    assert error_of(raised)[1] == (
        f"User: {user_arn(DEV, name)} is not authorized to perform: kms:Encrypt on this resource because the "
        "resource does not exist in this Region, no resource-based policies allow access, or a resource-based "
        "policy explicitly denies access")


def test_management_operations_take_no_key_of_another_account(cloud: LocalCloud, build: Builder) -> None:
    """API_PutKeyPolicy.html, API_EnableKeyRotation.html: "Cross-account use: No" (GetKeyRotationStatus: Yes)."""
    key = build.key("prod", [DEFAULT_STATEMENT, key_statement({"AWS": DEV_ROOT})])
    dev = kms_of(cloud, account="dev")
    with pytest.raises(ClientError) as raised:
        dev.enable_key_rotation(KeyId=key)
    assert error_of(raised)[0] == "NotFoundException" and "Cross-account use: No" in error_of(raised)[1]
    assert dev.get_key_rotation_status(KeyId=key)["KeyRotationEnabled"] is False


# --- KeyId in every form, resolved to one key ARN (API_DescribeKey.html, KeyId) ------------------------------------


def test_key_id_alias_name_and_alias_arn_resolve_to_the_key_arn(cloud: LocalCloud, build: Builder) -> None:
    """API_Encrypt.html, KeyId: "key ID, key ARN, alias name, or alias ARN"; each is authorized on the key's ARN
    (kms:RequestAlias the alias used, conditions-kms.html)."""
    alias = unique("data")
    key = build.key("prod", alias=alias)
    kms = kms_of(cloud)
    for name in (key.rsplit("/", 1)[1], key, f"alias/{alias}", f"arn:aws:kms:{REGION}:{PROD}:alias/{alias}"):
        assert kms.encrypt(KeyId=name, Plaintext=b"x")["KeyId"] == key
        assert last(cloud, "kms:Encrypt").resource == key
    assert last(cloud, "kms:Encrypt").context["kms:RequestAlias"] == f"alias/{alias}"


def test_an_alias_name_never_names_another_accounts_key(cloud: LocalCloud, build: Builder) -> None:
    """API_Encrypt.html, KeyId: "To specify a KMS key in a different AWS account, you must use the key ARN or alias
    ARN": an alias name is looked up in the caller's own account; the alias ARN reaches prod's key."""
    alias = unique("shared")
    key = build.key("prod", [DEFAULT_STATEMENT, key_statement({"AWS": DEV_ROOT}, "kms:Encrypt")], alias=alias)
    dev = kms_of(cloud, account="dev")
    with pytest.raises(ClientError) as raised:
        dev.encrypt(KeyId=f"alias/{alias}", Plaintext=b"x")
    assert error_of(raised) == ("NotFoundException", f"Alias arn:aws:kms:{REGION}:{DEV}:alias/{alias} is not found.")
    assert dev.encrypt(KeyId=f"arn:aws:kms:{REGION}:{PROD}:alias/{alias}", Plaintext=b"x")["KeyId"] == key


def test_a_key_of_another_region_is_not_found(cloud: LocalCloud, build: Builder) -> None:
    """key-policies.html: "key policies are Regional"; KMS answers a key ARN of another Region with
    NotFoundException "Invalid arn REGION"."""
    key = build.key("prod").replace(REGION, "us-east-1")
    with pytest.raises(ClientError) as raised:
        kms_of(cloud).describe_key(KeyId=key)
    assert error_of(raised) == ("NotFoundException", "Invalid arn us-east-1")


def test_decrypt_without_key_id_uses_the_key_of_the_ciphertext(cloud: LocalCloud, build: Builder) -> None:
    """API_Decrypt.html: KMS "can get the KMS key from metadata that it adds to the symmetric ciphertext blob";
    a KeyId naming another key is IncorrectKeyException."""
    key, other = build.key("prod"), build.key("prod")
    kms = kms_of(cloud)
    blob = kms.encrypt(KeyId=key, Plaintext=b"x", EncryptionContext={"purpose": "test"})["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=blob, EncryptionContext={"purpose": "test"})["KeyId"] == key
    decision = last(cloud, "kms:Decrypt")
    assert decision.resource == key and decision.context["kms:EncryptionContext:purpose"] == "test"
    with pytest.raises(ClientError) as raised:
        kms.decrypt(CiphertextBlob=blob, KeyId=other, EncryptionContext={"purpose": "test"})
    assert error_of(raised)[0] == "IncorrectKeyException"


def test_decrypt_denied_by_the_key_policy_names_no_key(cloud: LocalCloud, build: Builder) -> None:
    """A Decrypt the key policy refuses is answered "on the resource associated with this ciphertext" (KMS's
    wording as callers report it; key-policies.html for the rule)."""
    name, credentials = build.user("prod", [allow("kms:*", "*")])
    key = build.key("prod", [DEFAULT_STATEMENT, {"Effect": "Deny", "Principal": {"AWS": user_arn(PROD, name)},
                                                 "Action": "kms:Decrypt", "Resource": "*"}])
    blob = kms_of(cloud).encrypt(KeyId=key, Plaintext=b"x")["CiphertextBlob"]
    with pytest.raises(ClientError) as raised:
        kms_of(cloud, credentials).decrypt(CiphertextBlob=blob)
    assert "kms:Decrypt on the resource associated with this ciphertext because" in error_of(raised)[1]


def test_reencrypt_needs_both_keys(cloud: LocalCloud, build: Builder) -> None:
    """API_ReEncrypt.html: kms:ReEncryptFrom on the source key and kms:ReEncryptTo on the destination key."""
    source, destination = build.key("prod"), build.key("prod")
    _, credentials = build.user("prod", [allow(["kms:ReEncryptFrom", "kms:Encrypt"], "*")])
    blob = kms_of(cloud).encrypt(KeyId=source, Plaintext=b"x")["CiphertextBlob"]
    with pytest.raises(ClientError) as raised:
        kms_of(cloud, credentials).re_encrypt(CiphertextBlob=blob, DestinationKeyId=destination)
    assert "kms:ReEncryptTo on resource: " + destination in error_of(raised)[1]
    answer = kms_of(cloud).re_encrypt(CiphertextBlob=blob, DestinationKeyId=destination)
    assert (answer["SourceKeyId"], answer["KeyId"]) == (source, destination)


# --- CreateKey and PutKeyPolicy check the policy (API_CreateKey.html, API_PutKeyPolicy.html, Policy) --------------


def test_the_lockout_safety_check(cloud: LocalCloud, build: Builder) -> None:
    """API_PutKeyPolicy.html, Policy: "The key policy must allow the calling principal to make a subsequent
    PutKeyPolicy request on the KMS key" unless BypassPolicyLockoutSafetyCheck."""
    key = build.key("prod")
    kms = kms_of(cloud)
    lockout = policy(key_statement({"AWS": DEV_ROOT}))
    with pytest.raises(ClientError) as raised:
        kms.put_key_policy(KeyId=key, PolicyName="default", Policy=lockout)
    assert error_of(raised) == ("MalformedPolicyDocumentException",
                                "The new key policy will not allow you to update the key policy in the future.")
    with pytest.raises(ClientError):
        kms.create_key(Policy=lockout)
    kms.put_key_policy(KeyId=key, PolicyName="default", Policy=lockout, BypassPolicyLockoutSafetyCheck=True)
    with pytest.raises(ClientError) as raised:  # the deployer is locked out now, as the check warned
        kms.get_key_policy(KeyId=key, PolicyName="default")
    assert error_of(raised)[0] == "AccessDeniedException"


def test_the_lockout_check_counts_the_callers_identity_policy(cloud: LocalCloud, build: Builder) -> None:
    """key-policy-default.html: a policy naming the account delegates to IAM, so the check passes for a caller whose
    identity policy allows kms:PutKeyPolicy and fails for one whose identity policy does not."""
    _, admin = build.user("prod", [allow(["kms:CreateKey", "kms:PutKeyPolicy"], "*")])
    _, creator = build.user("prod", [allow("kms:CreateKey", "*")])
    delegating = policy(DEFAULT_STATEMENT)
    kms_of(cloud, admin).create_key(Policy=delegating)
    with pytest.raises(ClientError) as raised:
        kms_of(cloud, creator).create_key(Policy=delegating)
    assert error_of(raised)[0] == "MalformedPolicyDocumentException"


def test_principals_must_exist(cloud: LocalCloud, build: Builder) -> None:
    """API_CreateKey.html, Policy: "The principals in the key policy must exist and be visible to KMS": a role of one
    of the cloud's accounts that does not exist is refused; accounts and a role that exists are taken."""
    role = build.role("prod", [{"Effect": "Allow", "Principal": {"AWS": PROD_ROOT}, "Action": "sts:AssumeRole"}])
    kms = kms_of(cloud)
    with pytest.raises(ClientError) as raised:
        kms.create_key(Policy=policy(DEFAULT_STATEMENT, key_statement(
            {"AWS": f"arn:aws:iam::{PROD}:role/{unique('missing')}"})))
    assert error_of(raised) == ("MalformedPolicyDocumentException",
                                "Policy contains a statement with one or more invalid principals.")
    kms.create_key(Policy=policy(DEFAULT_STATEMENT, key_statement({"AWS": [role, DEV, "arn:aws:iam::444455556666:root"]})))


# --- Key states (key-state.html) ----------------------------------------------------------------------------------


def test_a_disabled_key_and_a_key_pending_deletion(cloud: LocalCloud, build: Builder) -> None:
    """key-state.html: Encrypt on a disabled key is "DisabledException: <key ARN> is disabled.", on a key pending
    deletion "KMSInvalidStateException: <key ARN> is pending deletion."; CancelKeyDeletion needs a key pending
    deletion; ScheduleKeyDeletion answers the key ARN (API_ScheduleKeyDeletion.html)."""
    key = build.key("prod")
    kms = kms_of(cloud)
    with pytest.raises(ClientError) as raised:
        kms.cancel_key_deletion(KeyId=key)
    assert error_of(raised) == ("KMSInvalidStateException", f"{key} is not pending deletion.")
    kms.disable_key(KeyId=key)
    with pytest.raises(ClientError) as raised:
        kms.encrypt(KeyId=key, Plaintext=b"x")
    assert error_of(raised) == ("DisabledException", f"{key} is disabled.")
    kms.describe_key(KeyId=key)  # DescribeKey works in every state
    scheduled = kms.schedule_key_deletion(KeyId=key.rsplit("/", 1)[1], PendingWindowInDays=7)
    assert (scheduled["KeyId"], scheduled["KeyState"], scheduled["PendingWindowInDays"]) == \
        (key, "PendingDeletion", 7)
    with pytest.raises(ClientError) as raised:
        kms.encrypt(KeyId=key, Plaintext=b"x")
    assert error_of(raised) == ("KMSInvalidStateException", f"{key} is pending deletion.")
    assert kms.cancel_key_deletion(KeyId=key)["KeyId"] == key
    assert kms.describe_key(KeyId=key)["KeyMetadata"]["KeyState"] == "Disabled"


def test_the_waiting_period_is_seven_to_thirty_days(cloud: LocalCloud, build: Builder) -> None:
    """API_ScheduleKeyDeletion.html, PendingWindowInDays: "it must be between 7 and 30, inclusive"."""
    with pytest.raises(ClientError) as raised:
        kms_of(cloud).schedule_key_deletion(KeyId=build.key("prod"), PendingWindowInDays=3)
    assert error_of(raised)[0] == "ValidationException"


# --- Aliases (API_CreateAlias.html, API_ListAliases.html) and the AWS managed key --------------------------------


def test_create_alias_needs_the_alias_and_the_key(cloud: LocalCloud, build: Builder) -> None:
    """API_CreateAlias.html: "kms:CreateAlias on the alias (IAM policy). kms:CreateAlias on the KMS key (key
    policy)"."""
    key = build.key("prod")
    alias = unique("alias")
    _, key_only = build.user("prod", [allow("kms:CreateAlias", key)])
    with pytest.raises(ClientError) as raised:
        kms_of(cloud, key_only).create_alias(AliasName=f"alias/{alias}", TargetKeyId=key)
    assert f"kms:CreateAlias on resource: arn:aws:kms:{REGION}:{PROD}:alias/{alias}" in error_of(raised)[1]
    _, both = build.user("prod", [allow("kms:CreateAlias", [key, f"arn:aws:kms:{REGION}:{PROD}:alias/*"])])
    kms_of(cloud, both).create_alias(AliasName=f"alias/{alias}", TargetKeyId=key)
    assert kms_of(cloud).describe_key(KeyId=f"alias/{alias}")["KeyMetadata"]["Arn"] == key


def test_the_aws_managed_key_for_s3_is_created_on_first_use(cloud: LocalCloud) -> None:
    """API_DescribeKey.html, KeyId: for a predefined AWS alias "KMS associates the alias with an AWS managed key";
    its KeyManager is AWS and its key policy lets the account's principals use it through S3 only."""
    kms = kms_of(cloud, account="dev")
    metadata = kms.describe_key(KeyId="alias/aws/s3")["KeyMetadata"]
    assert metadata["KeyManager"] == "AWS"
    document = json.loads(kms.get_key_policy(KeyId=metadata["Arn"])["Policy"])
    assert document["Statement"][0]["Condition"]["StringEquals"] == {
        "kms:CallerAccount": DEV, "kms:ViaService": f"s3.{REGION}.amazonaws.com"}
    with pytest.raises(ClientError):  # the deployer may read its metadata, but not use it directly
        kms.encrypt(KeyId="alias/aws/s3", Plaintext=b"x")


def test_predefined_aliases_without_a_key_have_no_target(cloud: LocalCloud) -> None:
    """API_ListAliases.html: "aliases that have no TargetKeyId field. These are predefined aliases that AWS has
    created but has not yet associated with a KMS key."""
    aliases = {a["AliasName"]: a for a in kms_of(cloud).list_aliases()["Aliases"]}
    assert "TargetKeyId" not in aliases["alias/aws/lambda"]


# --- Condition keys (conditions-kms.html) -------------------------------------------------------------------------


def test_a_direct_call_carries_caller_account_and_context_but_no_via_service(cloud: LocalCloud,
                                                                            build: Builder) -> None:
    """conditions-kms.html: kms:CallerAccount, kms:EncryptionContext:KEY and kms:EncryptionContextKeys from the
    request; kms:ViaService only when a service calls; aws:ViaAWSService false (reference_policies_condition-keys
    .html)."""
    key = build.key("prod")
    kms_of(cloud, account="prod").encrypt(KeyId=key, Plaintext=b"x", EncryptionContext={"Team": "data"})
    context = last(cloud, "kms:Encrypt").context
    assert context["kms:CallerAccount"] == PROD and context["kms:EncryptionContext:Team"] == "data"
    assert context["kms:EncryptionContextKeys"] == ["Team"] and context["aws:ViaAWSService"] == "false"
    assert "kms:ViaService" not in context


def test_a_key_policy_can_require_an_encryption_context(cloud: LocalCloud, build: Builder) -> None:
    """conditions-kms.html, kms:EncryptionContext:context-key."""
    name, credentials = build.user("prod")
    key = build.key("prod", [DEFAULT_STATEMENT, key_statement(
        {"AWS": user_arn(PROD, name)}, "kms:Encrypt", Condition={"StringEquals": {"kms:EncryptionContext:Team": "data"}})])
    kms = kms_of(cloud, credentials)
    kms.encrypt(KeyId=key, Plaintext=b"x", EncryptionContext={"Team": "data"})
    with pytest.raises(ClientError):
        kms.encrypt(KeyId=key, Plaintext=b"x", EncryptionContext={"Team": "web"})


# --- Refused by name ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("call", "code"), [
    (lambda kms, key: kms.create_grant(KeyId=key, GranteePrincipal=PROD_ROOT, Operations=["Decrypt"]),
     "NotImplemented"),
    (lambda kms, key: kms.create_key(KeySpec="RSA_2048", KeyUsage="ENCRYPT_DECRYPT"), "UnsupportedOperationException"),
    (lambda kms, key: kms.create_key(MultiRegion=True), "UnsupportedOperationException"),
    (lambda kms, key: kms.encrypt(KeyId=key, Plaintext=b"x", GrantTokens=["t"]), "UnsupportedOperationException"),
    (lambda kms, key: kms.list_keys(Limit=1), "UnsupportedOperationException"),
    (lambda kms, key: kms.describe_key(KeyId="alias/aws/lambda"), "UnsupportedOperationException"),
])
def test_what_is_not_emulated_is_refused_by_name(cloud: LocalCloud, build: Builder, call: Any, code: str) -> None:
    """Refuse, never drop: grants, other key specs, multi-Region keys, paging and AWS managed keys other than aws/s3
    are not emulated, and fail by name before moto could answer them its own way."""
    with pytest.raises(ClientError) as raised:
        call(kms_of(cloud), build.key("prod"))
    assert error_of(raised)[0] == code and "localcloud does not emulate" in error_of(raised)[1]


def test_an_unknown_ciphertext_is_invalid(cloud: LocalCloud) -> None:
    """API_Decrypt.html: InvalidCiphertextException for a ciphertext that is not one."""
    with pytest.raises(ClientError) as raised:
        kms_of(cloud).decrypt(CiphertextBlob=base64.b64decode("AAAA"))
    assert error_of(raised)[0] == "InvalidCiphertextException"
