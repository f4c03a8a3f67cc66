"""The prod program, run from the committed Pulumi.prod.yaml under the mock runtime: the bucket, and one role per
grant that only the grant's named principals of its consumer account may assume."""

from __future__ import annotations

import json

import pytest

from components.settings import ConfigError
from tests.program.conftest import (
    ANALYTICS_ACCOUNT,
    DEV_ACCOUNT,
    NS,
    PROD_ACCOUNT,
    ProgramRun,
    changed_grant,
    grants_of,
    run_stack,
    with_grants,
)

BUCKET = "aws:s3/bucket:Bucket"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
COMMITTED_GRANTS = ("dev-writer", "analytics-reader")
# Everything a grant's role may ever do: never deletes, ACLs, tagging or policy changes; with the bucket's KMS key,
# use it through S3.
GRANT_ACTIONS = {"s3:PutObject", "s3:GetObject", "s3:ListBucket", "kms:GenerateDataKey", "kms:Decrypt"}
ACTIONS_OF = {"write": {"s3:PutObject", "s3:ListBucket"}, "read": {"s3:GetObject", "s3:ListBucket"},
              "read-write": {"s3:PutObject", "s3:GetObject", "s3:ListBucket"}}
KMS_ACTIONS_OF = {"write": {"kms:GenerateDataKey", "kms:Decrypt"}, "read": {"kms:Decrypt"},
                  "read-write": {"kms:GenerateDataKey", "kms:Decrypt"}}


def trust_of(run: ProgramRun, grant: str) -> dict[str, dict]:
    return {s["Sid"]: s for s in run.cloud.one(ROLE, f"{grant}-role").policy("assumeRolePolicy")["Statement"]}


def permission_of(run: ProgramRun, grant: str) -> list[dict]:
    """The grant role's statements on the bucket (its use of the bucket's key: key_use_of)."""
    return [s for s in all_permissions_of(run, grant) if s["Sid"] != "UseBucketKeyThroughS3"]


def key_use_of(run: ProgramRun, grant: str) -> dict:
    (use,) = [s for s in all_permissions_of(run, grant) if s["Sid"] == "UseBucketKeyThroughS3"]
    return use


def all_permissions_of(run: ProgramRun, grant: str) -> list[dict]:
    return run.cloud.one(ROLE_POLICY, f"{grant}-bucket-access").policy()["Statement"]


def actions_of(statements: list[dict]) -> set[str]:
    return {a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}


# --- the bucket -------------------------------------------------------------------------------------------------


def test_bucket_blocks_all_public_access(prod_run):
    block = prod_run.cloud.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").inputs
    assert block["bucket"] == prod_run.export("bucketName")
    assert all(block[k] is True for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls",
                                          "restrictPublicBuckets"))


def test_bucket_is_encrypted_versioned_and_owner_enforced(prod_run):
    cloud = prod_run.cloud
    encryption = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
    rule = cloud.one(encryption).inputs["rules"][0]
    assert rule["applyServerSideEncryptionByDefault"] == {"sseAlgorithm": "aws:kms",
                                                          "kmsMasterKeyId": prod_run.export("kmsKeyArn")}
    assert rule["bucketKeyEnabled"] is True
    versioning = cloud.one("aws:s3/bucketVersioning:BucketVersioning").inputs
    assert versioning["versioningConfiguration"]["status"] == "Enabled"
    ownership = cloud.one("aws:s3/bucketOwnershipControls:BucketOwnershipControls").inputs
    assert ownership["rule"]["objectOwnership"] == "BucketOwnerEnforced"


def test_with_sse_s3_the_bucket_is_encrypted_with_aes256_and_no_key(prod_config):
    config = {k: v for k, v in prod_config.items() if k != f"{NS}kmsKeyUsers"} | {f"{NS}encryption": "s3"}
    run = run_stack("prod", config)
    encryption = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
    assert run.cloud.one(encryption).inputs["rules"][0]["applyServerSideEncryptionByDefault"] == {
        "sseAlgorithm": "AES256"}
    assert not run.cloud.of_type("aws:kms/key:Key") and run.export("kmsKeyArn") is None
    assert not any(s["Sid"] == "UseBucketKeyThroughS3" for g in COMMITTED_GRANTS for s in all_permissions_of(run, g))
    assert [s["Sid"] for s in run.cloud.one("aws:s3/bucketPolicy:BucketPolicy").policy()["Statement"]] == [
        "DenyInsecureTransport"]


