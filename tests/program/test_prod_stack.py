"""The prod program, run from the committed Pulumi.prod.yaml under the mock runtime."""

import pytest

from components.settings import ConfigError
from tests.program.conftest import DEV_ACCOUNT, run_stack

BUCKET = "aws:s3/bucket:Bucket"


def test_bucket_blocks_all_public_access(prod_run):
    block = prod_run.cloud.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").inputs
    assert block["bucket"] == prod_run.export("bucketName")
    assert all(block[k] is True for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls",
                                          "restrictPublicBuckets"))


def test_bucket_is_encrypted_versioned_and_owner_enforced(prod_run):
    cloud = prod_run.cloud
    rule = cloud.one("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration").inputs["rules"][0]
    assert rule["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "AES256"
    versioning = cloud.one("aws:s3/bucketVersioning:BucketVersioning").inputs
    assert versioning["versioningConfiguration"]["status"] == "Enabled"
    ownership = cloud.one("aws:s3/bucketOwnershipControls:BucketOwnershipControls").inputs
    assert ownership["rule"]["objectOwnership"] == "BucketOwnerEnforced"


def test_bucket_policy_denies_requests_without_tls(prod_run):
    policy = prod_run.cloud.one("aws:s3/bucketPolicy:BucketPolicy").policy()
    (deny,) = policy["Statement"]
    assert deny["Effect"] == "Deny"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    bucket = prod_run.export("bucketName")
    assert deny["Resource"] == [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]


def test_versioning_can_be_suspended_by_config(prod_config):
    run = run_stack("prod", prod_config | {"cross-account-s3:versioning": "false"})
    status = run.cloud.one("aws:s3/bucketVersioning:BucketVersioning").inputs["versioningConfiguration"]["status"]
    assert status == "Suspended"


def test_bucket_name_comes_from_config_when_set(prod_config):
    run = run_stack("prod", prod_config | {"cross-account-s3:bucketName": "acme-prod-incoming"})
    assert run.cloud.one(BUCKET).inputs["bucket"] == "acme-prod-incoming"
    assert run.export("bucketName") == "acme-prod-incoming"


def test_trust_policy_names_the_committed_dev_principals(prod_run):
    role = prod_run.cloud.one("aws:iam/role:Role")
    statements = {s["Sid"]: s for s in role.policy("assumeRolePolicy")["Statement"]}
    assert statements["DevWorkloadsAssume"]["Principal"] == {"AWS": f"arn:aws:iam::{DEV_ACCOUNT}:root"}
    assert statements["DevWorkloadsAssume"]["Condition"]["ArnEquals"]["aws:PrincipalArn"] == \
        f"arn:aws:iam::{DEV_ACCOUNT}:role/cross-account-s3-writer-lambda"
    assert statements["DevHumansAssume"]["Condition"]["ArnEquals"]["aws:PrincipalArn"] == \
        f"arn:aws:iam::{DEV_ACCOUNT}:user/dev-user"
    assert statements["DevHumansAssume"]["Condition"]["Bool"] == {"aws:MultiFactorAuthPresent": "true"}
    for statement in statements.values():
        assert statement["Condition"]["StringEquals"] == {"sts:ExternalId": "cross-account-s3-dev-writer"}


def test_role_session_duration_and_name_come_from_config(prod_run):
    role = prod_run.cloud.one("aws:iam/role:Role").inputs
    assert role["name"] == "cross-account-s3-writer"
    assert role["maxSessionDuration"] == 3600


def test_permission_policy_is_put_and_list_under_prefix_of_this_bucket(prod_run):
    bucket = prod_run.export("bucketName")
    policy = prod_run.cloud.one("aws:iam/rolePolicy:RolePolicy").policy()
    grants = {s["Action"]: s["Resource"] for s in policy["Statement"]}
    assert grants == {"s3:PutObject": f"arn:aws:s3:::{bucket}/incoming/*", "s3:ListBucket": f"arn:aws:s3:::{bucket}"}


def test_read_access_is_granted_only_when_configured(prod_config):
    run = run_stack("prod", prod_config | {"cross-account-s3:allowRead": "true"})
    actions = [s["Action"] for s in run.cloud.one("aws:iam/rolePolicy:RolePolicy").policy()["Statement"]]
    assert "s3:GetObject" in actions


def test_permissions_boundary_is_attached_when_configured(prod_config):
    boundary = "arn:aws:iam::111111111111:policy/boundary"
    run = run_stack("prod", prod_config | {"cross-account-s3:permissionsBoundaryArn": boundary})
    assert run.cloud.one("aws:iam/role:Role").inputs["permissionsBoundary"] == boundary


def test_exports(prod_run):
    assert prod_run.export("roleArn") == "arn:aws:iam::111111111111:role/cross-account-s3-writer"
    assert prod_run.export("roleName") == "cross-account-s3-writer"
    assert prod_run.export("bucketArn") == f"arn:aws:s3:::{prod_run.export('bucketName')}"
    assert prod_run.export("keyPrefix") == "incoming/"
    assert prod_run.export("region") == "eu-west-1"


def test_external_id_is_exported_as_a_secret(prod_run):
    assert prod_run.exports["externalId"].secret is True
    assert prod_run.exports["roleArn"].secret is False


def test_no_external_id_export_when_not_configured(prod_config):
    config = {k: v for k, v in prod_config.items() if k != "cross-account-s3:externalId"}
    assert "externalId" not in run_stack("prod", config).exports


def test_every_resource_is_inside_a_component(prod_run):
    # Components register first; custom resources are their children (parent=self), never the stack's.
    types = [r.typ for r in prod_run.cloud.resources]
    assert types[:2] == ["cross-account-s3:storage:HardenedBucket", "cross-account-s3:access:WriterRole"]


def test_bad_config_fails_the_program_naming_the_key(prod_config):
    with pytest.raises(ConfigError, match="cross-account-s3:devAccountId: expected a 12-digit"):
        run_stack("prod", prod_config | {"cross-account-s3:devAccountId": "42"})


def test_unknown_stack_name_is_refused(prod_config):
    from tests.project import run_program
    from tests.program.conftest import FakeCloud

    with pytest.raises(ConfigError, match="expected prod or dev"):
        run_program("staging", FakeCloud("111111111111"), config=prod_config)
