"""This project's stacks through the deploy driver: order (prod first), config errors, updates, destroy, and
unchanged redeploys of every committed stack."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from components.settings import ConfigError
from localcloud_pulumi.deploy import DeployError, deploy, destroy
from localcloud_pulumi.workspace import Workspace
from offline import stacks
from offline.stacks import CONSUMERS, DATA_STACK, PROJECT_DIR, STACKS
from tests.project import stack_config

STATE_FILE = Path("stacks") / "organization" / "cross-account-s3"


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    with stacks.start(tmp_path_factory.mktemp("localcloud")) as running:
        yield running


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    return tmp_path / "state"


def roles(workspace: Workspace, account: str) -> set[str]:
    return {r["RoleName"] for r in workspace.cloud.client("iam", account).list_roles()["Roles"]}


def grants_config(*grants: dict[str, Any], **extra: str) -> dict[str, str]:
    """prod's committed config with these grants (and other keys of the project's namespace)."""
    return stack_config(DATA_STACK) | {"cross-account-s3:grants": json.dumps(list(grants))} | {
        f"cross-account-s3:{key}": value for key, value in extra.items()}


def committed_grants() -> list[dict[str, Any]]:
    return json.loads(stack_config(DATA_STACK)["cross-account-s3:grants"])


def test_the_committed_stacks_deploy_prod_first_then_the_consumers_by_name():
    assert STACKS == (DATA_STACK, "analytics", "dev") and CONSUMERS == STACKS[1:]


@pytest.mark.parametrize("consumer", CONSUMERS)
def test_deploying_a_consumer_before_prod_says_to_deploy_prod_first_and_writes_nothing(workspace, state_dir,
                                                                                        consumer):
    before = roles(workspace, consumer)
    with pytest.raises(DeployError, match=r"organization/cross-account-s3/prod is not deployed "
                                          r"\(python -m localcloud deploy -s prod\)"):
        deploy(consumer, workspace.target, state_dir, project_dir=PROJECT_DIR)
    assert roles(workspace, consumer) == before
    assert not (state_dir / STATE_FILE / f"{consumer}.json").exists()


def test_bad_config_fails_before_anything_is_created(workspace, state_dir):
    before = roles(workspace, DATA_STACK)
    [first, *rest] = committed_grants()
    config = grants_config(first | {"accountId": "not-an-account"}, *rest)
    problem = rf"cross-account-s3:grants\[{first['name']}\]\.accountId: expected a 12-digit"
    with pytest.raises(ConfigError, match=problem):
        deploy(DATA_STACK, workspace.target, state_dir, project_dir=PROJECT_DIR, config=config)
    assert roles(workspace, DATA_STACK) == before
    assert not (state_dir / STATE_FILE / "prod.json").exists()


def test_deploy_again_updates_a_grant_in_place_then_destroy_removes_everything(workspace, state_dir):
    # A grant of its own (its role is named after it), so this prod does not collide with another in this cloud.
    grant = committed_grants()[0] | {"name": "driver-test"}
    config = grants_config(grant, forceDestroy="true")
    outputs, changes = deploy(DATA_STACK, workspace.target, state_dir, project_dir=PROJECT_DIR, config=config)
    assert changes and all(c.startswith("+ create") for c in changes)
    assert {"+ create aws:iam/role:Role driver-test-role",
            "+ create aws:iam/rolePolicy:RolePolicy driver-test-bucket-access"} <= set(changes)
    assert deploy(DATA_STACK, workspace.target, state_dir, project_dir=PROJECT_DIR, config=config)[1] == []

    widened = grants_config(grant | {"userNames": [*grant["userNames"], "second-user"]}, forceDestroy="true")
    assert deploy(DATA_STACK, workspace.target, state_dir, project_dir=PROJECT_DIR, config=widened)[1] == [
        "~ update aws:iam/role:Role driver-test-role"]
    trust = workspace.cloud.client("iam", DATA_STACK).get_role(RoleName="cross-account-s3-driver-test")["Role"]
    document = trust["AssumeRolePolicyDocument"]
    assert "second-user" in (document if isinstance(document, str) else json.dumps(document))

    bucket = outputs["bucketName"].value
    workspace.cloud.client("s3", DATA_STACK).put_object(Bucket=bucket, Key=f"{grant['keyPrefix']}left-behind",
                                                        Body=b"x")
    removed = destroy(DATA_STACK, workspace.target, state_dir, project_dir=PROJECT_DIR, config=widened)
    assert len(removed) == len(changes) and all(c.startswith("- delete") for c in removed)
    assert "cross-account-s3-driver-test" not in roles(workspace, DATA_STACK)
    with pytest.raises(ClientError):
        workspace.cloud.client("s3", DATA_STACK).head_bucket(Bucket=bucket)
    assert not (state_dir / STATE_FILE / "prod.json").exists()


def test_every_committed_stack_redeploys_unchanged_with_no_changes(workspace, state_dir):
    """Redeploying a consumer used to fail: the SDK got the Lambda's code back as the digest state keeps of it."""
    prod = stack_config(DATA_STACK) | {"cross-account-s3:forceDestroy": "true"}
    config = {DATA_STACK: prod}
    deployed: list[str] = []
    try:
        for stack in STACKS:
            deploy(stack, workspace.target, state_dir, project_dir=PROJECT_DIR, config=config.get(stack))
            deployed.append(stack)
        code = {stack: [f["CodeSha256"] for f in workspace.cloud.client("lambda", stack).list_functions()["Functions"]]
                for stack in CONSUMERS}
        assert all(len(hashes) == 1 for hashes in code.values())

        for stack in STACKS:
            changes = deploy(stack, workspace.target, state_dir, project_dir=PROJECT_DIR, config=config.get(stack))[1]
            assert changes == [], stack
        assert {stack: [f["CodeSha256"] for f in workspace.cloud.client("lambda", stack).list_functions()["Functions"]]
                for stack in CONSUMERS} == code
    finally:
        for stack in reversed(deployed):
            destroy(stack, workspace.target, state_dir, project_dir=PROJECT_DIR, config=config.get(stack))