def test_the_bucket_key_is_the_stacks_own_rotated_with_a_deletion_window_and_an_alias(prod_run):
    key = prod_run.cloud.one("aws:kms/key:Key").inputs
    assert key["enableKeyRotation"] is True and key["deletionWindowInDays"] == 30
    assert prod_run.cloud.one("aws:kms/alias:Alias").inputs["name"] == "alias/cross-account-s3-data"
    statements = {s["Sid"]: s for s in prod_run.cloud.one("aws:kms/key:Key").policy()["Statement"]}
    assert set(statements) == {"KeyAdministration", "GrantDevWriter", "GrantAnalyticsReader", "KeyUsers"}
    assert statements["GrantDevWriter"]["Condition"]["ArnEquals"] == {
        "aws:PrincipalArn": f"arn:aws:iam::{PROD_ACCOUNT}:role/cross-account-s3-dev-writer"}


def test_an_existing_key_is_used_and_its_required_policy_exported(prod_config):
    arn = f"arn:aws:kms:eu-west-1:{PROD_ACCOUNT}:key/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
    run = run_stack("prod", prod_config | {f"{NS}kmsKeyArn": arn})
    assert not run.cloud.of_type("aws:kms/key:Key") and not run.cloud.of_type("aws:kms/alias:Alias")
    assert run.export("kmsKeyArn") == arn
    assert key_use_of(run, "dev-writer")["Resource"] == arn
    required = {s["Sid"] for s in json.loads(run.export("requiredKeyPolicy"))["Statement"]}
    assert required == {"KeyAdministration", "GrantDevWriter", "GrantAnalyticsReader", "KeyUsers"}


@pytest.mark.parametrize("access", ["write", "read", "read-write"])
def test_a_grants_role_uses_the_key_for_its_access_through_s3_only(prod_config, access):
    run = run_stack("prod", changed_grant(prod_config, "dev-writer", access=access))
    use = key_use_of(run, "dev-writer")
    assert actions_of([use]) == KMS_ACTIONS_OF[access]
    assert use["Resource"] == run.export("kmsKeyArn")
    assert use["Condition"] == {"StringEquals": {"kms:ViaService": "s3.eu-west-1.amazonaws.com"}}


def test_bucket_policy_denies_requests_without_tls(prod_run):
    policy = prod_run.cloud.one("aws:s3/bucketPolicy:BucketPolicy").policy()
    deny = {s["Sid"]: s for s in policy["Statement"]}["DenyInsecureTransport"]
    assert deny["Effect"] == "Deny"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    bucket = prod_run.export("bucketName")
    assert deny["Resource"] == [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]


def test_versioning_can_be_suspended_by_config(prod_config):
    run = run_stack("prod", prod_config | {f"{NS}versioning": "false"})
    status = run.cloud.one("aws:s3/bucketVersioning:BucketVersioning").inputs["versioningConfiguration"]["status"]
    assert status == "Suspended"


def test_bucket_policy_refuses_writes_asking_for_other_encryption(prod_run):
    policy = prod_run.cloud.one("aws:s3/bucketPolicy:BucketPolicy").policy()
    assert [s["Sid"] for s in policy["Statement"]] == ["DenyInsecureTransport", "DenyOtherEncryption",
                                                       "DenyOtherKmsKey", "DenyAwsManagedKey"]
    other_key = {s["Sid"]: s for s in policy["Statement"]}["DenyOtherKmsKey"]
    assert other_key["Condition"]["StringNotEquals"] == {
        "s3:x-amz-server-side-encryption-aws-kms-key-id": prod_run.export("kmsKeyArn")}


def test_bucket_name_comes_from_config_when_set(prod_config):
    run = run_stack("prod", prod_config | {f"{NS}bucketName": "acme-prod-incoming"})
    assert run.cloud.one(BUCKET).inputs["bucket"] == "acme-prod-incoming"
    assert run.export("bucketName") == "acme-prod-incoming"
    assert {s["Resource"] for g in COMMITTED_GRANTS for s in permission_of(run, g)} == {
        "arn:aws:s3:::acme-prod-incoming", "arn:aws:s3:::acme-prod-incoming/incoming/*"}


# --- one role per grant -----------------------------------------------------------------------------------------


