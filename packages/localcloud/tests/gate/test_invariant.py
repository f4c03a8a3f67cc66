"""The invariant: moto executes exactly what the gate authorized, or the request fails loudly.

First the comparison alone (``invariant.violations``) on what moto's hooks report; then end to end, a gate whose
reading is made to differ from moto's on purpose must answer 500 and record the difference.
"""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from localcloud.actions import ActionPlan, Check
from localcloud.gate import invariant, reading
from localcloud.moto_adapter import Execution
from localcloud.server import LocalCloud
from localcloud_testing.builders import DEV, Builder


def s3_plan(operation: str, bucket: str, key: str | None, action: str = "s3:PutObject") -> ActionPlan:
    resource = f"arn:aws:s3:::{bucket}/{key}" if key else f"arn:aws:s3:::{bucket}"
    return ActionPlan("s3", operation, "rest-xml", (Check(action, resource, DEV, bucket=bucket),),
                      {"Bucket": bucket, "Key": key})


def test_the_authorized_object_written_is_no_violation() -> None:
    executions = [Execution("action", "s3", "PutObject", "own", "incoming/a"),
                  Execution("s3", "s3", "put_object", "own", "incoming/a")]
    assert invariant.violations(s3_plan("PutObject", "own", "incoming/a"), executions) == []


def test_another_key_written_is_a_violation() -> None:
    executions = [Execution("action", "s3", "PutObject", "own", "incoming/a"),
                  Execution("s3", "s3", "complete_multipart_upload", "own", "private/b")]
    problems = invariant.violations(s3_plan("CompleteMultipartUpload", "own", "incoming/a"), executions)
    assert problems and "own/private/b" in problems[0]


def test_another_bucket_is_a_violation() -> None:
    executions = [Execution("action", "s3", "PutObject", "prod-data", "x")]
    assert "prod-data" in invariant.violations(s3_plan("PutObject", "own", "x"), executions)[0]


def test_another_s3_operation_is_a_violation() -> None:
    executions = [Execution("action", "s3", "RestoreObject", "own", "k"),
                  Execution("s3", "s3", "restore_object", "own", "k")]
    problems = invariant.violations(s3_plan("CreateMultipartUpload", "own", "k"), executions)
    assert problems == ["moto ran the S3 backend's restore_object; the gate authorized CreateMultipartUpload"]


KEY = "arn:aws:kms:eu-west-1:222222222222:key/1234abcd-12ab-34cd-56ef-1234567890ab"
OTHER_KEY = "arn:aws:kms:eu-west-1:222222222222:key/0000abcd-12ab-34cd-56ef-1234567890ab"


def kms_plan(operation: str, key: str = KEY) -> ActionPlan:
    return ActionPlan("kms", operation, "json", (Check(f"kms:{operation}", key, DEV, key_policy=True),),
                      {"KeyId": key})


def test_the_authorized_kms_key_is_no_violation() -> None:
    executions = [Execution("action", "kms", "Encrypt"), Execution("param", "kms", "KeyId", value=KEY),
                  Execution("kms", "kms", "encrypt", key=KEY)]
    assert invariant.violations(kms_plan("Encrypt"), executions) == []


def test_another_kms_key_acted_on_is_a_violation() -> None:
    """moto resolving a key the gate did not authorize (a reserved alias it creates a key for, say) is caught."""
    executions = [Execution("action", "kms", "Encrypt"), Execution("kms", "kms", "create_alias", key=OTHER_KEY)]
    problems = invariant.violations(kms_plan("Encrypt"), executions)
    assert problems and OTHER_KEY in problems[0]


def test_a_kms_key_id_read_differently_is_a_violation() -> None:
    executions = [Execution("action", "kms", "Encrypt"), Execution("param", "kms", "KeyId", value="alias/other")]
    assert any("KeyId='alias/other'" in p for p in invariant.violations(kms_plan("Encrypt"), executions))


def test_another_query_operation_is_a_violation() -> None:
    plan = ActionPlan("sts", "GetCallerIdentity", "query", (Check("sts:GetCallerIdentity", "*", DEV),), {})
    executions = [Execution("action", "iam", "ListUsers")]
    problems = invariant.violations(plan, executions)
    assert any("iam operation (ListUsers)" in problem for problem in problems)


def test_a_resource_parameter_read_differently_is_a_violation() -> None:
    plan = ActionPlan("iam", "ListAttachedRolePolicies", "query",
                      (Check("iam:ListAttachedRolePolicies", f"arn:aws:iam::{DEV}:role/app", DEV),),
                      {"Action": "ListAttachedRolePolicies", "RoleName": "app"})
    executions = [Execution("action", "iam", "ListAttachedRolePolicies"),
                  Execution("param", "iam", "UserName", value="admin")]
    assert invariant.violations(plan, executions) == [
        "moto read UserName='admin' for ListAttachedRolePolicies; the gate authorized UserName=None"]


def test_nothing_executed_is_a_violation() -> None:
    assert invariant.violations(s3_plan("PutObject", "own", "k"), []) == [
        "moto ran no operation for s3:PutObject"]


def test_a_reading_that_differs_from_moto_fails_the_request(
    cloud: LocalCloud, build: Builder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A deliberately broken reading (moto is handed another key than the one authorized) answers 500
    InternalFailure naming both, and is recorded where the suite's autouse check looks."""
    bucket = build.bucket("dev")
    original = reading.moto_environ

    def another_key(*args: Any, **kwargs: Any) -> dict[str, Any]:
        environ = original(*args, **kwargs)
        if environ["REQUEST_METHOD"] == "PUT" and environ["PATH_INFO"].endswith("/authorized"):
            environ["RAW_URI"] = environ["REQUEST_URI"] = environ["RAW_URI"].replace("/authorized", "/elsewhere")
            environ["PATH_INFO"] = environ["PATH_INFO"].replace("/authorized", "/elsewhere")
        return environ

    monkeypatch.setattr(reading, "moto_environ", another_key)
    s3 = cloud.client("s3", "dev")
    with invariant.expected() as caught, pytest.raises(ClientError) as raised:
        s3.put_object(Bucket=bucket, Key="authorized", Body=b"x")

    assert raised.value.response["Error"]["Code"] == "InternalFailure"
    assert len(caught) >= 1 and f"{bucket}/elsewhere" in caught[0]
    assert cloud.gate is not None
    assert any(f"{bucket}/elsewhere" in message for message in cloud.gate.violations)
