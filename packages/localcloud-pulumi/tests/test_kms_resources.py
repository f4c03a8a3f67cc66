"""aws.kms.Key and aws.kms.Alias (localcloud_pulumi.kms_resources): first each mapping's calls against the KMS API
as botocore models it (a Stubber checks every call's name and parameters, no cloud), then deployed into localcloud
by small programs of the tests' own and by tests/programs/encrypted: created, updated in place, replaced, deleted
by scheduling the key's deletion, an alias following its key, refused inputs named, a bucket encrypted with the
key."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from harness_testing.projects import DEV, PROD, REGION, TRUST_LAMBDA, roles, write_project
from localcloud_pulumi.deploy import REPLACE, UPDATE, Created, DeployError, _step, deploy, destroy
from localcloud_pulumi.kms_resources import (
    ALIAS,
    ALIAS_TYPE,
    KEY,
    KEY_TYPE,
    alias_name,
    update_alias,
    update_key,
)
from localcloud_pulumi.mapping import Account
from localcloud_pulumi.resources import RESOURCE_TYPES
from localcloud_pulumi.workspace import Workspace

PROGRAMS = Path(__file__).resolve().parent / "programs"
KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"
KEY_ARN = f"arn:aws:kms:{REGION}:{PROD}:key/{KEY_ID}"


def _policy(*principals: str) -> str:
    """A key policy: the account (so IAM policies may grant the key) and, if given, who may also decrypt."""
    statements: list[dict[str, Any]] = [{"Sid": "Account", "Effect": "Allow",
                                         "Principal": {"AWS": f"arn:aws:iam::{PROD}:root"},
                                         "Action": "kms:*", "Resource": "*"}]
    if principals:
        statements.append({"Sid": "Decrypt", "Effect": "Allow", "Principal": {"AWS": list(principals)},
                           "Action": "kms:Decrypt", "Resource": "*"})
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def _sent(policy: str) -> str:
    """A policy as the provider sends it: compact, keys sorted."""
    return json.dumps(json.loads(policy), separators=(",", ":"), sort_keys=True)


# --- each mapping's calls, checked against botocore's model of the KMS API -------------------------------------

@pytest.fixture
def kms() -> Iterator[tuple[Account, Stubber]]:
    client = boto3.Session(aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret",
                           region_name=REGION).client("kms")
    with Stubber(client) as stubber:
        yield Account(None, PROD, REGION, {}, _clients={"kms": client}), stubber
        stubber.assert_no_pending_responses()


def _read_back(stubber: Stubber, policy: str, *, enabled: bool = True, description: str = "",
               usage: str = "ENCRYPT_DECRYPT", spec: str = "SYMMETRIC_DEFAULT") -> None:
    """What the mapping reads after a change, as the provider does: DescribeKey and GetKeyPolicy."""
    stubber.add_response("describe_key", {"KeyMetadata": {
        "KeyId": KEY_ID, "Arn": KEY_ARN, "KeyUsage": usage, "KeySpec": spec, "Description": description,
        "Enabled": enabled, "MultiRegion": False}}, {"KeyId": KEY_ID})
    stubber.add_response("get_key_policy", {"Policy": policy}, {"KeyId": KEY_ID, "PolicyName": "default"})


def test_a_key_is_created_as_the_provider_creates_it(kms: tuple[Account, Stubber]) -> None:
    """key.go resourceKeyCreate: CreateKey with KeyUsage, KeySpec and BypassPolicyLockoutSafetyCheck always (their
    defaults), the description, the policy (normalized JSON), the tags; then EnableKeyRotation and DisableKey
    (API_CreateKey.html, API_EnableKeyRotation.html, API_DisableKey.html)."""
    account, stubber = kms
    policy = _policy()
    stubber.add_response("create_key", {"KeyMetadata": {"KeyId": KEY_ID}}, {
        "KeyUsage": "ENCRYPT_DECRYPT", "KeySpec": "SYMMETRIC_DEFAULT", "BypassPolicyLockoutSafetyCheck": False,
        "Description": "data", "Policy": _sent(policy),
        "Tags": [{"TagKey": "team", "TagValue": "a"}, {"TagKey": "tier", "TagValue": "1"}]})
    stubber.add_response("enable_key_rotation", {}, {"KeyId": KEY_ID})
    stubber.add_response("disable_key", {}, {"KeyId": KEY_ID})
    _read_back(stubber, _sent(policy), enabled=False, description="data")
    inputs = {"description": "data", "policy": policy, "enableKeyRotation": True, "isEnabled": False,
              "deletionWindowInDays": 7.0, "tags": {"tier": "1", "team": "a"}}
    id_, outputs = KEY.create(account, "key", inputs)
    assert id_ == KEY_ID
    assert outputs == {**inputs, "arn": KEY_ARN, "keyId": KEY_ID, "keyUsage": "ENCRYPT_DECRYPT",
                       "customerMasterKeySpec": "SYMMETRIC_DEFAULT", "description": "data", "isEnabled": False,
                       "multiRegion": False, "policy": policy, "enableKeyRotation": True,
                       "bypassPolicyLockoutSafetyCheck": False, "tagsAll": {"tier": "1", "team": "a"}}


def test_a_key_without_a_policy_reports_aws_s_default_key_policy(kms: tuple[Account, Stubber]) -> None:
    """With no Policy, AWS gives the key its default key policy (key-policy-default.html); the provider reports
    what GetKeyPolicy returns. An asymmetric multi-Region key sends its usage, spec and MultiRegion."""
    account, stubber = kms
    default = json.dumps({"Version": "2012-10-17", "Id": "key-default-1", "Statement": [{
        "Sid": "Enable IAM User Permissions", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{PROD}:root"},
        "Action": "kms:*", "Resource": "*"}]})
    stubber.add_response("create_key", {"KeyMetadata": {"KeyId": KEY_ID}}, {
        "KeyUsage": "SIGN_VERIFY", "KeySpec": "ECC_NIST_P256", "BypassPolicyLockoutSafetyCheck": False,
        "MultiRegion": True})
    _read_back(stubber, default, usage="SIGN_VERIFY", spec="ECC_NIST_P256")
    _, outputs = KEY.create(account, "key", {"keyUsage": "SIGN_VERIFY", "customerMasterKeySpec": "ECC_NIST_P256",
                                             "multiRegion": True})
    assert outputs["policy"] == default and outputs["description"] == "" and outputs["enableKeyRotation"] is False


def test_a_key_whose_rotation_cannot_be_enabled_is_scheduled_for_deletion_again(kms: tuple[Account, Stubber]) -> None:
    """The driver records only what was created whole, and a key cannot be deleted at once: the key just created
    is scheduled for deletion with its window, and the deploy fails with KMS's error."""
    account, stubber = kms
    stubber.add_response("create_key", {"KeyMetadata": {"KeyId": KEY_ID}})
    stubber.add_client_error("enable_key_rotation", "UnsupportedOperationException", "asymmetric key")
    stubber.add_response("schedule_key_deletion", {}, {"KeyId": KEY_ID, "PendingWindowInDays": 7})
    with pytest.raises(ClientError, match="UnsupportedOperationException"):
        KEY.create(account, "key", {"enableKeyRotation": True, "deletionWindowInDays": 7})