def test_one_role_per_grant_named_after_it(prod_run):
    assert sorted(r.inputs["name"] for r in prod_run.cloud.of_type(ROLE)) == [
        f"cross-account-s3-{g}" for g in sorted(COMMITTED_GRANTS)]
    assert sorted(r.name for r in prod_run.cloud.of_type(ROLE_POLICY)) == [
        f"{g}-bucket-access" for g in sorted(COMMITTED_GRANTS)]


def test_each_grant_is_a_grant_role_component(prod_run):
    components = prod_run.cloud.of_type("cross-account-s3:access:GrantRole")
    assert sorted(c.name for c in components) == sorted(COMMITTED_GRANTS)
    for grant in COMMITTED_GRANTS:
        assert prod_run.cloud.one(ROLE, f"{grant}-role").parent.name == grant


@pytest.mark.parametrize("grant, account, role, user, external_id", [
    ("dev-writer", DEV_ACCOUNT, "cross-account-s3-writer-lambda", "dev-user", "dev-writer-3f9a61c2"),
    ("analytics-reader", ANALYTICS_ACCOUNT, "cross-account-s3-reader-lambda", "analyst",
     "analytics-reader-8d04be17"),
])
def test_grant_trust_names_its_consumer_principals_with_mfa_for_humans_and_the_external_id(
        prod_run, grant, account, role, user, external_id):
    statements = trust_of(prod_run, grant)
    assert {"WorkloadsAssume", "HumansAssume"} <= set(statements)
    for statement in statements.values():
        assert statement["Principal"] == {"AWS": f"arn:aws:iam::{account}:root"}
    for sid in ("WorkloadsAssume", "HumansAssume"):
        assert statements[sid]["Action"] == "sts:AssumeRole"
        assert statements[sid]["Condition"]["StringEquals"]["sts:ExternalId"] == external_id
    assert statements["WorkloadsAssume"]["Condition"]["ArnEquals"] == {
        "aws:PrincipalArn": f"arn:aws:iam::{account}:role/{role}"}
    assert "Bool" not in statements["WorkloadsAssume"]["Condition"]  # a Lambda cannot present MFA
    assert statements["HumansAssume"]["Condition"]["ArnEquals"] == {
        "aws:PrincipalArn": f"arn:aws:iam::{account}:user/{user}"}
    assert statements["HumansAssume"]["Condition"]["Bool"] == {"aws:MultiFactorAuthPresent": "true"}


def test_a_grant_trusts_no_other_grants_account(prod_run):
    dev = str(trust_of(prod_run, "dev-writer"))
    analytics = str(trust_of(prod_run, "analytics-reader"))
    assert ANALYTICS_ACCOUNT not in dev and DEV_ACCOUNT not in analytics


def test_a_grant_without_mfa_or_external_id_has_neither_condition(prod_config):
    run = run_stack("prod", changed_grant(prod_config, "dev-writer", requireMfa=False, externalId=None,
                                          allowSessionTags=None, sourceIdentity=None, principalOrgId=None))
    for statement in trust_of(run, "dev-writer").values():
        assert set(statement["Condition"]) == {"ArnEquals"}
    assert trust_of(run, "analytics-reader")["HumansAssume"]["Condition"]["Bool"] == {
        "aws:MultiFactorAuthPresent": "true"}


def test_role_session_duration_comes_from_its_grant(prod_config):
    run = run_stack("prod", changed_grant(prod_config, "analytics-reader", maxSessionDuration=7200))
    assert run.cloud.one(ROLE, "analytics-reader-role").inputs["maxSessionDuration"] == 7200
    assert run.cloud.one(ROLE, "dev-writer-role").inputs["maxSessionDuration"] == 3600


@pytest.mark.parametrize("access", ["write", "read", "read-write"])
def test_permission_policy_follows_the_grants_access(prod_config, access):
    run = run_stack("prod", changed_grant(prod_config, "dev-writer", access=access))
    bucket = run.export("bucketName")
    statements = permission_of(run, "dev-writer")
    assert actions_of(statements) == ACTIONS_OF[access]
    assert {s["Action"]: s["Resource"] for s in statements} == {
        action: f"arn:aws:s3:::{bucket}" if action == "s3:ListBucket" else f"arn:aws:s3:::{bucket}/incoming/*"
        for action in ACTIONS_OF[access]}
    (listing,) = [s for s in statements if s["Action"] == "s3:ListBucket"]
    assert listing["Condition"] == {"StringLike": {"s3:prefix": "incoming/*"}}


