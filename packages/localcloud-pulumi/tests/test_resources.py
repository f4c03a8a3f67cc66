"""Mappings of resources.RESOURCE_TYPES, deployed by small programs of the tests' own: a role's exclusive managed
policies, pulumi-aws v6's S3 names that v7 still accepts, and a Lambda runtime Lambda no longer accepts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from harness_testing.projects import PROD, TRUST_LAMBDA, roles, write_project
from localcloud_pulumi.deploy import DeployError, deploy, destroy
from localcloud_pulumi.workspace import Workspace

READ = ('{\\"Version\\": \\"2012-10-17\\", \\"Statement\\": [{\\"Effect\\": \\"Allow\\", \\"Action\\": \\"ACTION\\", '
        '\\"Resource\\": \\"*\\"}]}')


def _attached(workspace: Workspace, role: str) -> set[str]:
    iam = workspace.cloud.client("iam", "prod")
    return {p["PolicyName"] for p in iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]}


def test_a_role_s_managed_policy_arns_are_exactly_its_attached_policies(
    workspace: Workspace, state_dir: Path, tmp_path: Path
) -> None:
    """managed_policy_arns is exclusive: the role's managed policies become exactly the list, attached
    (API_AttachRolePolicy.html) or detached (API_DetachRolePolicy.html) as it changes, one attached outside the
    program included; a role is deleted after its policies are detached, as IAM requires (API_DeleteRole.html:
    "you must first remove ... attached managed policies")."""
    main = ("import pulumi_aws as aws\n"
            f"read = aws.iam.Policy('read', name='res-read', policy='{READ.replace('ACTION', 's3:GetObject')}')\n"
            f"list_ = aws.iam.Policy('list', name='res-list', policy='{READ.replace('ACTION', 's3:ListBucket')}')\n"
            f"aws.iam.Role('role', name='res-managed', assume_role_policy='{TRUST_LAMBDA}',\n"
            "             managed_policy_arns=ARNS)\n")
    project = write_project(tmp_path / "project", main.replace("ARNS", "[read.arn]"), {})
    iam = workspace.cloud.client("iam", "prod")
    outside = iam.create_policy(PolicyName="res-outside", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:PutObject", "Resource": "*"}]}))
    try:
        deploy("test", workspace.target, state_dir, project_dir=project)
        assert _attached(workspace, "res-managed") == {"res-read"}

        iam.attach_role_policy(RoleName="res-managed", PolicyArn=outside["Policy"]["Arn"])
        (project / "__main__.py").write_text(main.replace("ARNS", "[list_.arn, read.arn]"))
        assert deploy("test", workspace.target, state_dir, project_dir=project)[1] == [
            "~ update aws:iam/role:Role role"]
        assert _attached(workspace, "res-managed") == {"res-read", "res-list"}

        (project / "__main__.py").write_text(main.replace("ARNS", "[]"))
        deploy("test", workspace.target, state_dir, project_dir=project)
        assert _attached(workspace, "res-managed") == set()

        (project / "__main__.py").write_text(main.replace("ARNS", "[list_.arn]"))
        deploy("test", workspace.target, state_dir, project_dir=project)
        assert _attached(workspace, "res-managed") == {"res-list"}
    finally:
        destroy("test", workspace.target, state_dir, project_dir=project)
        iam.delete_policy(PolicyArn=outside["Policy"]["Arn"])
    assert "res-managed" not in roles(workspace, "prod")
    assert not {p["PolicyName"] for p in iam.list_policies(Scope="Local")["Policies"]} & {"res-read", "res-list"}


def test_a_role_whose_managed_policy_cannot_be_attached_is_not_left_behind(
    workspace: Workspace, state_dir: Path, tmp_path: Path
) -> None:
    """AttachRolePolicy of a policy that does not exist fails with NoSuchEntity (API_AttachRolePolicy.html); the
    deploy fails naming the role, and the role it had created is gone again."""
    project = write_project(tmp_path / "project", (
        "import pulumi_aws as aws\n"
        f"aws.iam.Role('role', name='res-unattachable', assume_role_policy='{TRUST_LAMBDA}',\n"
        f"             managed_policy_arns=['arn:aws:iam::{PROD}:policy/res-no-such-policy'])\n"), {})
    with pytest.raises(DeployError, match=r"creating aws:iam/role:Role 'role' failed: .*NoSuchEntity"):
        deploy("test", workspace.target, state_dir, project_dir=project)
    assert "res-unattachable" not in roles(workspace, "prod")
    assert destroy("test", workspace.target, state_dir, project_dir=project) == []


def test_v6_s3_names_deploy_as_their_v7_types(workspace: Workspace, state_dir: Path, tmp_path: Path) -> None:
    """s3.BucketV2, BucketVersioningV2 and BucketServerSideEncryptionConfigurationV2 (v6's names, which pulumi-aws
    v7 still accepts) create what s3.Bucket and its settings create (API_CreateBucket.html,
    API_PutBucketVersioning.html, API_PutBucketEncryption.html), with the same outputs."""
    project = write_project(tmp_path / "project", (
        "import pulumi, pulumi_aws as aws\n"
        "old = aws.s3.BucketV2('old', bucket='res-bucket-v2', tags={'team': 'a'})\n"
        "new = aws.s3.Bucket('new', bucket='res-bucket-v7', tags={'team': 'a'})\n"
        "aws.s3.BucketVersioningV2('versioning', bucket=old.id,\n"
        "    versioning_configuration=aws.s3.BucketVersioningV2VersioningConfigurationArgs(status='Enabled'))\n"
        "aws.s3.BucketServerSideEncryptionConfigurationV2('sse', bucket=old.id, rules=[\n"
        "    aws.s3.BucketServerSideEncryptionConfigurationV2RuleArgs(bucket_key_enabled=True,\n"
        "        apply_server_side_encryption_by_default=aws.s3\n"
        "        .BucketServerSideEncryptionConfigurationV2RuleApplyServerSideEncryptionByDefaultArgs(\n"
        "            sse_algorithm='aws:kms', kms_master_key_id='alias/res-key'))])\n"
        "for name, bucket in (('old', old), ('new', new)):\n"
        "    pulumi.export(name, pulumi.Output.all(bucket.id, bucket.arn, bucket.bucket, bucket.bucket_domain_name,\n"
        "        bucket.bucket_regional_domain_name, bucket.region, bucket.bucket_region, bucket.tags_all))\n"), {})
    s3 = workspace.cloud.client("s3", "prod")
    try:
        outputs, changes = deploy("test", workspace.target, state_dir, project_dir=project)
        assert "+ create aws:s3/bucketV2:BucketV2 old" in changes
        assert outputs["old"].value == [
            "res-bucket-v2", "arn:aws:s3:::res-bucket-v2", "res-bucket-v2", "res-bucket-v2.s3.amazonaws.com",
            "res-bucket-v2.s3.eu-west-1.amazonaws.com", "eu-west-1", "eu-west-1", {"team": "a"}]
        assert [str(v).replace("v7", "v2") for v in outputs["new"].value] == [str(v) for v in outputs["old"].value]
        assert s3.get_bucket_versioning(Bucket="res-bucket-v2")["Status"] == "Enabled"
        rule = s3.get_bucket_encryption(Bucket="res-bucket-v2")["ServerSideEncryptionConfiguration"]["Rules"][0]
        assert rule["ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "aws:kms",
                                                              "KMSMasterKeyID": "alias/res-key"}
        assert s3.get_bucket_tagging(Bucket="res-bucket-v2")["TagSet"] == [{"Key": "team", "Value": "a"}]
    finally:
        destroy("test", workspace.target, state_dir, project_dir=project)
    with pytest.raises(ClientError):
        s3.head_bucket(Bucket="res-bucket-v2")


def test_an_input_of_a_v6_s3_name_that_is_not_applied_is_refused_by_name(
    workspace: Workspace, state_dir: Path, tmp_path: Path
) -> None:
    """MFA delete needs the MFA header of PutBucketVersioning (API_PutBucketVersioning.html), which the driver does
    not send, and BucketV2's inline versioning is not applied: each is refused by name, before anything is
    created."""
    project = write_project(tmp_path / "project", (
        "import pulumi_aws as aws\n"
        "bucket = aws.s3.BucketV2('bucket', bucket='res-refused-bucket')\n"
        "aws.s3.BucketVersioningV2('versioning', bucket=bucket.id,\n"
        "                          versioning_configuration={'status': 'Enabled', 'mfa_delete': 'Enabled'})\n"), {})
    with pytest.raises(DeployError, match=r"aws:s3/bucketVersioningV2:BucketVersioningV2 'versioning': input "
                                          r"versioningConfiguration\.mfaDelete is not supported by localcloud"):
        deploy("test", workspace.target, state_dir, project_dir=project)
    (project / "__main__.py").write_text(
        "import pulumi_aws as aws\n"
        "aws.s3.BucketV2('bucket', bucket='res-refused-bucket', versionings=[{'enabled': True}])\n")
    with pytest.raises(DeployError, match=r"aws:s3/bucketV2:BucketV2 'bucket': input versionings is not supported"):
        deploy("test", workspace.target, state_dir, project_dir=project)
    buckets = workspace.cloud.client("s3", "prod").list_buckets()["Buckets"]
    assert "res-refused-bucket" not in {b["Name"] for b in buckets}


def test_a_function_with_a_runtime_lambda_no_longer_accepts_is_a_deploy_error_naming_it(
    workspace: Workspace, state_dir: Path, tmp_path: Path
) -> None:
    """lambda-runtimes.html, "Deprecated runtimes": no function can be created with python3.7 since its "Block
    function create" date (9 January 2024). The emulator refuses CreateFunction as Lambda does, and the deploy
    fails naming the resource and Lambda's reason; the function does not exist."""
    project = write_project(tmp_path / "project", (
        "import pulumi, pulumi_aws as aws\n"
        f"role = aws.iam.Role('role', name='res-runtime-role', assume_role_policy='{TRUST_LAMBDA}')\n"
        "aws.lambda_.Function('fn', name='res-old-runtime', role=role.arn, runtime='python3.7', handler='h.h',\n"
        "    code=pulumi.AssetArchive({'h.py': pulumi.StringAsset('def h(event, context):\\n    return 1\\n')}))\n"),
        {})
    lam = workspace.cloud.client("lambda", "prod")
    try:
        with pytest.raises(DeployError, match=r"creating aws:lambda/function:Function 'fn' failed: .*"
                                              r"InvalidParameterValueException.*The runtime parameter of python3\.7 "
                                              r"is no longer supported for creating or updating AWS Lambda functions"):
            deploy("test", workspace.target, state_dir, project_dir=project)
        with pytest.raises(ClientError) as raised:
            lam.get_function(FunctionName="res-old-runtime")
        assert raised.value.response["Error"]["Code"] == "ResourceNotFoundException"
    finally:
        destroy("test", workspace.target, state_dir, project_dir=project)
    assert "res-runtime-role" not in roles(workspace, "prod")