def test_a_key_is_updated_in_the_provider_s_order(kms: tuple[Account, Stubber]) -> None:
    """key.go resourceKeyUpdate: enable first (a disabled key takes no other change), rotation, description, policy
    (PutKeyPolicy with the lockout switch), tags (a removed key untagged, a new or changed one tagged)."""
    account, stubber = kms
    old = {"isEnabled": False, "description": "one", "policy": _policy(), "tags": {"team": "a", "old": "x"}}
    new = {"isEnabled": True, "enableKeyRotation": True, "description": "two",
           "policy": _policy(f"arn:aws:iam::{DEV}:root"), "bypassPolicyLockoutSafetyCheck": True,
           "tags": {"team": "a", "new": "y"}}
    stubber.add_response("enable_key", {}, {"KeyId": KEY_ID})
    stubber.add_response("enable_key_rotation", {}, {"KeyId": KEY_ID})
    stubber.add_response("update_key_description", {}, {"KeyId": KEY_ID, "Description": "two"})
    stubber.add_response("put_key_policy", {}, {"KeyId": KEY_ID, "PolicyName": "default",
                                                "Policy": _sent(new["policy"]), "BypassPolicyLockoutSafetyCheck": True})
    stubber.add_response("untag_resource", {}, {"KeyId": KEY_ID, "TagKeys": ["old"]})
    stubber.add_response("tag_resource", {}, {"KeyId": KEY_ID, "Tags": [{"TagKey": "new", "TagValue": "y"}]})
    _read_back(stubber, _sent(new["policy"]), description="two")
    outputs = update_key(account, KEY_ID, old, new)
    assert outputs["policy"] == new["policy"] and outputs["tagsAll"] == {"team": "a", "new": "y"}