def test_committed_write_grant_may_put_and_list_under_its_prefix(prod_run):
    assert actions_of(permission_of(prod_run, "dev-writer")) == {"s3:PutObject", "s3:ListBucket"}


def test_committed_read_grant_cannot_write(prod_run):
    assert actions_of(permission_of(prod_run, "analytics-reader")) == {"s3:GetObject", "s3:ListBucket"}


def test_no_grant_role_may_delete_change_acls_or_policies(prod_config):
    # One prod with a grant of each access level: nothing outside put, get and list, for any of them.
    base = grants_of(prod_config)[0]
    grants = [base | {"name": f"g-{access}", "access": access} for access in ACTIONS_OF]
    run = run_stack("prod", with_grants(prod_config, grants))
    for grant in grants:
        statements = all_permissions_of(run, grant["name"])
        assert actions_of(statements) <= GRANT_ACTIONS
        assert all(s["Effect"] == "Allow" and "NotAction" not in s and s["Resource"] != "*" for s in statements)
    assert len(run.cloud.of_type(ROLE_POLICY)) == len(grants)
    assert not run.cloud.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")


def test_each_grant_has_its_own_prefix(prod_config):
    run = run_stack("prod", changed_grant(prod_config, "analytics-reader", keyPrefix="reports/"))
    bucket = run.export("bucketName")
    reader = {s["Sid"]: s for s in permission_of(run, "analytics-reader")}
    assert reader["ReadObjectsUnderPrefix"]["Resource"] == f"arn:aws:s3:::{bucket}/reports/*"
    assert reader["ListObjectsUnderPrefix"]["Condition"] == {"StringLike": {"s3:prefix": "reports/*"}}
    writer = {s["Sid"]: s for s in permission_of(run, "dev-writer")}
    assert writer["WriteObjectsUnderPrefix"]["Resource"] == f"arn:aws:s3:::{bucket}/incoming/*"


def test_revoking_one_grant_leaves_the_others_role_as_it_was(prod_config, prod_run):
    kept = [g for g in grants_of(prod_config) if g["name"] == "analytics-reader"]
    run = run_stack("prod", with_grants(prod_config, kept))
    assert [r.name for r in run.cloud.of_type(ROLE)] == ["analytics-reader-role"]
    for typ, name in ((ROLE, "analytics-reader-role"), (ROLE_POLICY, "analytics-reader-bucket-access")):
        assert run.cloud.one(typ, name).inputs == prod_run.cloud.one(typ, name).inputs
    assert set(run.export("grants")) == {"analytics-reader"}


def test_permissions_boundary_is_attached_to_every_grant_role(prod_config):
    boundary = "arn:aws:iam::111111111111:policy/boundary"
    run = run_stack("prod", prod_config | {f"{NS}permissionsBoundaryArn": boundary})
    assert [r.inputs["permissionsBoundary"] for r in run.cloud.of_type(ROLE)] == [boundary] * len(COMMITTED_GRANTS)


def test_grant_roles_are_tagged_with_their_grant_over_the_stack_tags(prod_config):
    run = run_stack("prod", changed_grant(prod_config, "dev-writer", tags={"data-classification": "restricted"}))
    assert run.cloud.one(ROLE, "dev-writer-role").inputs["tags"] == {
        "project": "cross-account-s3", "data-classification": "restricted", "grant": "dev-writer"}
    assert run.cloud.one(ROLE, "analytics-reader-role").inputs["tags"]["grant"] == "analytics-reader"


# --- exports ----------------------------------------------------------------------------------------------------


