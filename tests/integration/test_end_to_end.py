"""The mission, end to end, for every grant: dev's writer writes an object that lands in the prod bucket, and
analytics' reader reads exactly those bytes back; each consumer's user, through its CLI profile, may do what its
grant allows and nothing else.

The tests taking `deployment` run offline against localcloud and, with `pytest -m live`, against the stacks
deployed in real AWS; the rest need localcloud's view from inside (its gate, its profiles, the prod deployer
writing into the bucket).
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest

from localcloud_pulumi.workspace import Workspace
from tests.integration.conftest import (
    READER_STACK,
    WRITER_STACK,
    Deployment,
    DeployedGrant,
    assert_denied,
    invoke,
    invoke_consumer,
    unchanged,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def written(deployment: Deployment) -> Iterator[Callable[[str], dict[str, Any]]]:
    """``written(body)``: the writer's answer to writing ``body`` under a fresh key; every object written this way
    is deleted afterwards, its version too (leave nothing behind in a real bucket)."""
    objects: list[dict[str, Any]] = []

    def write(body: str) -> dict[str, Any]:
        relative = f"integration/{uuid.uuid4()}.txt"
        result, error = deployment.invoke(WRITER_STACK, {"key": relative, "body": body, "content_type": "text/plain"})
        assert error is None and result["statusCode"] == 200, result
        answer = json.loads(result["body"])
        objects.append(answer)
        return answer

    yield write
    s3 = deployment.s3()
    for answer in objects:
        s3.delete_object(Bucket=answer["bucket"], Key=answer["key"],
                         **({"VersionId": answer["versionId"]} if answer.get("versionId") else {}))


def test_dev_writer_writes_an_object_that_lands_in_the_prod_bucket(deployment: Deployment, written):
    bucket, prefix = deployment.prod["bucketName"], deployment.grant(WRITER_STACK)["keyPrefix"]
    body = f"written by the dev Lambda through the dev-writer role, {uuid.uuid4()}"
    answer = written(body)
    assert answer["bucket"] == bucket and answer["key"].startswith(f"{prefix}integration/")
    stored = deployment.s3().get_object(Bucket=bucket, Key=answer["key"])
    assert stored["Body"].read() == body.encode()
    assert stored.get("VersionId") == answer["versionId"]
    # The bucket's default encryption, as prod exports it: its own KMS key (with S3 Bucket Keys), or SSE-S3.
    if deployment.prod.get("encryption") == "kms":
        assert (stored["ServerSideEncryption"], stored["SSEKMSKeyId"]) == ("aws:kms", deployment.prod["kmsKeyArn"])
        assert stored["BucketKeyEnabled"] is True
    else:
        assert stored["ServerSideEncryption"] == "AES256"


def test_analytics_reader_reads_back_exactly_the_bytes_dev_wrote(deployment: Deployment, written):
    reader_prefix = deployment.grant(READER_STACK)["keyPrefix"]
    body = f"ünïcode and lines\nfrom dev to analytics, {uuid.uuid4()}"
    answer = written(body)
    assert answer["key"].startswith(reader_prefix), "the reader's grant must cover what the writer writes"
    result, error = deployment.invoke(READER_STACK, {"key": answer["key"][len(reader_prefix):]})
    assert error is None and result["statusCode"] == 200, result
    read = json.loads(result["body"])
    assert read == {"bucket": answer["bucket"], "key": answer["key"], "size": len(body.encode()),
                    "contentType": read["contentType"], "versionId": answer["versionId"], "encoding": "utf-8",
                    "body": body}
    assert read["contentType"].startswith("text/plain")


def test_analytics_reader_returns_a_binary_object_base64_encoded(workspace: Workspace, prod_s3, bucket,
                                                                 analytics_reader: DeployedGrant):
    content = bytes(range(256)) + b"\xff\xfe not UTF-8"
    key = analytics_reader.key(f"integration/{uuid.uuid4()}.bin")
    put = prod_s3.put_object(Bucket=bucket, Key=key, Body=content, ContentType="application/octet-stream")
    status, read = invoke_consumer(workspace, READER_STACK, {"key": key[len(analytics_reader.key_prefix):]})
    assert status == 200, read
    assert (read["encoding"], read["size"], read["contentType"]) == ("base64", len(content), "application/octet-stream")
    assert base64.b64decode(read["body"]) == content
    assert (read["key"], read["versionId"]) == (key, put["VersionId"])


def test_analytics_reader_answers_a_missing_key_with_404_though_s3_answers_its_role_403(deployment: Deployment):
    """The grant's role may list only with s3:prefix, so S3 answers GetObject of a missing key with 403
    (API_GetObject.html, "Permissions"); the reader lists the key's prefix and says 404."""
    result, error = deployment.invoke(READER_STACK, {"key": f"integration/{uuid.uuid4()}.absent"})
    assert error is None and result["statusCode"] == 404, result
    assert json.loads(result["body"])["error"] == "NoSuchKey"


