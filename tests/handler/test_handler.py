"""Specs for the DEV-account Lambda that writes one object into the PROD bucket via the PROD role: what only the
writer does. What both Lambdas do (the role, errors, credentials, configuration, logging, packaging) is specified
once for both in test_both_functions.py."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from botocore.exceptions import ConnectionClosedError, EndpointConnectionError
from botocore.retries.standard import ExponentialBackoff
from moto.core.models import botocore_stubber

from lambda_handler import config, handler

from .conftest import (
    BUCKET,
    FUNCTION_NAME,
    KEY_PREFIX,
    ROLE_ARN,
    Accounts,
    LambdaContext,
    S3Script,
    StsCalls,
    Writer,
    load_event,
    log_lines,
    s3_answer,
)

Install = Callable[..., handler.RoleWriter]


invoke = Writer.invoke


# --- success -----------------------------------------------------------------------------------


def test_writes_object_under_prefix_and_returns_location(
    lambda_env: Accounts, sts_calls: StsCalls, context: LambdaContext
) -> None:
    status, body = invoke(load_event("text_object.json"), context)

    assert status == 200
    key = f"{KEY_PREFIX}reports/2024-06-01.txt"
    head = lambda_env.prod_s3.head_object(Bucket=BUCKET, Key=key)
    assert body == {
        "bucket": BUCKET,
        "key": key,
        "etag": head["ETag"],
        "versionId": head["VersionId"],
    }
    assert body["versionId"] is not None
    stored = lambda_env.prod_s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    assert stored == b"hello from the dev account\n"
    assert [call["RoleArn"] for call in sts_calls.params] == [ROLE_ARN]


def test_default_key_is_a_fresh_uuid_under_prefix(
    lambda_env: Accounts, context: LambdaContext
) -> None:
    keys = []
    for _ in range(2):
        status, body = invoke(load_event("default_object.json"), context)
        assert status == 200
        assert body["key"].startswith(KEY_PREFIX)
        keys.append(body["key"])

    assert keys[0] != keys[1]
    for key in keys:
        assert uuid.UUID(key.removeprefix(KEY_PREFIX)).version == 4


def test_default_body_is_a_json_record_of_the_invocation(
    lambda_env: Accounts, context: LambdaContext
) -> None:
    _, body = invoke({}, context)

    stored = lambda_env.prod_s3.get_object(Bucket=BUCKET, Key=body["key"])
    assert stored["ContentType"] == "application/json"
    document = json.loads(stored["Body"].read())
    assert document["function"] == FUNCTION_NAME
    assert document["request_id"] == context.aws_request_id
    assert datetime.fromisoformat(document["written_at"]).tzinfo is not None


@pytest.mark.parametrize(
    ("event", "stored_type"),
    [
        ({"body": "a,b\n1,2\n", "content_type": "text/csv"}, "text/csv"),
        ({"body": "plain"}, "text/plain; charset=utf-8"),
        ({"content_type": "application/vnd.example+json"}, "application/vnd.example+json"),
    ],
    ids=["given", "default-for-a-given-body", "given-for-the-default-body"],
)
def test_content_type_is_stored(
    lambda_env: Accounts, context: LambdaContext, event: dict[str, str], stored_type: str
) -> None:
    status, body = invoke(event, context)

    assert status == 200
    head = lambda_env.prod_s3.head_object(Bucket=BUCKET, Key=body["key"])
    assert head["ContentType"] == stored_type


# --- validation (the rest: test_both_functions.py) ----------------------------------------------


def test_body_at_the_limit_is_accepted(
    lambda_env: Accounts, monkeypatch: pytest.MonkeyPatch, context: LambdaContext
) -> None:
    monkeypatch.setenv("MAX_BODY_BYTES", "4")

    assert invoke({"body": "éé"}, context)[0] == 200
    status, body = invoke({"body": "ééé"}, context)
    assert (status, body["error"]) == (400, "InvalidEvent")
    assert "limit is 4 bytes (MAX_BODY_BYTES)" in body["message"]


# --- exactly one object: conditional writes, lost answers ---------------------------------------


SLOW_DOWN = s3_answer(503, "SlowDown", "Please reduce your request rate.")


def stored_then_lost(request: Any) -> None:
    """A scripted attempt: moto stores the object, then the connection drops before the answer."""
    botocore_stubber.process_request(request)
    raise ConnectionClosedError(endpoint_url=request.url)


def never_connected(request: Any) -> None:
    raise EndpointConnectionError(endpoint_url=request.url)


@pytest.fixture
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """botocore's standard retries without their (jittered, up to seconds) sleeps."""
    monkeypatch.setattr(ExponentialBackoff, "delay_amount", lambda self, context: 0)


def versions_of(accounts: Accounts, key: str) -> list[dict[str, Any]]:
    return [v for v in accounts.objects() if v["Key"] == key]


def test_put_is_conditional_and_carries_the_body_md5(
    lambda_env: Accounts, install_writer: Install, context: LambdaContext
) -> None:
    script = S3Script(install_writer(), "PutObject")

    status, body = invoke({"key": "md5.txt", "body": "exactly these bytes"}, context)

    assert status == 200
    [sent] = script.headers
    headers = {name: v.decode() if isinstance(v, bytes) else v for name, v in sent.items()}
    digest = hashlib.md5(b"exactly these bytes").digest()  # noqa: S324
    assert headers["If-None-Match"] == "*"
    assert headers["Content-MD5"] == base64.b64encode(digest).decode()
    assert body["etag"] == f'"{digest.hex()}"'