def test_a_key_is_disabled_last_and_a_policy_or_description_left_out_stays(kms: tuple[Account, Stubber]) -> None:
    """Policy and description are optional and computed: left out of the program they stay as they are (no call),
    and the key reports the ones it has. Rotation turned off is DisableKeyRotation; disabling comes last."""
    account, stubber = kms
    kept = _sent(_policy())
    stubber.add_response("disable_key_rotation", {}, {"KeyId": KEY_ID})
    stubber.add_response("disable_key", {}, {"KeyId": KEY_ID})
    _read_back(stubber, kept, enabled=False, description="one")
    outputs = update_key(account, KEY_ID, {"description": "one", "policy": _policy(), "enableKeyRotation": True},
                         {"isEnabled": False})
    assert outputs["policy"] == kept and outputs["description"] == "one" and outputs["isEnabled"] is False


def test_deleting_a_key_schedules_its_deletion_with_the_window(kms: tuple[Account, Stubber]) -> None:
    """key.go resourceKeyDelete: ScheduleKeyDeletion, PendingWindowInDays only when deletion_window_in_days is set
    (AWS's default is 30, API_ScheduleKeyDeletion.html); a key not found or already pending deletion is deleted."""
    account, stubber = kms
    stubber.add_response("schedule_key_deletion", {}, {"KeyId": KEY_ID, "PendingWindowInDays": 7})
    stubber.add_response("schedule_key_deletion", {}, {"KeyId": KEY_ID})
    stubber.add_client_error("schedule_key_deletion", "NotFoundException", "gone")
    stubber.add_client_error("schedule_key_deletion", "KMSInvalidStateException", f"{KEY_ARN} is pending deletion.")
    stubber.add_client_error("schedule_key_deletion", "KMSInvalidStateException", f"{KEY_ARN} is unavailable.")
    KEY.delete(account, KEY_ID, {"deletionWindowInDays": 7.0})
    for _ in range(3):
        KEY.delete(account, KEY_ID, {})
    with pytest.raises(ClientError, match="unavailable"):
        KEY.delete(account, KEY_ID, {})


def test_an_alias_is_named_as_pulumi_and_the_provider_name_it(kms: tuple[Account, Stubber]) -> None:
    """name as given; else name_prefix and Terraform's unique suffix (26 characters); else Pulumi's auto-name of the
    logical name after "alias/" (pulumi-aws#1445). CreateAlias takes a key ID or ARN (API_CreateAlias.html); the
    provider reports the target as a key ID and the key's ARN."""
    account, stubber = kms
    stubber.add_response("create_alias", {}, {"AliasName": "alias/data", "TargetKeyId": KEY_ARN})
    id_, outputs = ALIAS.create(account, "alias", {"name": "alias/data", "targetKeyId": KEY_ARN})
    assert id_ == "alias/data"
    assert outputs == {"name": "alias/data", "namePrefix": None, "arn": f"arn:aws:kms:{REGION}:{PROD}:alias/data",
                       "targetKeyId": KEY_ID, "targetKeyArn": KEY_ARN}
    prefixed = alias_name("alias", {"namePrefix": "alias/data-"})
    assert prefixed.startswith("alias/data-") and len(prefixed) == len("alias/data-") + 26
    assert alias_name("data", {}, suffix="<generated>") == "alias/data-<generated>"
    assert alias_name("alias/data", {}, suffix="<generated>") == "alias/data-<generated>"


