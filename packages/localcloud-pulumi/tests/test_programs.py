"""Programs written elsewhere's way (tests/programs/), deployed end to end: what they declare exists in the right
account, works, redeploys with no changes and is destroyed without a trace."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from harness_testing.projects import DEV, PROD, roles
from localcloud_pulumi.deploy import MissingStack, StackName, deploy, destroy, state_paths

PROGRAMS = Path(__file__).resolve().parent / "programs"
ADMIN = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


@pytest.fixture
def data_deploy_role(workspace):
    """The role in the data account that the idioms program's provider assumes: it trusts the dev account."""
    iam = workspace.cloud.client("iam", "prod")
    iam.create_role(RoleName="idioms-deployer", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{DEV}:root"},
                                                "Action": "sts:AssumeRole"}]}))
    iam.put_role_policy(RoleName="idioms-deployer", PolicyName="admin", PolicyDocument=json.dumps(ADMIN))
    yield
    iam.delete_role_policy(RoleName="idioms-deployer", PolicyName="admin")
    iam.delete_role(RoleName="idioms-deployer")


def test_a_program_in_the_usual_idioms_deploys_works_redeploys_unchanged_and_destroys(workspace, state_dir,
                                                                                     data_deploy_role):
    project = PROGRAMS / "idioms"
    outputs, changes = deploy("dev", workspace.target, state_dir, project_dir=project)
    try:
        assert all(change.startswith("+ create") for change in changes) and len(changes) == 10
        dev_iam, prod_s3 = workspace.cloud.client("iam", "dev"), workspace.cloud.client("s3", "prod")
        # The provider's assumed role put the bucket in the data account; the rest is the deployer's account.
        bucket = outputs["bucketName"].value
        assert prod_s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
        attached = dev_iam.list_attached_role_policies(RoleName="idioms-reader")["AttachedPolicies"]
        assert sorted(p["PolicyName"] for p in attached) == ["AWSLambdaBasicExecutionRole", "idioms-read"]
        # The code: the app directory at the archive's root, and settings.json beside it.
        response = workspace.cloud.client("lambda", "dev").invoke(FunctionName=outputs["functionName"].value)
        assert json.loads(response["Payload"].read()) == {"text": "hello from the data account"}
        # The access key's secret is a secret output, as the provider marks it.
        assert outputs["secretAccessKey"].secret and len(outputs["secretAccessKey"].value) == 40
        assert not outputs["accessKeyId"].secret

        again, changes = deploy("dev", workspace.target, state_dir, project_dir=project)
        assert changes == [] and again["secretAccessKey"].value == outputs["secretAccessKey"].value
    finally:
        destroy("dev", workspace.target, state_dir, project_dir=project)
    assert "idioms-reader" not in roles(workspace, "dev")
    with pytest.raises(ClientError):
        workspace.cloud.client("s3", "prod").head_bucket(Bucket=outputs["bucketName"].value)


def test_two_projects_dev_stacks_are_two_stacks_and_a_reference_reads_the_other_project_s(workspace, state_dir):
    producer, consumer = PROGRAMS / "producer", PROGRAMS / "consumer"
    with pytest.raises(MissingStack, match=r"organization/producer/dev is not deployed"):
        deploy("dev", workspace.target, state_dir, project_dir=consumer)
    assert "consumer-dev" not in roles(workspace, "dev")
    shared, _ = deploy("dev", workspace.target, state_dir, project_dir=producer)
    try:
        heard, _ = deploy("dev", workspace.target, state_dir, project_dir=consumer)
        assert heard["sharedRoleArn"].value == shared["roleArn"].value == f"arn:aws:iam::{PROD}:role/producer-shared"
        for project in ("producer", "consumer"):
            assert state_paths(state_dir, StackName("organization", project, "dev"))[0].exists()
        destroy("dev", workspace.target, state_dir, project_dir=consumer)
        assert "producer-shared" in roles(workspace, "prod"), "destroying one project's dev left the other's alone"
    finally:
        destroy("dev", workspace.target, state_dir, project_dir=consumer)
        destroy("dev", workspace.target, state_dir, project_dir=producer)
    with pytest.raises(MissingStack):  # destroyed: its outputs are gone too
        deploy("dev", workspace.target, state_dir, project_dir=consumer)