def test_an_existing_caller_key_is_a_409_and_is_left_alone(
    lambda_env: Accounts, context: LambdaContext, capsys: pytest.CaptureFixture[str]
) -> None:
    assert invoke({"key": "taken.txt", "body": "first"}, context)[0] == 200

    status, body = invoke({"key": "taken.txt", "body": "second"}, context)

    assert (status, body["error"]) == (409, "ObjectAlreadyExists")
    assert f"s3://{BUCKET}/{KEY_PREFIX}taken.txt already exists" in body["message"]
    assert "nothing was written" in body["message"]
    [version] = versions_of(lambda_env, f"{KEY_PREFIX}taken.txt")
    stored = lambda_env.prod_s3.get_object(Bucket=BUCKET, Key=version["Key"])["Body"].read()
    assert stored == b"first"
    assert [(line["status"], line["error"]) for line in log_lines(capsys)] == [
        (200, None), (409, "ObjectAlreadyExists")
    ]


@pytest.mark.parametrize("event", [{"key": "lost.txt", "body": "once"}, {"body": "once"}],
                         ids=["caller-key", "generated-key"])
def test_a_write_whose_answer_was_lost_is_found_not_repeated(
    lambda_env: Accounts, install_writer: Install, no_backoff: None, context: LambdaContext,
    capsys: pytest.CaptureFixture[str], event: dict[str, str],
) -> None:
    script = S3Script(install_writer(), "PutObject", stored_then_lost)

    status, body = invoke(event, context)

    assert status == 200, body
    [version] = versions_of(lambda_env, body["key"])
    assert lambda_env.prod_s3.get_object(Bucket=BUCKET, Key=body["key"])["Body"].read() == b"once"
    assert body["etag"] == version["ETag"]
    assert body["versionId"] is None  # it was in the answer that never arrived
    assert len(script.headers) == 2  # botocore's retry, answered 412 by moto
    [line] = log_lines(capsys)
    assert line["lost_response_recovered"] is True and line["status"] == 200


def test_a_lost_answer_and_someone_elses_object_at_the_key_is_a_409(
    lambda_env: Accounts, install_writer: Install, no_backoff: None, context: LambdaContext
) -> None:
    key = f"{KEY_PREFIX}raced.txt"

    def another_writer_wins(request: Any) -> None:
        lambda_env.prod_s3.put_object(Bucket=BUCKET, Key=key, Body=b"theirs")
        raise ConnectionClosedError(endpoint_url=request.url)

    S3Script(install_writer(), "PutObject", another_writer_wins)

    status, body = invoke({"key": "raced.txt", "body": "ours"}, context)

    assert (status, body["error"]) == (409, "ObjectAlreadyExists")
    [version] = versions_of(lambda_env, key)
    assert lambda_env.prod_s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == b"theirs"


@pytest.mark.parametrize("first_attempt", [SLOW_DOWN, never_connected],
                         ids=["slow-down", "never-connected"])
def test_an_identical_object_already_there_is_still_a_409_after_a_refused_attempt(
    lambda_env: Accounts, install_writer: Install, no_backoff: None, context: LambdaContext,
    first_attempt: Callable[[Any], Any],
) -> None:
    """A 412 on a retry proves nothing by itself: here no attempt could have stored anything."""
    key = f"{KEY_PREFIX}same.txt"
    lambda_env.prod_s3.put_object(Bucket=BUCKET, Key=key, Body=b"same")
    script = S3Script(install_writer(), "PutObject", first_attempt)

    status, body = invoke({"key": "same.txt", "body": "same"}, context)

    assert (status, body["error"]) == (409, "ObjectAlreadyExists")
    assert len(versions_of(lambda_env, key)) == 1
    assert len(script.headers) == 2


def test_answers_lost_on_every_attempt_give_a_502_that_says_the_object_may_be_there(
    lambda_env: Accounts, install_writer: Install, no_backoff: None, context: LambdaContext
) -> None:
    S3Script(install_writer(), "PutObject", stored_then_lost, stored_then_lost, stored_then_lost)

    status, body = invoke({"key": "unknown.txt", "body": "x"}, context)

    assert (status, body["error"]) == (502, "ConnectionClosedError")
    assert "may have stored the object" in body["message"]
    assert len(versions_of(lambda_env, f"{KEY_PREFIX}unknown.txt")) == 1  # and no more


def test_s3_slow_down_is_retried_by_botocore_and_writes_one_version(
    lambda_env: Accounts, install_writer: Install, no_backoff: None, context: LambdaContext
) -> None:
    script = S3Script(install_writer(), "PutObject", SLOW_DOWN, SLOW_DOWN)

    status, body = invoke({"key": "slow.txt", "body": "x"}, context)

    assert status == 200
    assert body["versionId"] is not None
    assert len(versions_of(lambda_env, body["key"])) == 1
    assert len(script.headers) == 3


def test_s3_slow_down_beyond_the_retry_budget_is_a_502_and_writes_nothing(
    lambda_env: Accounts, install_writer: Install, no_backoff: None, context: LambdaContext
) -> None:
    script = S3Script(install_writer(), "PutObject", SLOW_DOWN, SLOW_DOWN, SLOW_DOWN)

    status, body = invoke({"key": "slower.txt", "body": "x"}, context)

    assert (status, body["error"]) == (502, "SlowDown")
    assert lambda_env.objects() == []
    assert len(script.headers) == 3  # total_max_attempts


# --- the role session's name ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("function_name", "expected"),
    [
        ("writer", "writer"),
        ("my writer: v2!", "my-writer--v2-"),
        ("f" * 100, "f" * 64),
        ("é", config.FALLBACK_SESSION_NAME),
        ("", config.FALLBACK_SESSION_NAME),
    ],
)
def test_session_name_is_sanitised_for_sts(function_name: str, expected: str) -> None:
    assert config.session_name(function_name) == expected
