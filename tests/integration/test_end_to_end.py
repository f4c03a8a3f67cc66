"""The mission, end to end: the dev Lambda writes an object that lands in the prod bucket.

The tests taking `deployment` run offline against localcloud and, with `pytest -m live`, against the stacks
deployed in real AWS; the rest need localcloud's view from inside (its gate, its profiles).
"""

from __future__ import annotations

import json
import os
import uuid

import boto3
import pytest

from tests.integration.conftest import Deployment, invoke, keys_in

pytestmark = pytest.mark.integration


def test_lambda_writes_object_that_lands_in_prod_bucket(deployment: Deployment):
    bucket, prefix = deployment.prod["bucketName"], deployment.prod["keyPrefix"]
    relative = f"integration/{uuid.uuid4()}.txt"
    body = f"written by the dev Lambda through the prod role, {uuid.uuid4()}"
    result, error = deployment.eventually(
        lambda: invoke(deployment.lambda_client(), deployment.dev["functionName"],
                       {"key": relative, "body": body, "content_type": "text/plain"}),
        lambda outcome: outcome[0].get("statusCode") == 200)
    assert error is None and result["statusCode"] == 200, result
    written = json.loads(result["body"])
    assert written == {**written, "bucket": bucket, "key": f"{prefix}{relative}"}
    s3 = deployment.s3()
    try:
        stored = s3.get_object(Bucket=bucket, Key=written["key"])
        assert stored["Body"].read() == body.encode()
        assert stored.get("VersionId") == written["versionId"]
        assert stored["ServerSideEncryption"] == "AES256"
    finally:
        # Leave nothing behind in a real bucket: the object and its version.
        s3.delete_object(Bucket=bucket, Key=written["key"], **(
            {"VersionId": written["versionId"]} if written.get("versionId") else {}))


def test_invalid_event_is_rejected_before_anything_is_written(deployment: Deployment):
    bucket = deployment.prod["bucketName"]
    before = keys_in(deployment.s3(), bucket, deployment.prod["keyPrefix"])
    result, error = invoke(deployment.lambda_client(), deployment.dev["functionName"], {"key": "../escape.txt"})
    assert error is None and result["statusCode"] == 400
    assert "'..'" in json.loads(result["body"])["message"]
    assert keys_in(deployment.s3(), bucket, deployment.prod["keyPrefix"]) == before


def test_warm_lambda_assumes_the_role_once_for_many_invocations(workspace, dev_lambda):
    function = workspace.output("dev", "functionName")
    invoke(dev_lambda, function, {"body": "warm-up"})
    before = workspace.cloud.gate.calls["sts:AssumeRole"]
    for n in range(5):
        result, _ = invoke(dev_lambda, function, {"body": f"warm {n}"})
        assert result["statusCode"] == 200
    assert workspace.cloud.gate.calls["sts:AssumeRole"] == before


def test_cli_profile_prod_writer_lists_and_writes_under_the_prefix(workspace, bucket, prefix, object_key,
                                                                    monkeypatch):
    # What `. .localcloud/env.sh && aws --profile prod-writer ...` does: botocore's assume-role provider
    # with source_profile dev-user (MFA-backed session credentials) and the external ID.
    for line in (workspace.state_dir / "env.sh").read_text().splitlines():
        if line.startswith("export "):
            name, _, value = line[len("export "):].partition("=")
            monkeypatch.setenv(name, value.strip("'"))
    monkeypatch.delenv("AWS_ACCESS_KEY_ID", raising=False)
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY", raising=False)
    s3 = boto3.Session(profile_name="prod-writer").client("s3")
    s3.put_object(Bucket=bucket, Key=object_key, Body=b"from the CLI profile")
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=prefix)
    assert object_key in [o["Key"] for o in listed.get("Contents", [])]
    identity = boto3.Session(profile_name="prod-writer").client("sts").get_caller_identity()
    assert identity["Arn"].startswith(f"arn:aws:sts::{workspace.cloud.account_id('prod')}:assumed-role/")
    assert os.environ["AWS_ENDPOINT_URL"] == workspace.cloud.endpoint
