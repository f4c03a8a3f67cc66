"""Where the integration tests run: a fresh localcloud with both stacks deployed from the committed configs
(one for the package), or, with `pytest -m live`, the stacks deployed in real AWS.

The tests talk to either with plain boto3 clients through a `Deployment`; only the set-up (and the admin
changes a denial case makes and undoes, offline only) knows which it is.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import boto3
import pytest

from localcloud_pulumi.workspace import Workspace
from offline import stacks
from offline.profiles import write_project_profiles

LIVE_VARIABLES = ("LIVE_PROD_OUTPUTS", "LIVE_DEV_OUTPUTS", "LIVE_DEV_PROFILE", "LIVE_PROD_PROFILE")
T = TypeVar("T")


@dataclass
class Deployment:
    """Both stacks' outputs, a dev identity that may invoke the Lambda and a prod one that may read the bucket."""

    prod: Mapping[str, Any]
    dev: Mapping[str, Any]
    invoker: boto3.Session
    reader: boto3.Session
    client_args: Mapping[str, Any] = field(default_factory=dict)  # endpoint and CA bundle for localcloud
    # Real IAM is eventually consistent: retry a denied first call a few times there, never offline.
    retry_delays: tuple[float, ...] = ()

    def lambda_client(self) -> Any:
        return self.invoker.client("lambda", **self.client_args)

    def s3(self) -> Any:
        return self.reader.client("s3", **self.client_args)

    def eventually(self, attempt: Callable[[], T], done: Callable[[T], bool]) -> T:
        result = attempt()
        for delay in self.retry_delays:
            if done(result):
                break
            time.sleep(delay)
            result = attempt()
        return result


@pytest.fixture(scope="module", params=["localcloud", pytest.param("live", marks=pytest.mark.live)])
def deployment(request: pytest.FixtureRequest) -> Deployment:
    if request.param == "live":
        return _live_deployment()
    workspace: Workspace = request.getfixturevalue("workspace")
    outputs = {stack: {name: out.value for name, out in workspace.outputs[stack].items()} for stack in workspace.outputs}
    args = {"endpoint_url": workspace.cloud.endpoint, "verify": str(workspace.cloud.ca_bundle)}
    return Deployment(outputs["prod"], outputs["dev"], workspace.cloud.session("dev"),
                      workspace.cloud.session("prod"), args)


def _live_deployment() -> Deployment:
    missing = [name for name in LIVE_VARIABLES if not os.environ.get(name)]
    if missing:
        pytest.skip(f"live mode targets real AWS and needs {', '.join(LIVE_VARIABLES)} "
                    f"(missing: {', '.join(missing)}); see docs/ci.md")
    return Deployment(
        prod=json.loads(Path(os.environ["LIVE_PROD_OUTPUTS"]).read_text()),
        dev=json.loads(Path(os.environ["LIVE_DEV_OUTPUTS"]).read_text()),
        invoker=boto3.Session(profile_name=os.environ["LIVE_DEV_PROFILE"]),
        reader=boto3.Session(profile_name=os.environ["LIVE_PROD_PROFILE"]),
        retry_delays=(2, 4, 8, 16),
    )

# One deployment for the whole package: deploying both stacks is most of the suite's time. (Package scope, not
# session: localcloud's own tests start clouds of their own, and moto's state is one per process.)
@pytest.fixture(scope="package")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    state_dir: Path = tmp_path_factory.mktemp("localcloud")
    # No back-off between the function's botocore retries: test_faults throttles on purpose, and its assertions
    # are about attempts and writes, never time (the wait would be up to seconds per test, at random).
    with stacks.start(state_dir, retry_backoff=False) as running:
        stacks.deploy_all(running)
        write_project_profiles(running)
        yield running


@pytest.fixture(scope="package")
def bucket(workspace: Workspace) -> str:
    return workspace.output("prod", "bucketName")


@pytest.fixture(scope="package")
def prefix(workspace: Workspace) -> str:
    return workspace.output("prod", "keyPrefix")


@pytest.fixture(scope="package")
def role_arn(workspace: Workspace) -> str:
    return workspace.output("prod", "roleArn")


@pytest.fixture(scope="package")
def external_id(workspace: Workspace) -> str:
    return workspace.output("prod", "externalId")


@pytest.fixture(scope="package")
def prod_s3(workspace: Workspace) -> Any:
    """The prod deployer's S3 client: how tests check what is (not) in the bucket."""
    return workspace.cloud.client("s3", "prod")


@pytest.fixture(scope="package")
def dev_lambda(workspace: Workspace) -> Any:
    return workspace.cloud.client("lambda", "dev")


@pytest.fixture
def object_key(prefix: str) -> str:
    """A key under the prefix that no other test writes."""
    return f"{prefix}tests/{uuid.uuid4()}.txt"


def keys_in(s3: Any, bucket: str, prefix: str = "") -> set[str]:
    pages = s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix)
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


@pytest.fixture(scope="package")
def dev_user_credentials(workspace: Workspace) -> dict[str, str]:
    """The dev-user profile's MFA-backed session credentials, as `up` wrote them."""
    import configparser

    parser = configparser.ConfigParser()
    parser.read(workspace.state_dir / "aws" / "credentials")
    return dict(parser["dev-user"])