@pytest.mark.parametrize("stack", [WRITER_STACK, READER_STACK])
def test_invalid_event_is_rejected_before_anything_is_written(deployment: Deployment, stack: str):
    s3, bucket = deployment.s3(), deployment.prod["bucketName"]
    with unchanged(s3, bucket, deployment.grant(stack)["keyPrefix"]):
        result, error = invoke(deployment.lambda_client(stack), deployment.consumer(stack)["functionName"],
                               {"key": "../escape.txt"})
    assert error is None and result["statusCode"] == 400, result
    answer = json.loads(result["body"])
    assert answer["error"] == "InvalidEvent" and "'..'" in answer["message"]


@pytest.mark.parametrize("stack", [WRITER_STACK, READER_STACK])
def test_warm_function_assumes_its_grant_role_once_for_many_invocations(workspace: Workspace, prod_s3, bucket,
                                                                        grant, stack: str):
    prefix = grant(workspace.output(stack, "grant")).key_prefix
    relative = f"warm/{uuid.uuid4()}.txt"
    prod_s3.put_object(Bucket=bucket, Key=prefix + relative, Body=b"read me")  # for the reader
    events = ({"body": f"warm {n}"} if stack == WRITER_STACK else {"key": relative} for n in range(6))
    gate = workspace.cloud.gate
    assert gate is not None
    assert invoke_consumer(workspace, stack, next(events))[0] == 200  # warm-up
    before = gate.calls["sts:AssumeRole"]
    assert [invoke_consumer(workspace, stack, event)[0] for event in events] == [200] * 5
    assert gate.calls["sts:AssumeRole"] == before


def test_cli_profile_prod_dev_writer_lists_and_writes_under_the_prefix(workspace: Workspace, aws_cli_environment,
                                                                     bucket, dev_writer: DeployedGrant):
    # What `. .localcloud/env.sh && aws --profile prod-dev-writer ...` does: botocore's assume-role provider with
    # source_profile dev-user (MFA-backed session credentials) and the external ID.
    session = boto3.Session(profile_name=f"prod-{dev_writer.name}")
    s3 = session.client("s3")
    key = dev_writer.key()
    s3.put_object(Bucket=bucket, Key=key, Body=b"from the CLI profile")
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=dev_writer.key_prefix)
    assert key in [o["Key"] for o in listed.get("Contents", [])]
    identity = session.client("sts").get_caller_identity()
    assert identity["Arn"].startswith(f"arn:aws:sts::{workspace.cloud.account_id('prod')}:assumed-role/"
                                      f"{dev_writer.role_name}/")


def test_cli_profile_prod_analytics_reader_reads_and_lists_but_cannot_write(workspace: Workspace,
                                                                           aws_cli_environment, prod_s3, bucket,
                                                                           analytics_reader: DeployedGrant):
    key = analytics_reader.key()
    prod_s3.put_object(Bucket=bucket, Key=key, Body=b"for the analysts")
    session = boto3.Session(profile_name=f"prod-{analytics_reader.name}")
    s3 = session.client("s3")
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == b"for the analysts"
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=analytics_reader.key_prefix)
    assert key in [o["Key"] for o in listed.get("Contents", [])]
    with unchanged(prod_s3, bucket):
        assert_denied(lambda: s3.put_object(Bucket=bucket, Key=analytics_reader.key(), Body=b"no"))
        assert_denied(lambda: s3.put_object(Bucket=bucket, Key=key, Body=b"overwritten"))
    identity = session.client("sts").get_caller_identity()
    user = workspace.output(READER_STACK, "assumeGroupUserArns")[0].split("/")[-1]
    assert identity["Arn"] == (f"arn:aws:sts::{workspace.cloud.account_id('prod')}:assumed-role/"
                               f"{analytics_reader.role_name}/{user}-cli")