def test_grants_export_describes_each_grant_for_its_consumer(prod_run):
    assert prod_run.export("grants") == {
        "dev-writer": {
            "roleArn": f"arn:aws:iam::{PROD_ACCOUNT}:role/cross-account-s3-dev-writer",
            "roleName": "cross-account-s3-dev-writer", "accountId": DEV_ACCOUNT, "keyPrefix": "incoming/",
            "access": "write", "mfaRequired": True, "maxSessionDuration": 3600, "externalIdRequired": True,
            "sessionTagKeys": ["function"], "sessionTagsAllowed": True, "sourceIdentity": "allowed",
            "principalOrgId": "o-xs3example01", "suspended": False, "revokeSessionsIssuedBefore": None,
        },
        "analytics-reader": {
            "roleArn": f"arn:aws:iam::{PROD_ACCOUNT}:role/cross-account-s3-analytics-reader",
            "roleName": "cross-account-s3-analytics-reader", "accountId": ANALYTICS_ACCOUNT,
            "keyPrefix": "incoming/", "access": "read", "mfaRequired": True, "maxSessionDuration": 3600,
            "externalIdRequired": True, "sessionTagKeys": None, "sessionTagsAllowed": False,
            "sourceIdentity": "required", "principalOrgId": "o-xs3example01", "suspended": False,
            "revokeSessionsIssuedBefore": None,
        },
    }


def test_bucket_and_region_exports(prod_run):
    assert set(prod_run.exports) == {"grants", "grantExternalIds", "bucketName", "bucketArn", "region", "encryption", "kmsKeyArn"}
    assert prod_run.export("bucketArn") == f"arn:aws:s3:::{prod_run.export('bucketName')}"
    assert prod_run.export("region") == "eu-west-1"


def test_external_ids_are_exported_apart_from_grants_as_a_secret(prod_run):
    """The external IDs are a secret; the rest of a grant is not, and every consumer reads the grants output.

    Pulumi marks an output secret as a whole: with the external IDs inside ``grants``, the whole map would be secret,
    and so would everything a consumer derives from it (its role ARN in the Lambda's policy, its access, the CLI
    profile's role_arn), hidden as [secret] in every consumer's preview and snapshot, where reviewers need to see
    which role a change points at. So ``grants`` stays plain and carries only ``externalIdRequired``;
    ``grantExternalIds`` (grant name to external ID) is the one secret output.
    """
    assert prod_run.exports["grantExternalIds"].secret is True
    assert prod_run.export("grantExternalIds") == {"dev-writer": "dev-writer-3f9a61c2",
                                                   "analytics-reader": "analytics-reader-8d04be17"}
    assert prod_run.exports["grants"].secret is False
    assert not any("externalId" in g for g in prod_run.export("grants").values())
    assert all(g["externalIdRequired"] for g in prod_run.export("grants").values())


def test_a_grant_without_external_id_is_left_out_of_the_external_ids(prod_config):
    run = run_stack("prod", changed_grant(prod_config, "analytics-reader", externalId=None))
    assert run.export("grantExternalIds") == {"dev-writer": "dev-writer-3f9a61c2"}
    assert run.export("grants")["analytics-reader"]["externalIdRequired"] is False
    assert run.export("grants")["dev-writer"]["externalIdRequired"] is True


# --- the program as a whole -------------------------------------------------------------------------------------


def test_every_resource_is_inside_a_component(prod_run):
    top = {"cross-account-s3:storage:HardenedBucket", "cross-account-s3:access:GrantRole"}
    components = top | {"cross-account-s3:storage:BucketKey"}  # the bucket's key, a child of the bucket
    assert {r.typ for r in prod_run.cloud.resources if r.parent is None} == top
    assert all(r.parent is not None and r.parent.type in components
               for r in prod_run.cloud.resources if r.typ not in components)
    assert prod_run.cloud.one("cross-account-s3:storage:BucketKey").parent.type == \
        "cross-account-s3:storage:HardenedBucket"


def test_prod_declares_no_consumer_resources(prod_run):
    types = {r.typ for r in prod_run.cloud.resources}
    assert not types & {"pulumi:pulumi:StackReference", "aws:lambda/function:Function", "aws:iam/user:User",
                        "aws:iam/group:Group"}


def test_bad_config_fails_the_program_naming_the_grant_and_key(prod_config):
    with pytest.raises(ConfigError, match=r"cross-account-s3:grants\[dev-writer\]\.accountId: expected a 12-digit"):
        run_stack("prod", changed_grant(prod_config, "dev-writer", accountId="42"))


def test_an_oversized_trust_policy_fails_the_program_before_any_resource(prod_config):
    big = changed_grant(prod_config, "dev-writer", roleNames=[f"{i:02d}".ljust(64, "r") for i in range(40)])
    with pytest.raises(ConfigError, match=r"cross-account-s3:grants\[dev-writer\]: its trust policy would be"):
        run_stack("prod", big)
