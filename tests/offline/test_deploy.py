"""This project's stacks through the deploy driver: order, config errors, updates, destroy, and unchanged redeploys."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from localcloud_pulumi.deploy import DeployError, deploy, destroy
from localcloud_pulumi.workspace import Workspace
from offline import stacks
from offline.stacks import PROJECT_DIR
from tests.project import stack_config


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    with stacks.start(tmp_path_factory.mktemp("localcloud")) as running:
        yield running


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    return tmp_path / "state"


def roles(workspace: Workspace, account: str) -> set[str]:
    return {r["RoleName"] for r in workspace.cloud.client("iam", account).list_roles()["Roles"]}


def test_deploying_dev_before_prod_says_to_deploy_prod_first_and_writes_nothing(workspace, state_dir):
    before = roles(workspace, "dev")
    with pytest.raises(DeployError, match=r"organization/cross-account-s3/prod is not deployed \(python -m localcloud deploy -s prod\)"):
        deploy("dev", workspace.target, state_dir, project_dir=PROJECT_DIR)
    assert roles(workspace, "dev") == before
    assert not (state_dir / "stacks" / "organization" / "cross-account-s3" / "dev.json").exists()


def test_bad_config_fails_before_anything_is_created(workspace, state_dir):
    before = roles(workspace, "prod")
    config = stack_config("prod") | {"cross-account-s3:devAccountId": "not-an-account"}
    with pytest.raises(Exception, match="cross-account-s3:devAccountId: expected a 12-digit"):
        deploy("prod", workspace.target, state_dir, project_dir=PROJECT_DIR, config=config)
    assert roles(workspace, "prod") == before


def test_deploy_again_updates_in_place_then_destroy_removes_everything(workspace, state_dir):
    config = stack_config("prod") | {"cross-account-s3:roleName": "driver-test-writer",
                                     "cross-account-s3:forceDestroy": "true"}
    outputs, changes = deploy("prod", workspace.target, state_dir, project_dir=PROJECT_DIR, config=config)
    assert len(changes) == 8 and all(c.startswith("+ create") for c in changes)
    assert deploy("prod", workspace.target, state_dir, project_dir=PROJECT_DIR, config=config)[1] == []  # nothing changed

    widened = config | {"cross-account-s3:trustedUserNames": '["dev-user", "second-user"]'}
    assert deploy("prod", workspace.target, state_dir, project_dir=PROJECT_DIR, config=widened)[1] == ["~ update aws:iam/role:Role writer-role"]
    trust = workspace.cloud.client("iam", "prod").get_role(RoleName="driver-test-writer")["Role"]
    document = trust["AssumeRolePolicyDocument"]
    assert "second-user" in (document if isinstance(document, str) else json.dumps(document))

    bucket = outputs["bucketName"].value
    workspace.cloud.client("s3", "prod").put_object(Bucket=bucket, Key="incoming/left-behind", Body=b"x")
    changes = destroy("prod", workspace.target, state_dir, project_dir=PROJECT_DIR, config=widened)
    assert len(changes) == 8 and all(c.startswith("- delete") for c in changes)
    assert "driver-test-writer" not in roles(workspace, "prod")
    with pytest.raises(ClientError):
        workspace.cloud.client("s3", "prod").head_bucket(Bucket=bucket)
    assert not (state_dir / "stacks" / "organization" / "cross-account-s3" / "prod.json").exists()


def test_both_stacks_redeploy_unchanged_with_no_changes(workspace, state_dir):
    """Redeploying dev used to fail: the SDK got the Lambda's code back as the digest state keeps of it."""
    prod = stack_config("prod") | {"cross-account-s3:forceDestroy": "true"}
    deploy("prod", workspace.target, state_dir, project_dir=PROJECT_DIR, config=prod)
    deploy("dev", workspace.target, state_dir, project_dir=PROJECT_DIR)
    try:
        code = workspace.cloud.client("lambda", "dev").list_functions()["Functions"][0]["CodeSha256"]

        assert deploy("prod", workspace.target, state_dir, project_dir=PROJECT_DIR, config=prod)[1] == []
        assert deploy("dev", workspace.target, state_dir, project_dir=PROJECT_DIR)[1] == []
        assert workspace.cloud.client("lambda", "dev").list_functions()["Functions"][0]["CodeSha256"] == code
    finally:
        destroy("dev", workspace.target, state_dir, project_dir=PROJECT_DIR)
        destroy("prod", workspace.target, state_dir, project_dir=PROJECT_DIR, config=prod)


