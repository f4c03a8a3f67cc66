"""The mission, end to end: the dev Lambda writes an object that lands in the prod bucket."""

from __future__ import annotations

import json
import os

import boto3
import pytest

from tests.integration.conftest import invoke, keys_in

pytestmark = pytest.mark.integration


def test_lambda_writes_object_that_lands_in_prod_bucket(workspace, dev_lambda, prod_s3, bucket, object_key, prefix):
    relative = object_key[len(prefix):]
    body = "written by the dev Lambda through the prod role"
    result, error = invoke(dev_lambda, workspace.output("dev", "functionName"),
                           {"key": relative, "body": body, "content_type": "text/plain"})
    assert error is None and result["statusCode"] == 200, result
    written = json.loads(result["body"])
    assert written["bucket"] == bucket and written["key"] == object_key
    stored = prod_s3.get_object(Bucket=bucket, Key=object_key)
    assert stored["Body"].read() == body.encode()
    assert stored["VersionId"] == written["versionId"]
    assert stored["ServerSideEncryption"] == "AES256"


def test_warm_lambda_assumes_the_role_once_for_many_invocations(workspace, dev_lambda):
    function = workspace.output("dev", "functionName")
    invoke(dev_lambda, function, {"body": "warm-up"})
    before = workspace.cloud.gate.calls["sts:AssumeRole"]
    for n in range(5):
        result, _ = invoke(dev_lambda, function, {"body": f"warm {n}"})
        assert result["statusCode"] == 200
    assert workspace.cloud.gate.calls["sts:AssumeRole"] == before


def test_invalid_event_is_rejected_and_nothing_is_written(workspace, dev_lambda, prod_s3, bucket):
    before = keys_in(prod_s3, bucket)
    result, error = invoke(dev_lambda, workspace.output("dev", "functionName"), {"key": "../escape.txt"})
    assert error is None and result["statusCode"] == 400
    assert "'..'" in json.loads(result["body"])["message"]
    assert keys_in(prod_s3, bucket) == before


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
