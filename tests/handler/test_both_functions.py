"""Specs that hold for both DEV-account Lambdas, the writer and the reader: each runs once per function (the
``function`` fixture, ids ``[writer]`` and ``[reader]``; see ``conftest.Function``). What only one of them does is
specified in test_handler.py (the writer) and test_reader.py (the reader)."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore.exceptions import EndpointConnectionError, ReadTimeoutError
from botocore.response import StreamingBody

from lambda_handler import config

from .conftest import (BUCKET, EXPIRED_TOKEN, FUNCTIONS, KEY_PREFIX, REGION, Accounts, FakeClock, Function,
                       LambdaContext, S3Script, StsCalls, log_lines, per_function, role_of_another_account,
                       signing_keys, stubbed_sts)

MAX_KEY_BYTES = 1024 - len(KEY_PREFIX.encode())
CEILING = config.MAX_OBJECT_BYTES_CEILING


# --- the role ----------------------------------------------------------------------------------


def test_s3_requests_are_signed_with_the_assumed_role_not_the_execution_role(
    function: Function, sts_calls: StsCalls, context: LambdaContext
) -> None:
    event = function.valid_event("signed.txt")
    keys = signing_keys(function.install(), function.operation)

    status, body = function.invoke(event, context)

    assert status == 200
    function.assert_succeeded(body, f"{KEY_PREFIX}signed.txt")
    assert [call["RoleArn"] for call in sts_calls.params] == [function.role_arn]
    assert keys == [sts_calls.credentials[0]["AccessKeyId"]]
    assert keys[0] != function.accounts.dev_access_key_id


@pytest.mark.parametrize(("operation", "params"), [("put_object", {"Body": b"x"}), ("get_object", {})],
                         ids=["write", "read"])
def test_execution_role_alone_can_neither_write_to_nor_read_the_prod_bucket(
    lambda_env: Accounts, operation: str, params: dict[str, Any]
) -> None:
    """Sanity check of the fixture: without the role, DEV really is refused by (moto's) S3."""
    lambda_env.put("direct.txt", b"x")  # there: a read is refused, not missing
    dev_s3 = botocore.session.Session().create_client("s3", region_name=REGION)

    with pytest.raises(dev_s3.exceptions.ClientError, match="AccessDenied"):
        getattr(dev_s3, operation)(Bucket=BUCKET, Key=f"{KEY_PREFIX}direct.txt", **params)


# --- keys and the prefix -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prefix", "full_key"),
    [("incoming", "incoming/a.txt"), ("in/coming/", "in/coming/a.txt"), ("", "a.txt")],
)
def test_the_key_is_taken_under_the_prefix_normalised_to_end_with_a_slash(
    function: Function, monkeypatch: pytest.MonkeyPatch, context: LambdaContext, prefix: str, full_key: str
) -> None:
    monkeypatch.setenv("TARGET_KEY_PREFIX", prefix)
    function.arrange(full_key)

    status, body = function.invoke(function.event("a.txt"), context)

    assert status == 200
    function.assert_succeeded(body, full_key)


def test_key_of_exactly_the_maximum_length_is_accepted(function: Function, context: LambdaContext) -> None:
    status, body = function.invoke(function.valid_event("k" * MAX_KEY_BYTES), context)

    assert status == 200
    assert len(body["key"].encode()) == 1024
    function.assert_succeeded(body, KEY_PREFIX + "k" * MAX_KEY_BYTES)


# --- invalid events ----------------------------------------------------------------------------

