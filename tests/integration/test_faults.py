"""The deployed writer Lambda (dev's, grant dev-writer) under faults injected in the gate (localcloud.faults):
throttled STS, S3 SlowDown, connections dropped before and after S3 stored the object, and a session that expires
mid-run.

Whatever happens, the function writes exactly one object, in one version, with the event's bytes, or answers
an error and writes nothing. Retries are botocore's, in the function's worker: the code under test.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from localcloud.faults import DROP_AFTER, DROP_BEFORE, EXPIRED_TOKEN, THROTTLE, FaultPlan, install_faults
from localcloud_pulumi.workspace import Workspace
from tests.integration.conftest import WRITER_STACK, DeployedGrant, keys_in, recycle_workers

pytestmark = pytest.mark.integration

BUDGET = 3  # the handler's total_max_attempts


@pytest.fixture
def faults(workspace: Workspace) -> Iterator[FaultPlan]:
    assert workspace.cloud.gate is not None
    plan = install_faults(workspace.cloud.gate)
    plan.fired.clear()
    yield plan
    plan.clear()


@pytest.fixture
def run(workspace: Workspace, dev_lambda: Any) -> Any:
    """Invoke the function; its status, its body, and its JSON log line (from the log tail)."""
    function = workspace.output(WRITER_STACK, "functionName")

    def run_lambda(event: dict[str, str]) -> tuple[int, dict[str, Any], dict[str, Any]]:
        response = dev_lambda.invoke(FunctionName=function, Payload=json.dumps(event).encode(), LogType="Tail")
        result = json.loads(response["Payload"].read())
        assert "FunctionError" not in response, result
        tail = base64.b64decode(response["LogResult"]).decode()
        [line] = [json.loads(text) for text in tail.splitlines() if text.startswith('{"function"')]
        return result["statusCode"], json.loads(result["body"]), line

    return run_lambda


@pytest.fixture
def key() -> str:
    return f"faults/{uuid.uuid4()}.txt"


@pytest.fixture(scope="module")
def execution_role(workspace: Workspace) -> str:
    return workspace.output(WRITER_STACK, "executionRoleArn")


@pytest.fixture(scope="module")
def prefix(dev_writer: DeployedGrant) -> str:
    """The writer's grant's prefix: where the function writes."""
    return dev_writer.key_prefix


@pytest.fixture(scope="module")
def role_arn(dev_writer: DeployedGrant) -> str:
    """The writer's grant's role, which the function assumes."""
    return dev_writer.role_arn


def versions(prod_s3: Any, bucket: str, key: str) -> list[dict[str, Any]]:
    listed = prod_s3.list_object_versions(Bucket=bucket, Prefix=key)
    return [v for v in listed.get("Versions", []) if v["Key"] == key]


def assert_one_object(prod_s3: Any, bucket: str, key: str, content: bytes) -> None:
    [version] = versions(prod_s3, bucket, key)
    assert prod_s3.get_object(Bucket=bucket, Key=key, VersionId=version["VersionId"])["Body"].read() == content


def test_sts_throttled_twice_is_retried_and_writes_one_object(
    workspace: Workspace, faults: FaultPlan, run: Any, prod_s3: Any, bucket: str, prefix: str, key: str,
    execution_role: str,
) -> None:
    recycle_workers(workspace, WRITER_STACK)  # a cold worker: it must assume the role during this invocation
    with faults.throttle("sts:AssumeRole", times=2, principal=execution_role):
        status, body, log = run({"key": key, "body": "throttled twice"})

    assert status == 200, body
    assert faults.fired_count(THROTTLE, "sts:AssumeRole") == 2
    assert_one_object(prod_s3, bucket, prefix + key, b"throttled twice")


def test_sts_throttled_beyond_the_retry_budget_is_a_502_and_writes_nothing(
    workspace: Workspace, faults: FaultPlan, run: Any, prod_s3: Any, bucket: str, prefix: str, key: str,
    execution_role: str, role_arn: str,
) -> None:
    recycle_workers(workspace, WRITER_STACK)
    with faults.throttle("sts:AssumeRole", times=BUDGET, principal=execution_role):
        status, body, log = run({"key": key, "body": "never"})

    assert (status, body["error"]) == (502, "Throttling"), body
    assert "Throttling" in body["message"] and role_arn in body["message"]
    assert faults.fired_count(THROTTLE) == BUDGET
    assert keys_in(prod_s3, bucket, prefix + key) == set()


def test_s3_slow_down_twice_is_retried_and_writes_one_version(
    faults: FaultPlan, run: Any, prod_s3: Any, bucket: str, prefix: str, key: str, role_arn: str
) -> None:
    with faults.throttle("s3:PutObject", times=2, principal=role_arn):
        status, body, log = run({"key": key, "body": "slowed down twice"})

    assert status == 200, body
    assert faults.fired_count(THROTTLE, "s3:PutObject") == 2
    assert_one_object(prod_s3, bucket, prefix + key, b"slowed down twice")


def test_s3_slow_down_beyond_the_retry_budget_is_a_502_and_writes_nothing(
    faults: FaultPlan, run: Any, prod_s3: Any, bucket: str, prefix: str, key: str, role_arn: str
) -> None:
    with faults.throttle("s3:PutObject", times=BUDGET, principal=role_arn):
        status, body, log = run({"key": key, "body": "never"})

    assert (status, body["error"]) == (502, "SlowDown"), body
    assert faults.fired_count(THROTTLE, "s3:PutObject") == BUDGET
    assert keys_in(prod_s3, bucket, prefix + key) == set()


@pytest.mark.parametrize("caller_key", [True, False], ids=["caller-key", "generated-key"])
def test_connection_dropped_after_the_write_leaves_exactly_one_version(
    faults: FaultPlan, run: Any, prod_s3: Any, bucket: str, prefix: str, key: str, role_arn: str,
    caller_key: bool,
) -> None:
    event = {"key": key, "body": "written once"} if caller_key else {"body": "written once"}
    with faults.drop_connection("s3:PutObject", when="after", principal=role_arn):
        status, body, log = run(event)

    assert status == 200, body
    [fired] = faults.fired
    assert (fired.kind, fired.status) == (DROP_AFTER, "200 OK")  # stored; the function never heard
    assert log["lost_response_recovered"] is True  # its retry got 412 and found its own write
    assert_one_object(prod_s3, bucket, body["key"], b"written once")
    assert body["etag"] == versions(prod_s3, bucket, body["key"])[0]["ETag"]


def test_connection_dropped_before_the_write_is_retried_and_writes_one_object(
    faults: FaultPlan, run: Any, prod_s3: Any, bucket: str, prefix: str, key: str, role_arn: str
) -> None:
    with faults.drop_connection("s3:PutObject", when="before", principal=role_arn):
        status, body, log = run({"key": key, "body": "second attempt"})

    assert status == 200, body
    assert faults.fired_count(DROP_BEFORE) == 1
    assert_one_object(prod_s3, bucket, prefix + key, b"second attempt")


def test_session_expiring_mid_run_is_replaced_by_one_new_assume_role(
    workspace: Workspace, faults: FaultPlan, run: Any, prod_s3: Any, bucket: str, prefix: str, key: str,
    role_arn: str,
) -> None:
    gate = workspace.cloud.gate
    assert gate is not None
    recycle_workers(workspace, WRITER_STACK)
    assert run({"key": f"{key}.warm", "body": "warm"})[0] == 200  # the worker now holds role credentials
    session = [d for d in gate.decisions_for("s3:PutObject") if d.principal.startswith(
        role_arn.replace(":iam::", ":sts::").replace(":role/", ":assumed-role/"))][-1].access_key_id
    assume_roles = gate.calls["sts:AssumeRole"]

    with faults.expire_credentials(session):
        status, body, log = run({"key": key, "body": "after expiry"})

    assert status == 200, body
    assert faults.fired_count(EXPIRED_TOKEN, "s3:PutObject") == 1
    assert gate.calls["sts:AssumeRole"] - assume_roles == 1
    assert log["credentials_refreshed"] is True
    assert_one_object(prod_s3, bucket, prefix + key, b"after expiry")