def test_an_alias_follows_a_new_key_in_place_and_is_deleted(kms: tuple[Account, Stubber]) -> None:
    """alias.go: a changed target_key_id is UpdateAlias (API_UpdateAlias.html), the same key given by its ARN instead
    of its ID is no change; DeleteAlias of an alias already gone is a successful delete."""
    account, stubber = kms
    other = "0987dcba-09fe-87dc-65ba-ab0987654321"
    stubber.add_response("update_alias", {}, {"AliasName": "alias/data", "TargetKeyId": other})
    stubber.add_response("delete_alias", {}, {"AliasName": "alias/data"})
    stubber.add_client_error("delete_alias", "NotFoundException", "gone")
    outputs = update_alias(account, "alias/data", {"targetKeyId": KEY_ID}, {"targetKeyId": other})
    assert outputs["targetKeyArn"] == f"arn:aws:kms:{REGION}:{PROD}:key/{other}"
    assert update_alias(account, "alias/data", {"targetKeyId": KEY_ID}, {"targetKeyId": KEY_ARN})[
        "targetKeyId"] == KEY_ID
    ALIAS.delete(account, "alias/data", {})
    ALIAS.delete(account, "alias/data", {})


def _created(typ: str, inputs: dict[str, Any]) -> Created:
    return Created(typ, "res", "id", inputs, {})


def test_what_replaces_a_key_or_an_alias_and_what_changes_in_place() -> None:
    """As the provider's schema: key_usage, customer_master_key_spec and multi_region are ForceNew, policy,
    description, rotation, tags and is_enabled update in place; an alias's name is ForceNew, its target updates in
    place. An input set to the provider's default is no change at all."""
    key = {"policy": _policy(), "description": "d"}
    assert _step(KEY, _created(KEY_TYPE, key), {**key, "keyUsage": "SIGN_VERIFY"}) == REPLACE
    assert _step(KEY, _created(KEY_TYPE, key), {**key, "customerMasterKeySpec": "RSA_2048"}) == REPLACE
    assert _step(KEY, _created(KEY_TYPE, key), {**key, "multiRegion": True}) == REPLACE
    for change in ({"policy": _policy(f"arn:aws:iam::{DEV}:root")}, {"description": "e"},
                   {"enableKeyRotation": True}, {"tags": {"a": "b"}}, {"isEnabled": False},
                   {"deletionWindowInDays": 7}):
        assert _step(KEY, _created(KEY_TYPE, key), {**key, **change}) == UPDATE, change
    defaults = {"keyUsage": "ENCRYPT_DECRYPT", "customerMasterKeySpec": "SYMMETRIC_DEFAULT", "isEnabled": True,
                "enableKeyRotation": False, "multiRegion": False, "bypassPolicyLockoutSafetyCheck": False}
    assert _step(KEY, _created(KEY_TYPE, key), {**key, **defaults}) == ""
    alias = {"name": "alias/a", "targetKeyId": KEY_ID}
    assert _step(ALIAS, _created(ALIAS_TYPE, alias), {**alias, "name": "alias/b"}) == REPLACE
    assert _step(ALIAS, _created(ALIAS_TYPE, alias), {**alias, "targetKeyId": "other"}) == UPDATE


