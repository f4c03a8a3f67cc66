"""A fresh localcloud with both stacks deployed from the committed configs, one per test module.

The tests talk to it with plain boto3 clients, as they would to AWS; only the set-up (and the admin changes
a denial case makes and undoes) knows it is localcloud.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from localcloud.workspace import Workspace

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    state_dir: Path = tmp_path_factory.mktemp("localcloud")
    with Workspace.start(state_dir) as running:
        running.deploy_all()
        yield running


@pytest.fixture(scope="module")
def bucket(workspace: Workspace) -> str:
    return workspace.output("prod", "bucketName")


@pytest.fixture(scope="module")
def prefix(workspace: Workspace) -> str:
    return workspace.output("prod", "keyPrefix")


@pytest.fixture(scope="module")
def role_arn(workspace: Workspace) -> str:
    return workspace.output("prod", "roleArn")


@pytest.fixture(scope="module")
def external_id(workspace: Workspace) -> str:
    return workspace.output("prod", "externalId")


@pytest.fixture(scope="module")
def prod_s3(workspace: Workspace) -> Any:
    """The prod deployer's S3 client: how tests check what is (not) in the bucket."""
    return workspace.cloud.client("s3", "prod")


@pytest.fixture(scope="module")
def dev_lambda(workspace: Workspace) -> Any:
    return workspace.cloud.client("lambda", "dev")


@pytest.fixture
def object_key(prefix: str) -> str:
    """A key under the prefix that no other test writes."""
    return f"{prefix}tests/{uuid.uuid4()}.txt"


def keys_in(s3: Any, bucket: str) -> set[str]:
    pages = s3.get_paginator("list_object_versions").paginate(Bucket=bucket)
    return {v["Key"] for page in pages for v in page.get("Versions", [])}


def invoke(dev_lambda: Any, function: str, event: Any) -> tuple[dict[str, Any], str | None]:
    """The handler's response and Lambda's function-error type, if any."""
    response = dev_lambda.invoke(FunctionName=function, Payload=json.dumps(event).encode())
    return json.loads(response["Payload"].read()), response.get("FunctionError")


def recycle_workers(workspace: Workspace) -> None:
    """A configuration change, as an operator would make it, so the next invocation starts a fresh worker
    (warm workers keep the credentials they already hold, as on AWS)."""
    workspace.cloud.client("lambda", "dev").update_function_configuration(
        FunctionName=workspace.output("dev", "functionName"), Description=f"recycled {uuid.uuid4()}")


@pytest.fixture(scope="module")
def dev_user_credentials(workspace: Workspace) -> dict[str, str]:
    """The dev-user profile's MFA-backed session credentials, as `up` wrote them."""
    import configparser

    parser = configparser.ConfigParser()
    parser.read(workspace.state_dir / "aws" / "credentials")
    return dict(parser["dev-user"])
