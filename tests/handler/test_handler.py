"""Specs for the DEV-account Lambda that writes one object into the PROD bucket via the PROD role."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore.exceptions import ConnectionClosedError, EndpointConnectionError
from botocore.retries.standard import ExponentialBackoff
from moto.core.models import botocore_stubber

from lambda_handler import config, handler

from .conftest import (
    BUCKET,
    EXPIRED_TOKEN,
    FUNCTION_NAME,
    KEY_PREFIX,
    REGION,
    ROLE_ARN,
    Accounts,
    FakeClock,
    LambdaContext,
    StsCalls,
    load_event,
    log_lines,
    s3_answer,
    signing_keys,
    stubbed_sts,
)

MAX_KEY_BYTES = 1024 - len(KEY_PREFIX.encode())
Install = Callable[..., handler.RoleWriter]


def invoke(event: Any, context: object) -> tuple[int, dict[str, Any]]:  # any object: the handler getattr()s it
    response = handler.lambda_handler(event, context)
    assert set(response) == {"statusCode", "body"}
    return response["statusCode"], json.loads(response["body"])


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


def test_object_is_signed_with_the_assumed_role_not_the_execution_role(
    lambda_env: Accounts, install_writer: Install, sts_calls: StsCalls, context: LambdaContext
) -> None:
    keys = signing_keys(install_writer())

    status, _ = invoke({"key": "signed.txt", "body": "x"}, context)

    assert status == 200
    assert keys == [sts_calls.credentials[0]["AccessKeyId"]]
    assert keys[0] != lambda_env.dev_access_key_id


def test_execution_role_alone_cannot_write_to_the_prod_bucket(lambda_env: Accounts) -> None:
    """Sanity check of the fixture: without the role, DEV really is refused by (moto's) S3."""
    dev_s3 = botocore.session.Session().create_client("s3", region_name=REGION)

    with pytest.raises(dev_s3.exceptions.ClientError, match="AccessDenied"):
        dev_s3.put_object(Bucket=BUCKET, Key=f"{KEY_PREFIX}direct.txt", Body=b"x")


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


@pytest.mark.parametrize(
    ("prefix", "expected_key"),
    [("incoming", "incoming/a.txt"), ("in/coming/", "in/coming/a.txt"), ("", "a.txt")],
)
def test_prefix_is_normalised_to_end_with_a_slash(
    lambda_env: Accounts,
    monkeypatch: pytest.MonkeyPatch,
    context: LambdaContext,
    prefix: str,
    expected_key: str,
) -> None:
    monkeypatch.setenv("TARGET_KEY_PREFIX", prefix)

    status, body = invoke({"key": "a.txt"}, context)

    assert (status, body["key"]) == (200, expected_key)
    lambda_env.prod_s3.head_object(Bucket=BUCKET, Key=expected_key)


def test_key_of_exactly_the_maximum_length_is_accepted(
    lambda_env: Accounts, context: LambdaContext
) -> None:
    status, body = invoke({"key": "k" * MAX_KEY_BYTES, "body": ""}, context)

    assert status == 200
    assert len(body["key"].encode()) == 1024


# --- validation --------------------------------------------------------------------------------

INVALID_EVENTS = [
    pytest.param(["key"], "event", "JSON object", id="event-is-a-list"),
    pytest.param("hello", "event", "JSON object", id="event-is-a-string"),
    pytest.param(None, "event", "JSON object", id="event-is-null"),
    pytest.param({"kee": "a.txt"}, "kee", "allowed fields are 'body', 'content_type', 'key'",
                 id="unknown-field"),
    pytest.param({"key": 42}, "key", "must be a string", id="key-not-a-string"),
    pytest.param({"key": None}, "key", "must be a string", id="key-null"),
    pytest.param({"key": ""}, "key", "must not be empty", id="key-empty"),
    pytest.param({"key": "a/../b"}, "key", "'..'", id="key-dotdot-segment"),
    pytest.param({"key": ".."}, "key", "'..'", id="key-is-dotdot"),
    pytest.param({"key": "/etc/passwd"}, "key", "start with '/'", id="key-leading-slash"),
    pytest.param({"key": "a\\b"}, "key", "backslash", id="key-backslash"),
    pytest.param({"key": "a\x00b"}, "key", "control characters", id="key-nul"),
    pytest.param({"key": "a\nb"}, "key", "control characters", id="key-newline"),
    pytest.param({"key": "a\x7fb"}, "key", "control characters", id="key-del"),
    pytest.param({"key": "\ud800"}, "key", "lone surrogates", id="key-lone-surrogate"),
    pytest.param({"key": "k" * (MAX_KEY_BYTES + 1)}, "key", f"at most {MAX_KEY_BYTES}",
                 id="key-too-long"),
    pytest.param({"key": "é" * (MAX_KEY_BYTES // 2 + 1)}, "key", f"at most {MAX_KEY_BYTES}",
                 id="key-too-long-in-utf8-bytes"),
    pytest.param({"body": 123}, "body", "must be a string", id="body-not-a-string"),
    pytest.param({"body": {"a": 1}}, "body", "must be a string", id="body-an-object"),
    pytest.param({"body": "x" * 262_145}, "body", "limit is 262144 bytes", id="body-too-large"),
    pytest.param({"body": "é" * 131_073}, "body", "limit is 262144 bytes",
                 id="body-too-large-in-utf8-bytes"),
    pytest.param({"body": "\udfff"}, "body", "lone surrogates", id="body-lone-surrogate"),
    pytest.param({"content_type": 1}, "content_type", "must be a string", id="type-not-a-string"),
    pytest.param({"content_type": "text/plain\r\nX-Evil: 1"}, "content_type", "control",
                 id="type-header-injection"),
    pytest.param({"content_type": ""}, "content_type", "1-255", id="type-empty"),
]


@pytest.mark.parametrize(("event", "field", "fragment"), INVALID_EVENTS)
def test_invalid_event_gives_400_naming_the_field_and_writes_nothing(
    lambda_env: Accounts,
    sts_calls: StsCalls,
    context: LambdaContext,
    capsys: pytest.CaptureFixture[str],
    event: Any,
    field: str,
    fragment: str,
) -> None:
    status, body = invoke(event, context)

    assert status == 400
    assert body["error"] == "InvalidEvent"
    assert field in body["message"]
    assert fragment in body["message"]
    assert lambda_env.objects() == []
    assert sts_calls.params == [], "the role must not even be assumed for a bad event"
    [line] = log_lines(capsys)
    assert (line["status"], line["error"], line["field"]) == (400, "InvalidEvent", field)


def test_body_at_the_limit_is_accepted(
    lambda_env: Accounts, monkeypatch: pytest.MonkeyPatch, context: LambdaContext
) -> None:
    monkeypatch.setenv("MAX_BODY_BYTES", "4")

    assert invoke({"body": "éé"}, context)[0] == 200
    status, body = invoke({"body": "ééé"}, context)
    assert (status, body["error"]) == (400, "InvalidEvent")
    assert "limit is 4 bytes (MAX_BODY_BYTES)" in body["message"]


# --- AWS errors --------------------------------------------------------------------------------


def test_assume_role_access_denied_gives_403_naming_the_role(
    lambda_env: Accounts, install_writer: Install, sts_calls: StsCalls, context: LambdaContext
) -> None:
    # moto does not evaluate trust policies (any role can be assumed by anyone), so the refusal
    # is stubbed on a real STS client with botocore's Stubber, injected into the writer.
    install_writer(sts_client=stubbed_sts("AccessDenied", 403))

    status, body = invoke({"key": "a.txt", "body": "x"}, context)

    assert status == 403
    assert body["error"] == "AccessDenied"
    assert ROLE_ARN in body["message"]
    assert len(sts_calls.params) == 1
    assert lambda_env.objects() == []


def test_put_object_access_denied_gives_403_naming_the_bucket(
    lambda_env: Accounts,
    install_writer: Install,
    monkeypatch: pytest.MonkeyPatch,
    context: LambdaContext,
) -> None:
    # A real refusal from moto, no stubbing: the role lives in a third account, and moto (with
    # MOTO_S3_ALLOW_CROSSACCOUNT_ACCESS=false) refuses that account's PutObject on PROD's bucket.
    monkeypatch.setenv("TARGET_ROLE_ARN", "arn:aws:iam::333333333333:role/cross-account-s3-writer")
    install_writer()

    status, body = invoke({"key": "a.txt", "body": "x"}, context)

    assert status == 403
    assert body["error"] == "AccessDenied"
    assert BUCKET in body["message"]
    assert f"{KEY_PREFIX}a.txt" in body["message"]
    assert lambda_env.objects() == []


def _missing_bucket(monkeypatch: pytest.MonkeyPatch, install_writer: Install) -> None:
    monkeypatch.setenv("TARGET_BUCKET", "prod-bucket-that-does-not-exist")
    install_writer()


def _unreachable_endpoint(monkeypatch: pytest.MonkeyPatch, install_writer: Install) -> None:
    def refuse(**_: Any) -> None:
        raise EndpointConnectionError(endpoint_url=f"https://s3.{REGION}.amazonaws.com")

    # before-call: fails like a dead network, without botocore's retry back-off (no sleeping).
    install_writer().s3.meta.events.register("before-call.s3.PutObject", refuse)


def _sts_throttled(monkeypatch: pytest.MonkeyPatch, install_writer: Install) -> None:
    install_writer(sts_client=stubbed_sts("Throttling", 400))


@pytest.mark.parametrize(
    ("arrange", "code", "named"),
    [
        (_missing_bucket, "NoSuchBucket", "prod-bucket-that-does-not-exist"),
        (_unreachable_endpoint, "EndpointConnectionError", BUCKET),
        (_sts_throttled, "Throttling", ROLE_ARN),
    ],
    ids=["no-such-bucket", "endpoint-unreachable", "assume-role-throttled"],
)
def test_other_errors_give_502(
    lambda_env: Accounts,
    install_writer: Install,
    monkeypatch: pytest.MonkeyPatch,
    context: LambdaContext,
    capsys: pytest.CaptureFixture[str],
    arrange: Callable[[pytest.MonkeyPatch, Install], None],
    code: str,
    named: str,
) -> None:
    arrange(monkeypatch, install_writer)

    status, body = invoke({"key": "a.txt", "body": "x"}, context)

    assert (status, body["error"]) == (502, code)
    assert named in body["message"]
    assert lambda_env.objects() == []
    [line] = log_lines(capsys)
    assert (line["status"], line["error"]) == (502, code)


# --- exactly one object: conditional writes, lost answers, expired sessions ---------------------


SLOW_DOWN = s3_answer(503, "SlowDown", "Please reduce your request rate.")


def stored_then_lost(request: Any) -> None:
    """A scripted attempt: moto stores the object, then the connection drops before the answer."""
    botocore_stubber.process_request(request)
    raise ConnectionClosedError(endpoint_url=request.url)


def never_connected(request: Any) -> None:
    raise EndpointConnectionError(endpoint_url=request.url)


class PutScript:
    """Answers the writer's PutObject attempts from a script, in order; moto answers the rest.

    A before-send handler, so it sees every signed attempt botocore sends (retries included)
    and can stand in for S3 or for the network, without stubbing botocore. moto's own handler
    (on "before-send", between our first and last) would carry the request out as well: it is
    switched off for a scripted answer and on again by our last handler.
    """

    def __init__(self, writer: handler.RoleWriter, *attempts: Callable[[Any], Any]) -> None:
        self.attempts = list(attempts)
        self.headers: list[dict[str, Any]] = []
        writer.s3.meta.events.register_first("before-send", self)
        writer.s3.meta.events.register_last("before-send", self._moto_on)

    def __call__(self, request: Any, event_name: str, **_: Any) -> Any:
        if event_name != "before-send.s3.PutObject":
            return None
        self.headers.append(dict(request.headers))
        if not self.attempts:
            return None
        answer = self.attempts.pop(0)(request)  # raising ends the attempt here, moto unasked
        if answer is not None:
            botocore_stubber.enabled = False  # our answer stands; moto must not carry it out too
        return answer

    def _moto_on(self, **_: Any) -> None:
        botocore_stubber.enabled = True


@pytest.fixture
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """botocore's standard retries without their (jittered, up to seconds) sleeps."""
    monkeypatch.setattr(ExponentialBackoff, "delay_amount", lambda self, context: 0)


def versions_of(accounts: Accounts, key: str) -> list[dict[str, Any]]:
    return [v for v in accounts.objects() if v["Key"] == key]


def test_put_is_conditional_and_carries_the_body_md5(
    lambda_env: Accounts, install_writer: Install, context: LambdaContext
) -> None:
    script = PutScript(install_writer())

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
    script = PutScript(install_writer(), stored_then_lost)

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

    PutScript(install_writer(), another_writer_wins)

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
    script = PutScript(install_writer(), first_attempt)

    status, body = invoke({"key": "same.txt", "body": "same"}, context)

    assert (status, body["error"]) == (409, "ObjectAlreadyExists")
    assert len(versions_of(lambda_env, key)) == 1
    assert len(script.headers) == 2


def test_answers_lost_on_every_attempt_give_a_502_that_says_the_object_may_be_there(
    lambda_env: Accounts, install_writer: Install, no_backoff: None, context: LambdaContext
) -> None:
    PutScript(install_writer(), stored_then_lost, stored_then_lost, stored_then_lost)

    status, body = invoke({"key": "unknown.txt", "body": "x"}, context)

    assert (status, body["error"]) == (502, "ConnectionClosedError")
    assert "may have stored the object" in body["message"]
    assert len(versions_of(lambda_env, f"{KEY_PREFIX}unknown.txt")) == 1  # and no more


def test_s3_slow_down_is_retried_by_botocore_and_writes_one_version(
    lambda_env: Accounts, install_writer: Install, no_backoff: None, context: LambdaContext
) -> None:
    script = PutScript(install_writer(), SLOW_DOWN, SLOW_DOWN)

    status, body = invoke({"key": "slow.txt", "body": "x"}, context)

    assert status == 200
    assert body["versionId"] is not None
    assert len(versions_of(lambda_env, body["key"])) == 1
    assert len(script.headers) == 3


def test_s3_slow_down_beyond_the_retry_budget_is_a_502_and_writes_nothing(
    lambda_env: Accounts, install_writer: Install, no_backoff: None, context: LambdaContext
) -> None:
    script = PutScript(install_writer(), SLOW_DOWN, SLOW_DOWN, SLOW_DOWN)

    status, body = invoke({"key": "slower.txt", "body": "x"}, context)

    assert (status, body["error"]) == (502, "SlowDown")
    assert lambda_env.objects() == []
    assert len(script.headers) == 3  # total_max_attempts


def test_expired_token_assumes_the_role_again_once_and_writes(
    lambda_env: Accounts, install_writer: Install, sts_calls: StsCalls, context: LambdaContext,
    capsys: pytest.CaptureFixture[str],
) -> None:
    writer = install_writer()
    keys = signing_keys(writer)
    assert invoke({"key": "warm.txt", "body": "x"}, context)[0] == 200  # credentials cached
    PutScript(writer, EXPIRED_TOKEN)

    status, body = invoke({"key": "after-expiry.txt", "body": "x"}, context)

    assert status == 200
    assert len(sts_calls.params) == 2
    first, second = (credentials["AccessKeyId"] for credentials in sts_calls.credentials)
    assert keys == [first, first, second]  # warm, expired, then the new session's
    assert len(versions_of(lambda_env, body["key"])) == 1
    assert log_lines(capsys)[-1]["credentials_refreshed"] is True


def test_expired_token_twice_is_a_502_after_one_refresh(
    lambda_env: Accounts, install_writer: Install, sts_calls: StsCalls, context: LambdaContext
) -> None:
    PutScript(install_writer(), EXPIRED_TOKEN, EXPIRED_TOKEN, EXPIRED_TOKEN)

    status, body = invoke({"key": "still-expired.txt", "body": "x"}, context)

    assert (status, body["error"]) == (502, "ExpiredToken")
    assert len(sts_calls.params) == 2
    assert lambda_env.objects() == []


# --- credentials -------------------------------------------------------------------------------


def test_credentials_are_reused_across_warm_invocations(
    lambda_env: Accounts, sts_calls: StsCalls, context: LambdaContext
) -> None:
    for n in range(5):
        assert invoke({"key": f"warm-{n}.txt", "body": "x"}, context)[0] == 200

    assert len(sts_calls.params) == 1
    assert lambda_env.sessions_of_prod_role() == 1
    assert len(lambda_env.objects()) == 5


def test_credentials_refresh_when_they_expire(
    lambda_env: Accounts, install_writer: Install, sts_calls: StsCalls, context: LambdaContext
) -> None:
    clock = FakeClock()
    keys = signing_keys(install_writer(clock=clock))

    assert invoke({"key": "before.txt", "body": "x"}, context)[0] == 200
    # 55 minutes later the 1-hour credentials have 5 minutes left: inside botocore's
    # mandatory refresh window (10 minutes), yet the fresh ones are not expired on this clock.
    clock.offset = timedelta(minutes=55)
    assert invoke({"key": "after.txt", "body": "x"}, context)[0] == 200

    assert len(sts_calls.params) == 2
    assert lambda_env.sessions_of_prod_role() == 2
    assert keys == [c["AccessKeyId"] for c in sts_calls.credentials]
    assert keys[0] != keys[1]


def test_session_name_names_the_function_and_duration_is_at_most_an_hour(
    lambda_env: Accounts, sts_calls: StsCalls, context: LambdaContext
) -> None:
    invoke({}, context)

    [call] = sts_calls.params
    assert call["RoleArn"] == ROLE_ARN
    assert call["RoleSessionName"] == FUNCTION_NAME
    assert 900 <= call["DurationSeconds"] <= 3600
    assert "ExternalId" not in call


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


def test_external_id_is_sent_when_configured(
    lambda_env: Accounts,
    install_writer: Install,
    sts_calls: StsCalls,
    monkeypatch: pytest.MonkeyPatch,
    context: LambdaContext,
) -> None:
    monkeypatch.setenv("EXTERNAL_ID", "prod-writer-7f3a9c")
    install_writer()

    assert invoke({}, context)[0] == 200

    assert [call.get("ExternalId") for call in sts_calls.params] == ["prod-writer-7f3a9c"]


def test_responses_and_logs_never_contain_credentials(
    lambda_env: Accounts,
    install_writer: Install,
    sts_calls: StsCalls,
    monkeypatch: pytest.MonkeyPatch,
    context: LambdaContext,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    responses = [
        handler.lambda_handler({"key": "ok.txt", "body": "x"}, context),
        handler.lambda_handler({"key": "../bad"}, context),
    ]
    monkeypatch.setenv("TARGET_BUCKET", "prod-bucket-that-does-not-exist")
    install_writer()
    responses.append(handler.lambda_handler({"key": "ok.txt"}, context))
    install_writer(sts_client=stubbed_sts("AccessDenied", 403))
    responses.append(handler.lambda_handler({"key": "ok.txt"}, context))

    assert [r["statusCode"] for r in responses] == [200, 400, 502, 403]
    assert len(sts_calls.credentials) == 2
    secrets = [os.environ["AWS_SECRET_ACCESS_KEY"]] + [
        value
        for credentials in sts_calls.credentials
        for value in (credentials["SecretAccessKey"], credentials["SessionToken"])
    ]
    captured = capsys.readouterr()
    everything = json.dumps(responses) + captured.out + captured.err + caplog.text
    for secret in secrets:
        assert secret not in everything



# --- configuration -----------------------------------------------------------------------------


@pytest.mark.parametrize("variable", ["TARGET_ROLE_ARN", "TARGET_BUCKET", "TARGET_KEY_PREFIX"])
def test_missing_configuration_names_the_variable(
    lambda_env: Accounts,
    monkeypatch: pytest.MonkeyPatch,
    context: LambdaContext,
    capsys: pytest.CaptureFixture[str],
    variable: str,
) -> None:
    monkeypatch.delenv(variable)

    with pytest.raises(handler.ConfigurationError, match=f"{variable} is required"):
        handler.lambda_handler({"key": "a.txt"}, context)

    assert lambda_env.objects() == []
    [line] = log_lines(capsys)
    assert line["error"] == "ConfigurationError"
    assert variable in line["message"]


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("TARGET_ROLE_ARN", "cross-account-s3-writer"),
        ("TARGET_ROLE_ARN", "arn:aws:iam::111111111111:user/someone"),
        ("TARGET_BUCKET", "Not_A_Bucket"),
        ("TARGET_KEY_PREFIX", "/incoming"),
        ("TARGET_KEY_PREFIX", "in/../coming"),
        ("TARGET_REGION", "Ireland"),
        ("MAX_BODY_BYTES", "lots"),
        ("MAX_BODY_BYTES", "0"),
        ("EXTERNAL_ID", "x"),
    ],
)
def test_invalid_configuration_names_the_variable(
    lambda_env: Accounts,
    monkeypatch: pytest.MonkeyPatch,
    context: LambdaContext,
    variable: str,
    value: str,
) -> None:
    monkeypatch.setenv(variable, value)

    with pytest.raises(handler.ConfigurationError, match=variable):
        handler.lambda_handler({"key": "a.txt"}, context)

    assert lambda_env.objects() == []


def test_target_region_is_required_when_there_is_no_aws_region(
    lambda_env: Accounts, monkeypatch: pytest.MonkeyPatch, context: LambdaContext
) -> None:
    monkeypatch.delenv("AWS_REGION")

    with pytest.raises(handler.ConfigurationError, match="TARGET_REGION"):
        handler.lambda_handler({}, context)


@pytest.mark.parametrize(
    ("aws_region", "target_region", "s3_region", "sts_region"),
    [
        ("us-east-1", "eu-west-1", "eu-west-1", "us-east-1"),
        ("eu-west-1", None, "eu-west-1", "eu-west-1"),
    ],
    ids=["target-region-given", "defaults-to-aws-region"],
)
def test_s3_client_is_created_in_the_target_region(
    lambda_env: Accounts,
    monkeypatch: pytest.MonkeyPatch,
    context: LambdaContext,
    aws_region: str,
    target_region: str | None,
    s3_region: str,
    sts_region: str,
) -> None:
    monkeypatch.setenv("AWS_REGION", aws_region)
    if target_region is not None:
        monkeypatch.setenv("TARGET_REGION", target_region)

    assert invoke({}, context)[0] == 200

    writer = handler._get_writer()
    assert writer.s3.meta.region_name == s3_region
    assert writer.sts.meta.region_name == sts_region


def test_clients_use_standard_retries_and_timeouts(lambda_env: Accounts) -> None:
    writer = handler._get_writer()

    for client in (writer.s3, writer.sts):
        assert client.meta.config.retries == {"mode": "standard", "total_max_attempts": 3}
        assert client.meta.config.connect_timeout <= 5
        assert client.meta.config.read_timeout <= 10


# --- logging and packaging ---------------------------------------------------------------------


def test_each_invocation_logs_one_json_line(
    lambda_env: Accounts, context: LambdaContext, capsys: pytest.CaptureFixture[str]
) -> None:
    _, body = invoke({"key": "logged.txt", "body": "x"}, context)

    [line] = log_lines(capsys)
    assert line["status"] == 200
    assert line["bucket"] == BUCKET
    assert line["key"] == body["key"] == f"{KEY_PREFIX}logged.txt"
    assert line["request_id"] == context.aws_request_id
    assert line["function"] == FUNCTION_NAME
    assert line["error"] is None
    assert isinstance(line["duration_ms"], float)


def test_a_context_without_request_id_is_tolerated(
    lambda_env: Accounts, capsys: pytest.CaptureFixture[str]
) -> None:
    assert invoke({}, object())[0] == 200
    assert log_lines(capsys)[0]["request_id"] is None


def test_package_works_from_the_zip_alone_and_imports_nothing_else(tmp_path: Path) -> None:
    """In Lambda, the zip holds the lambda_handler package and nothing else of this repository:
    ``lambda_handler.handler`` must import from it alone, pull in only the standard library and
    botocore, and create no client at import time."""
    package = Path(handler.__file__).parent
    zip_root = tmp_path / "task"
    (zip_root / package.name).mkdir(parents=True)
    for source in package.glob("*.py"):  # what components/writer_function.py packages
        shutil.copy(source, zip_root / package.name / source.name)
    script = f"""
import json, sys
before = set(sys.modules)
sys.path.insert(0, {str(zip_root)!r})
from lambda_handler import handler
added = {{name.split(".")[0] for name in set(sys.modules) - before}}
print(json.dumps({{
    "from_zip": handler.__file__.startswith({str(zip_root)!r}),
    "third_party": sorted(n for n in added if n not in sys.stdlib_module_names and not n.startswith("_")),
    "writer": handler._WRITER is None and handler._CONFIG is None,
}}))
"""
    # No AWS or handler variables at all: importing must not need configuration.
    result = subprocess.run(
        [sys.executable, "-I", "-c", script],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
        env={"PATH": os.environ.get("PATH", "")},
    )
    report = json.loads(result.stdout)
    assert report["from_zip"] is True
    assert report["writer"] is True
    allowed = {"lambda_handler", "botocore", "dateutil", "jmespath", "urllib3", "six", "certifi"}
    assert set(report["third_party"]) <= allowed, report["third_party"]