def test_inputs_localcloud_cannot_honour_and_invalid_values_are_named() -> None:
    """Custom key stores (custom_key_store_id, xks_key_id) do not exist in localcloud and moto keeps no rotation
    period: refused by name. The provider's own validation (deletion window 7-30 days, KMS's key usages and specs,
    a policy that is JSON, alias names under "alias/" and not "alias/aws/", name or name_prefix) is checked too."""
    assert RESOURCE_TYPES[KEY_TYPE].unsupported({
        "customKeyStoreId": "cks-1234567890abcdef0", "xksKeyId": "x", "rotationPeriodInDays": 90.0,
        "region": "us-east-1", "description": "kept"}) == [
        "customKeyStoreId", "region", "rotationPeriodInDays", "xksKeyId"]
    policy, window, usage, spec = KEY.problems({"deletionWindowInDays": 5.0, "keyUsage": "DECRYPT_ONLY",
                                                "customerMasterKeySpec": "AES_256", "policy": "not json"})
    assert policy == "policy is not a JSON policy document (an object)"
    assert window == "deletion_window_in_days is 5: it must be between 7 and 30 days (KMS's PendingWindowInDays)"
    # The values KMS accepts, as botocore's model of the API lists them.
    assert usage.startswith("key_usage 'DECRYPT_ONLY' is not one of KMS's ") and "ENCRYPT_DECRYPT, " in usage
    assert spec.startswith("customer_master_key_spec 'AES_256' is not one of KMS's ") and "RSA_2048, " in spec
    assert KEY.problems({"deletionWindowInDays": 30.0, "keyUsage": "GENERATE_VERIFY_MAC",
                         "customerMasterKeySpec": "HMAC_256", "policy": _policy()}) == []
    assert ALIAS.problems({"name": "data", "namePrefix": "alias/aws/data", "targetKeyId": KEY_ID}) == [
        "name and name_prefix conflict: give one",
        "name 'data' must begin with 'alias/' and be made of only [0-9A-Za-z_/-]",
        "name_prefix 'alias/aws/data' begins with 'alias/aws/', which AWS reserves for AWS managed keys"]


# --- deployed into localcloud --------------------------------------------------------------------------------

def _key_program(**key: str) -> str:
    args = "".join(f", {name}={value}" for name, value in key.items())
    return ("import json, pulumi, pulumi_aws as aws\n"
            f"key = aws.kms.Key('key'{args})\n"
            "alias = aws.kms.Alias('alias', name='alias/kms-test-key', target_key_id=key.key_id)\n"
            "pulumi.export('key', pulumi.Output.all(key.id, key.arn, key.key_id, key.policy))\n"
            "pulumi.export('alias', pulumi.Output.all(alias.arn, alias.target_key_arn, alias.target_key_id))\n")


def _deletion_in(metadata: dict[str, Any]) -> timedelta:
    return metadata["DeletionDate"] - datetime.now(UTC)