# Both events are JSON objects whose "key", relative to the prefix, follows the same rules (events.key_problem).
INVALID_FOR_BOTH = [
    pytest.param(["key"], "event", "JSON object", id="event-is-a-list"),
    pytest.param("reports/a.txt", "event", "JSON object", id="event-is-a-string"),
    pytest.param(None, "event", "JSON object", id="event-is-null"),
    pytest.param({"key": 42}, "key", "must be a string", id="key-not-a-string"),
    pytest.param({"key": None}, "key", "must be a string", id="key-null"),
    pytest.param({"key": ["a.txt"]}, "key", "must be a string", id="key-a-list"),
    pytest.param({"key": ""}, "key", "must not be empty", id="key-empty"),
    pytest.param({"key": "a/../b"}, "key", "'..'", id="key-dotdot-segment"),
    pytest.param({"key": ".."}, "key", "'..'", id="key-is-dotdot"),
    pytest.param({"key": "/etc/passwd"}, "key", "start with '/'", id="key-leading-slash"),
    pytest.param({"key": "a\\b"}, "key", "backslash", id="key-backslash"),
    pytest.param({"key": "a\x00b"}, "key", "control characters", id="key-nul"),
    pytest.param({"key": "a\nb"}, "key", "control characters", id="key-newline"),
    pytest.param({"key": "a\x7fb"}, "key", "control characters", id="key-del"),
    pytest.param({"key": "\ud800"}, "key", "lone surrogates", id="key-lone-surrogate"),
    pytest.param({"key": "k" * (MAX_KEY_BYTES + 1)}, "key", f"at most {MAX_KEY_BYTES}", id="key-too-long"),
    pytest.param({"key": "é" * (MAX_KEY_BYTES // 2 + 1)}, "key", f"at most {MAX_KEY_BYTES}",
                 id="key-too-long-in-utf8-bytes"),
]
INVALID_FOR_THE_WRITER = [
    pytest.param({"kee": "a.txt"}, "kee", "allowed fields are 'body', 'content_type', 'key'", id="unknown-field"),
    pytest.param({"body": 123}, "body", "must be a string", id="body-not-a-string"),
    pytest.param({"body": {"a": 1}}, "body", "must be a string", id="body-an-object"),
    pytest.param({"body": "x" * 262_145}, "body", "limit is 262144 bytes", id="body-too-large"),
    pytest.param({"body": "é" * 131_073}, "body", "limit is 262144 bytes", id="body-too-large-in-utf8-bytes"),
    pytest.param({"body": "\udfff"}, "body", "lone surrogates", id="body-lone-surrogate"),
    pytest.param({"content_type": 1}, "content_type", "must be a string", id="type-not-a-string"),
    pytest.param({"content_type": "text/plain\r\nX-Evil: 1"}, "content_type", "control",
                 id="type-header-injection"),
    pytest.param({"content_type": ""}, "content_type", "1-255", id="type-empty"),
]
INVALID_FOR_THE_READER = [
    pytest.param({}, "key", "'key' is required", id="key-missing"),
    pytest.param({"kee": "a.txt"}, "kee", "the only allowed field is 'key'", id="unknown-field"),
    pytest.param({"key": "a.txt", "body": "x"}, "body", "the only allowed field is 'key'", id="a-writer-field"),
    pytest.param({"key": "a.txt", "version": "1"}, "version", "unknown field", id="key-and-unknown-field"),
]


@pytest.mark.parametrize(
    ("function", "event", "field", "fragment"),
    per_function(INVALID_FOR_BOTH, writer=INVALID_FOR_THE_WRITER, reader=INVALID_FOR_THE_READER),
    indirect=["function"],
)
def test_invalid_event_gives_400_naming_the_field_and_the_role_is_not_assumed(
    function: Function,
    sts_calls: StsCalls,
    context: LambdaContext,
    capsys: pytest.CaptureFixture[str],
    event: Any,
    field: str,
    fragment: str,
) -> None:
    status, body = function.invoke(event, context)

    assert status == 400
    assert body["error"] == "InvalidEvent"
    assert field in body["message"]
    assert fragment in body["message"]
    assert function.accounts.objects() == []
    assert sts_calls.params == [], "the role must not even be assumed for a bad event"
    assert Accounts.sessions_of_prod_role(function.role_arn) == 0
    [line] = log_lines(capsys)
    assert (line["status"], line["error"], line["field"]) == (400, "InvalidEvent", field)


# --- AWS errors --------------------------------------------------------------------------------


def test_assume_role_access_denied_gives_403_naming_the_role(
    function: Function, sts_calls: StsCalls, context: LambdaContext
) -> None:
    event = function.valid_event()
    before = function.accounts.objects()
    # moto does not evaluate trust policies (any role can be assumed by anyone), so the refusal
    # is stubbed on a real STS client with botocore's Stubber, injected into the function's client.
    function.install(sts_client=stubbed_sts("AccessDenied", 403))

    status, body = function.invoke(event, context)

    assert (status, body["error"]) == (403, "AccessDenied")
    assert function.role_arn in body["message"]
    assert len(sts_calls.params) == 1
    assert function.accounts.objects() == before


def test_s3_access_denied_gives_403_naming_the_bucket_and_key(
    function: Function,
    monkeypatch: pytest.MonkeyPatch,
    context: LambdaContext,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # A real refusal from moto, no stubbing: the role lives in a third account, and moto (with
    # MOTO_S3_ALLOW_CROSSACCOUNT_ACCESS=false) refuses that account's requests on PROD's bucket.
    event = function.valid_event()
    before = function.accounts.objects()
    monkeypatch.setenv("TARGET_ROLE_ARN", role_of_another_account(function.role_arn))
    function.install()

    status, body = function.invoke(event, context)

    assert (status, body["error"]) == (403, "AccessDenied")
    assert f"s3://{BUCKET}/{KEY_PREFIX}a.txt" in body["message"]
    assert function.accounts.objects() == before
    [line] = log_lines(capsys)
    assert (line["status"], line["error"]) == (403, "AccessDenied")


def _missing_bucket(monkeypatch: pytest.MonkeyPatch, function: Function) -> None:
    monkeypatch.setenv("TARGET_BUCKET", "prod-bucket-that-does-not-exist")
    function.install()


def _unreachable_endpoint(monkeypatch: pytest.MonkeyPatch, function: Function) -> None:
    def refuse(**_: Any) -> None:
        raise EndpointConnectionError(endpoint_url=f"https://s3.{REGION}.amazonaws.com")

    # before-call: fails like a dead network, without botocore's retry back-off (no sleeping).
    function.install().s3.meta.events.register(f"before-call.s3.{function.operation}", refuse)


def _sts_throttled(monkeypatch: pytest.MonkeyPatch, function: Function) -> None:
    function.install(sts_client=stubbed_sts("Throttling", 400))


def _connection_lost_mid_body(monkeypatch: pytest.MonkeyPatch, function: Function) -> None:
    def lost(self: StreamingBody, *args: Any, **kwargs: Any) -> bytes:
        raise ReadTimeoutError(endpoint_url=f"https://s3.{REGION}.amazonaws.com")

    function.install()
    monkeypatch.setattr(StreamingBody, "read", lost)


@pytest.mark.parametrize(
    ("function", "arrange", "code", "named"),
    per_function(
        [
            pytest.param(_missing_bucket, "NoSuchBucket", "prod-bucket-that-does-not-exist", id="no-such-bucket"),
            pytest.param(_unreachable_endpoint, "EndpointConnectionError", f"{BUCKET}/{KEY_PREFIX}a.txt",
                         id="endpoint-unreachable"),
            pytest.param(_sts_throttled, "Throttling", "{role_arn}", id="assume-role-throttled"),
        ],
        reader=[  # the reader's answer is a stream, read after GetObject returned
            pytest.param(_connection_lost_mid_body, "ReadTimeoutError", f"{BUCKET}/{KEY_PREFIX}a.txt",
                         id="connection-lost-mid-body"),
        ],
    ),
    indirect=["function"],
)
def test_other_errors_give_502_naming_what_failed(
    function: Function,
    monkeypatch: pytest.MonkeyPatch,
    context: LambdaContext,
    capsys: pytest.CaptureFixture[str],
    arrange: Callable[[pytest.MonkeyPatch, Function], None],
    code: str,
    named: str,
) -> None:
    event = function.valid_event()
    before = function.accounts.objects()
    arrange(monkeypatch, function)

    status, body = function.invoke(event, context)

    assert (status, body["error"]) == (502, code)
    assert named.format(role_arn=function.role_arn) in body["message"]
    assert function.accounts.objects() == before
    [line] = log_lines(capsys)
    assert (line["status"], line["error"]) == (502, code)


def test_expired_token_assumes_the_role_again_once_and_succeeds(
    function: Function, sts_calls: StsCalls, context: LambdaContext, capsys: pytest.CaptureFixture[str]
) -> None:
    client = function.install()
    keys = signing_keys(client, function.operation)
    assert function.invoke(function.valid_event("warm.txt"), context)[0] == 200  # credentials cached
    S3Script(client, function.operation, EXPIRED_TOKEN)

    status, body = function.invoke(function.valid_event("after-expiry.txt"), context)

    assert status == 200
    function.assert_succeeded(body, f"{KEY_PREFIX}after-expiry.txt")
    assert len(sts_calls.params) == 2
    first, second = (credentials["AccessKeyId"] for credentials in sts_calls.credentials)
    assert keys == [first, first, second]  # warm, expired, then the new session's
    assert [line["credentials_refreshed"] for line in log_lines(capsys)] == [False, True]


def test_expired_token_twice_is_a_502_after_one_refresh(
    function: Function, sts_calls: StsCalls, context: LambdaContext
) -> None:
    event = function.valid_event()
    before = function.accounts.objects()
    S3Script(function.install(), function.operation, EXPIRED_TOKEN, EXPIRED_TOKEN, EXPIRED_TOKEN)

    status, body = function.invoke(event, context)

    assert (status, body["error"]) == (502, "ExpiredToken")
    assert len(sts_calls.params) == 2
    assert function.accounts.objects() == before


# --- credentials -------------------------------------------------------------------------------


def test_credentials_are_reused_across_warm_invocations_whatever_each_answers(
    function: Function, sts_calls: StsCalls, context: LambdaContext
) -> None:
    refused, refused_status, _ = function.refused_event()
    events = [function.valid_event("warm-0.txt"), refused, function.valid_event("warm-1.txt"), {"key": "../bad"},
              function.valid_event("warm-2.txt")]

    outcomes = [function.invoke(event, context) for event in events]

    assert [status for status, _ in outcomes] == [200, refused_status, 200, 400, 200]
    for n, (_, body) in enumerate(outcomes[::2]):
        function.assert_succeeded(body, f"{KEY_PREFIX}warm-{n}.txt")
    assert len(sts_calls.params) == 1
    assert Accounts.sessions_of_prod_role(function.role_arn) == 1


def test_credentials_refresh_when_they_expire(
    function: Function, sts_calls: StsCalls, context: LambdaContext
) -> None:
    clock = FakeClock()
    keys = signing_keys(function.install(clock=clock), function.operation)

    assert function.invoke(function.valid_event("before.txt"), context)[0] == 200
    # 55 minutes later the 1-hour credentials have 5 minutes left: inside botocore's
    # mandatory refresh window (10 minutes), yet the fresh ones are not expired on this clock.
    clock.offset = timedelta(minutes=55)
    assert function.invoke(function.valid_event("after.txt"), context)[0] == 200

    assert len(sts_calls.params) == 2
    assert Accounts.sessions_of_prod_role(function.role_arn) == 2
    assert keys == [c["AccessKeyId"] for c in sts_calls.credentials]
    assert keys[0] != keys[1]


def test_session_name_names_the_function_and_duration_is_at_most_an_hour(
    function: Function, sts_calls: StsCalls, context: LambdaContext
) -> None:
    function.invoke(function.valid_event(), context)

    [call] = sts_calls.params
    assert call["RoleArn"] == function.role_arn
    assert call["RoleSessionName"] == function.function_name
    assert 900 <= call["DurationSeconds"] <= 3600
    assert "ExternalId" not in call


def test_session_name_without_a_function_name_says_which_function_it_is(
    function: Function, sts_calls: StsCalls, monkeypatch: pytest.MonkeyPatch, context: LambdaContext
) -> None:
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME")

    function.invoke(function.valid_event(), context)

    assert [call["RoleSessionName"] for call in sts_calls.params] == [function.fallback_session_name]
    assert function.fallback_session_name == f"cross-account-s3-{function.name}"


def test_external_id_is_sent_when_configured(
    function: Function, sts_calls: StsCalls, monkeypatch: pytest.MonkeyPatch, context: LambdaContext
) -> None:
    monkeypatch.setenv("EXTERNAL_ID", f"prod-{function.name}-7f3a9c")

    assert function.invoke(function.valid_event(), context)[0] == 200

    assert [call.get("ExternalId") for call in sts_calls.params] == [f"prod-{function.name}-7f3a9c"]


def test_session_tags_and_source_identity_are_sent_when_configured(
    function: Function, sts_calls: StsCalls, monkeypatch: pytest.MonkeyPatch, context: LambdaContext
) -> None:
    # What the grant allows the function to bring to its session (components/grant_function.py SessionOptions).
    monkeypatch.setenv("SESSION_TAGS", json.dumps({"function": f"cross-account-s3-{function.name}"}))
    monkeypatch.setenv("SOURCE_IDENTITY", f"cross-account-s3-{function.name}")

    assert function.invoke(function.valid_event(), context)[0] == 200

    [call] = sts_calls.params
    assert call["Tags"] == [{"Key": "function", "Value": f"cross-account-s3-{function.name}"}]
    assert call["SourceIdentity"] == f"cross-account-s3-{function.name}"


def test_no_session_tags_or_source_identity_unless_configured(
    function: Function, sts_calls: StsCalls, context: LambdaContext
) -> None:
    assert function.invoke(function.valid_event(), context)[0] == 200

    [call] = sts_calls.params
    assert "Tags" not in call and "SourceIdentity" not in call


def test_responses_and_logs_never_contain_credentials(
    function: Function,
    sts_calls: StsCalls,
    monkeypatch: pytest.MonkeyPatch,
    context: LambdaContext,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    refused, refused_status, _ = function.refused_event()
    events = [function.valid_event("ok.txt"), refused, {"key": "../bad"}]
    responses = [function.module.lambda_handler(event, context) for event in events]
    monkeypatch.setenv("TARGET_BUCKET", "prod-bucket-that-does-not-exist")
    function.install()
    responses.append(function.module.lambda_handler(function.event("ok.txt"), context))
    function.install(sts_client=stubbed_sts("AccessDenied", 403))
    responses.append(function.module.lambda_handler(function.event("ok.txt"), context))

    assert [r["statusCode"] for r in responses] == [200, refused_status, 400, 502, 403]
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


# --- logging -----------------------------------------------------------------------------------


def test_each_invocation_logs_one_json_line(
    function: Function, context: LambdaContext, capsys: pytest.CaptureFixture[str]
) -> None:
    refused, refused_status, refused_error = function.refused_event("refused.txt")
    expected = [
        (function.valid_event("logged.txt"), 200, None, f"{KEY_PREFIX}logged.txt"),
        (refused, refused_status, refused_error, f"{KEY_PREFIX}refused.txt"),
        ({"key": "../bad"}, 400, "InvalidEvent", None),
    ]

    statuses = [function.invoke(event, context)[0] for event, *_ in expected]

    lines = log_lines(capsys)
    assert statuses == [status for _, status, *_ in expected]
    assert [(line["status"], line["error"], line["key"]) for line in lines] == [
        (status, error, key) for _, status, error, key in expected
    ]
    for line in lines:
        assert line["function"] == function.function_name
        assert line["request_id"] == context.aws_request_id
        assert line["bucket"] == BUCKET
        assert isinstance(line["duration_ms"], float)


def test_a_context_without_request_id_is_tolerated(
    function: Function, capsys: pytest.CaptureFixture[str]
) -> None:
    assert function.invoke(function.valid_event(), object())[0] == 200
    assert log_lines(capsys)[0]["request_id"] is None


# --- configuration -----------------------------------------------------------------------------


@pytest.mark.parametrize("variable", ["TARGET_ROLE_ARN", "TARGET_BUCKET", "TARGET_KEY_PREFIX"])
def test_missing_configuration_names_the_variable(
    function: Function,
    monkeypatch: pytest.MonkeyPatch,
    context: LambdaContext,
    capsys: pytest.CaptureFixture[str],
    variable: str,
) -> None:
    event = function.valid_event()
    before = function.accounts.objects()
    monkeypatch.delenv(variable)

    with pytest.raises(function.module.ConfigurationError, match=f"{variable} is required"):
        function.module.lambda_handler(event, context)

    assert function.accounts.objects() == before
    assert Accounts.sessions_of_prod_role(function.role_arn) == 0
    [line] = log_lines(capsys)
    assert line["error"] == "ConfigurationError"
    assert variable in line["message"]


@pytest.mark.parametrize(
    ("function", "variable", "value", "fragment"),
    per_function(
        [
            pytest.param("TARGET_ROLE_ARN", "cross-account-s3-writer", "IAM role ARN", id="role-a-name"),
            pytest.param("TARGET_ROLE_ARN", "arn:aws:iam::111111111111:user/someone", "IAM role ARN",
                         id="role-a-user"),
            pytest.param("TARGET_BUCKET", "Not_A_Bucket", "bucket name", id="bucket"),
            pytest.param("TARGET_KEY_PREFIX", "/incoming", "start with '/'", id="prefix-leading-slash"),
            pytest.param("TARGET_KEY_PREFIX", "in/../coming", "'..'", id="prefix-dotdot"),
            pytest.param("TARGET_REGION", "Ireland", "region like", id="region"),
            pytest.param("EXTERNAL_ID", "x", "2-1224 characters", id="external-id"),
            pytest.param("SESSION_TAGS", "function=writer", "JSON object", id="session-tags-not-json"),
            pytest.param("SESSION_TAGS", '{"function": 7}', "JSON object", id="session-tag-not-text"),
            pytest.param("SESSION_TAGS", '{"fünction": "w"}', "JSON object", id="session-tag-key-non-ascii"),
            pytest.param("SOURCE_IDENTITY", "x", "2-64 of", id="source-identity-too-short"),
            pytest.param("SOURCE_IDENTITY", "a b", "2-64 of", id="source-identity-space"),
            # Each function's own size limit: MAX_BODY_BYTES (writer), MAX_OBJECT_BYTES (reader).
            pytest.param("{limit}", "lots", "positive integer", id="limit-not-a-number"),
            pytest.param("{limit}", "0", "positive integer", id="limit-zero"),
            pytest.param("{limit}", "-1", "positive integer", id="limit-negative"),
        ],
        reader=[pytest.param("MAX_OBJECT_BYTES", str(CEILING + 1), f"at most {CEILING}", id="limit-over-ceiling")],
    ),
    indirect=["function"],
)
def test_invalid_configuration_names_the_variable(
    function: Function,
    monkeypatch: pytest.MonkeyPatch,
    context: LambdaContext,
    variable: str,
    value: str,
    fragment: str,
) -> None:
    variable = variable.format(limit=function.limit_variable)
    event = function.valid_event()
    before = function.accounts.objects()
    monkeypatch.setenv(variable, value)

    with pytest.raises(function.module.ConfigurationError, match=variable) as raised:
        function.module.lambda_handler(event, context)

    assert fragment in str(raised.value)
    assert function.accounts.objects() == before


def test_the_other_functions_size_limit_is_not_this_ones_business(
    function: Function, monkeypatch: pytest.MonkeyPatch, context: LambdaContext
) -> None:
    [other] = [kind for kind in FUNCTIONS.values() if not isinstance(function, kind)]
    monkeypatch.setenv(other.limit_variable, "lots")

    assert function.invoke(function.valid_event(), context)[0] == 200


def test_target_region_is_required_when_there_is_no_aws_region(
    function: Function, monkeypatch: pytest.MonkeyPatch, context: LambdaContext
) -> None:
    monkeypatch.delenv("AWS_REGION")

    with pytest.raises(function.module.ConfigurationError, match="TARGET_REGION"):
        function.module.lambda_handler(function.valid_event(), context)


@pytest.mark.parametrize(
    ("aws_region", "target_region", "s3_region", "sts_region"),
    [
        ("us-east-1", "eu-west-1", "eu-west-1", "us-east-1"),
        ("eu-west-1", None, "eu-west-1", "eu-west-1"),
    ],
    ids=["target-region-given", "defaults-to-aws-region"],
)
def test_s3_client_is_created_in_the_target_region(
    function: Function,
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

    assert function.invoke(function.valid_event(), context)[0] == 200

    client = function.client()
    assert client.s3.meta.region_name == s3_region
    assert client.sts.meta.region_name == sts_region


def test_clients_use_standard_retries_and_timeouts(function: Function) -> None:
    client = function.client()

    for sdk_client in (client.s3, client.sts):
        assert sdk_client.meta.config.retries == {"mode": "standard", "total_max_attempts": 3}
        assert sdk_client.meta.config.connect_timeout <= 5
        assert sdk_client.meta.config.read_timeout <= 10


# --- packaging ---------------------------------------------------------------------------------


def test_package_works_from_the_zip_alone_and_imports_nothing_else(function: Function, tmp_path: Path) -> None:
    """In Lambda, the zip holds the lambda_handler package and nothing else of this repository (both functions
    ship the same zip): each entry module must import from it alone, pull in only the standard library and
    botocore, and create no client at import time."""
    module = function.module.__name__.rpartition(".")[2]  # handler, reader_handler
    package = Path(config.__file__).parent  # lambda_handler, both functions' package
    zip_root = tmp_path / "task"
    (zip_root / package.name).mkdir(parents=True)
    for source in package.glob("*.py"):  # what components/grant_function.py packages
        shutil.copy(source, zip_root / package.name / source.name)
    script = f"""
import json, sys
before = set(sys.modules)
sys.path.insert(0, {str(zip_root)!r})
from lambda_handler import {module} as entry
added = {{name.split(".")[0] for name in set(sys.modules) - before}}
print(json.dumps({{
    "from_zip": entry.__file__.startswith({str(zip_root)!r}),
    "third_party": sorted(n for n in added if n not in sys.stdlib_module_names and not n.startswith("_")),
    "cold": entry.{function.cached_client} is None and entry._CONFIG is None,
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
    assert report["cold"] is True
    allowed = {"lambda_handler", "botocore", "dateutil", "jmespath", "urllib3", "six", "certifi"}
    assert set(report["third_party"]) <= allowed, report["third_party"]