def test_a_key_and_its_alias_are_created_updated_in_place_replaced_and_scheduled_for_deletion(
    workspace: Workspace, state_dir: Path, tmp_path: Path
) -> None:
    """The key's policy, rotation, description, tags and enabled state change in place (API_PutKeyPolicy.html,
    API_EnableKeyRotation.html, API_UpdateKeyDescription.html, API_TagResource.html, API_DisableKey.html); a new
    key usage is a new key, the alias following it (API_UpdateAlias.html), and the old key pending deletion after
    its 7-day window (API_ScheduleKeyDeletion.html); destroy deletes the alias and schedules the new key's
    deletion."""
    first = _policy()
    second = _policy(f"arn:aws:iam::{DEV}:root")
    project = write_project(tmp_path / "project", _key_program(
        description="'first'", policy=repr(first), deletion_window_in_days="7", tags="{'team': 'a', 'tier': '1'}"),
        {})
    kms = workspace.cloud.client("kms", "prod")
    try:
        outputs, changes = deploy("test", workspace.target, state_dir, project_dir=project)
        assert changes == ["+ create aws:kms/key:Key key", "+ create aws:kms/alias:Alias alias"]
        key_id, arn, same_id, policy = outputs["key"].value
        assert same_id == key_id and arn == f"arn:aws:kms:{REGION}:{PROD}:key/{key_id}" and policy == first
        assert outputs["alias"].value == [f"arn:aws:kms:{REGION}:{PROD}:alias/kms-test-key", arn, key_id]
        metadata = kms.describe_key(KeyId="alias/kms-test-key")["KeyMetadata"]
        assert (metadata["KeyId"], metadata["Description"], metadata["KeyState"]) == (key_id, "first", "Enabled")
        assert json.loads(kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"]) == json.loads(first)
        assert deploy("test", workspace.target, state_dir, project_dir=project)[1] == []

        (project / "__main__.py").write_text(_key_program(
            description="'second'", policy=repr(second), deletion_window_in_days="7", enable_key_rotation="True",
            is_enabled="False", tags="{'team': 'b'}"))
        outputs, changes = deploy("test", workspace.target, state_dir, project_dir=project)
        assert changes == ["~ update aws:kms/key:Key key"] and outputs["key"].value[:2] == [key_id, arn]
        metadata = kms.describe_key(KeyId=key_id)["KeyMetadata"]
        assert (metadata["Description"], metadata["KeyState"]) == ("second", "Disabled")
        assert json.loads(kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"]) == json.loads(second)
        assert kms.get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"] is True
        assert kms.list_resource_tags(KeyId=key_id)["Tags"] == [{"TagKey": "team", "TagValue": "b"}]

        # A new key usage would be a new key; the gate emulates symmetric keys only, so it fails by name and the
        # deployed key stays as it was.
        (project / "__main__.py").write_text(_key_program(
            key_usage="'SIGN_VERIFY'", customer_master_key_spec="'ECC_NIST_P256'", policy=repr(second),
            deletion_window_in_days="7"))
        with pytest.raises(DeployError, match="ECC_NIST_P256"):
            deploy("test", workspace.target, state_dir, project_dir=project)
        assert kms.describe_key(KeyId="alias/kms-test-key")["KeyMetadata"]["KeyId"] == key_id
    finally:
        destroy("test", workspace.target, state_dir, project_dir=project)
    assert "alias/kms-test-key" not in {a["AliasName"] for a in kms.list_aliases()["Aliases"]}
    old = kms.describe_key(KeyId=key_id)["KeyMetadata"]
    assert old["KeyState"] == "PendingDeletion" and timedelta(days=6) < _deletion_in(old) <= timedelta(days=7)


def test_a_multi_region_key_is_refused_by_name_and_a_deletion_window_taken_away_is_not_used(
    workspace: Workspace, state_dir: Path, tmp_path: Path
) -> None:
    """localcloud emulates no multi-Region keys: the deploy fails naming them and creates no key. A deletion window
    the program no longer sets is no longer used: destroy schedules the deletion after AWS's 30 days."""
    kms = workspace.cloud.client("kms", "prod")
    keys = len(kms.list_keys()["Keys"])
    mrk = write_project(tmp_path / "mrk", "import pulumi_aws as aws\naws.kms.Key('key', multi_region=True)\n", {})
    with pytest.raises(DeployError, match="multi-Region"):
        deploy("test", workspace.target, state_dir / "mrk", project_dir=mrk)
    assert len(kms.list_keys()["Keys"]) == keys
    main = ("import pulumi, pulumi_aws as aws\n"
            "key = aws.kms.Key('key', description='window'WINDOW)\n"
            "pulumi.export('keyId', key.key_id)\n")
    project = write_project(tmp_path / "project", main.replace("WINDOW", ", deletion_window_in_days=7"), {})
    try:
        key_id = deploy("test", workspace.target, state_dir, project_dir=project)[0]["keyId"].value
        (project / "__main__.py").write_text(main.replace("WINDOW", ""))
        assert deploy("test", workspace.target, state_dir, project_dir=project)[1] == ["~ update aws:kms/key:Key key"]
    finally:
        destroy("test", workspace.target, state_dir, project_dir=project)
    assert timedelta(days=29) < _deletion_in(kms.describe_key(KeyId=key_id)["KeyMetadata"]) <= timedelta(days=30)


def test_inputs_of_a_key_or_alias_localcloud_does_not_apply_are_refused_before_anything_is_written(
    workspace: Workspace, state_dir: Path, tmp_path: Path
) -> None:
    """A custom key store, an external key and a rotation period are refused by name; a deletion window outside
    KMS's 7-30 days and an alias name outside "alias/" are refused as the provider refuses them. The preview stops
    each deploy before the role declared first is created."""
    witness = f"aws.iam.Role('witness', name='kms-refused-witness', assume_role_policy='{TRUST_LAMBDA}')\n"
    cases = {
        "key = aws.kms.Key('key', custom_key_store_id='cks-1234567890abcdef0', xks_key_id='x',\n"
        "                  enable_key_rotation=True, rotation_period_in_days=90)\n":
            r"aws:kms/key:Key 'key': input customKeyStoreId, rotationPeriodInDays, xksKeyId is not supported by "
            r"localcloud",
        "key = aws.kms.Key('key', deletion_window_in_days=5)\n":
            r"aws:kms/key:Key 'key': deletion_window_in_days is 5: it must be between 7 and 30 days",
        "key = aws.kms.Key('key')\naws.kms.Alias('alias', name='data', target_key_id=key.key_id)\n":
            r"aws:kms/alias:Alias 'alias': name 'data' must begin with 'alias/'",
    }
    for declared, refusal in cases.items():
        project = write_project(tmp_path / "project", "import pulumi_aws as aws\n" + witness + declared, {})
        with pytest.raises(DeployError, match=refusal):
            deploy("test", workspace.target, state_dir, project_dir=project)
        assert "kms-refused-witness" not in roles(workspace, "prod")


def test_a_bucket_is_encrypted_with_the_program_s_key_by_arn_or_alias(
    workspace: Workspace, state_dir: Path, tmp_path: Path
) -> None:
    """tests/programs/encrypted: its bucket's default encryption is SSE-KMS with the key's ARN and an S3 Bucket Key
    (API_PutBucketEncryption.html, KMSMasterKeyID, BucketKeyEnabled); a second bucket names the key by its alias.
    It redeploys unchanged; destroying it schedules the key's deletion after AWS's default 30 days, since the
    program sets no deletion window."""
    project = PROGRAMS / "encrypted"
    s3, kms = workspace.cloud.client("s3", "prod"), workspace.cloud.client("kms", "prod")
    try:
        outputs, changes = deploy("dev", workspace.target, state_dir, project_dir=project)
        assert len(changes) == 6 and all(change.startswith("+ create") for change in changes)
        key_arn, alias_name_ = outputs["keyArn"].value, outputs["aliasName"].value
        for bucket, key in ((outputs["bucket"].value, key_arn), (outputs["byAlias"].value, alias_name_)):
            rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
            assert rules == [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key},
                              "BucketKeyEnabled": True}]
        assert kms.describe_key(KeyId=alias_name_)["KeyMetadata"]["Arn"] == key_arn
        assert deploy("dev", workspace.target, state_dir, project_dir=project)[1] == []
    finally:
        destroy("dev", workspace.target, state_dir, project_dir=project)
    metadata = kms.describe_key(KeyId=key_arn)["KeyMetadata"]
    assert metadata["KeyState"] == "PendingDeletion"
    assert timedelta(days=29) < _deletion_in(metadata) <= timedelta(days=30)
    with pytest.raises(ClientError):
        s3.head_bucket(Bucket=outputs["bucket"].value)


def test_a_key_of_an_encryption_rule_the_driver_does_not_apply_is_refused_by_name(
    workspace: Workspace, state_dir: Path, tmp_path: Path
) -> None:
    """pulumi-aws v7's blocked_encryption_types (SSE-C blocking) is not applied: refused by name, nothing created."""
    project = write_project(tmp_path / "project", (
        "import pulumi_aws as aws\n"
        "bucket = aws.s3.Bucket('bucket', bucket='kms-refused-rule')\n"
        "aws.s3.BucketServerSideEncryptionConfiguration('sse', bucket=bucket.id, rules=[\n"
        "    aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(blocked_encryption_types=['SSE-C'],\n"
        "        apply_server_side_encryption_by_default=aws.s3\n"
        "        .BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(\n"
        "            sse_algorithm='aws:kms', kms_master_key_id='alias/kms-refused'))])\n"), {})
    with pytest.raises(DeployError, match=r"'sse': input rules\.blockedEncryptionTypes is not supported"):
        deploy("test", workspace.target, state_dir, project_dir=project)
    buckets = workspace.cloud.client("s3", "prod").list_buckets()["Buckets"]
    assert "kms-refused-rule" not in {b["Name"] for b in buckets}
