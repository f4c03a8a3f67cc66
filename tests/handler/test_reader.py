"""Specs for the DEV-account Lambda that reads one object from the PROD bucket via the PROD reader role."""

from __future__ import annotations

import base64
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

from lambda_handler import config, reader_handler
from lambda_handler.invocation import response_bytes
from lambda_handler.reader import ObjectRead

from .conftest import (
    BUCKET,
    EXPIRED_TOKEN,
    KEY_PREFIX,
    READER_FUNCTION_NAME,
    READER_ROLE_ARN,
    REGION,
    Accounts,
    FakeClock,
    LambdaContext,
    StsCalls,
    load_event,
    log_lines,
    signing_keys,
    stubbed_sts,
)

MAX_KEY_BYTES = 1024 - len(KEY_PREFIX.encode())
CEILING = config.MAX_OBJECT_BYTES_CEILING
Install = Callable[..., reader_handler.RoleReader]


def invoke(event: Any, context: object) -> tuple[int, dict[str, Any]]:
    response = reader_handler.lambda_handler(event, context)
    assert set(response) == {"statusCode", "body"}
    return response["statusCode"], json.loads(response["body"])


def returned_bytes(body: dict[str, Any]) -> bytes:
    """The object's bytes as a caller gets them back from a 200 body."""
    if body["encoding"] == "utf-8":
        return body["body"].encode("utf-8")
    assert body["encoding"] == "base64"
    return base64.b64decode(body["body"], validate=True)


def reader_sessions() -> int:
    return Accounts.sessions_of_prod_role(READER_ROLE_ARN)


# --- success -----------------------------------------------------------------------------------


def test_reads_a_text_object_under_the_prefix_and_returns_it_as_utf8(
    reader_env: Accounts, sts_calls: StsCalls, context: LambdaContext
) -> None:
    key = f"{KEY_PREFIX}reports/2024-06-01.txt"
    stored = reader_env.put("reports/2024-06-01.txt", "hello from prod, café\n".encode(),
                            ContentType="text/plain; charset=utf-8")

    status, body = invoke(load_event("read_object.json"), context)

    assert status == 200
    assert body == {
        "bucket": BUCKET,
        "key": key,
        "size": len("hello from prod, café\n".encode()),
        "contentType": "text/plain; charset=utf-8",
        "versionId": stored["VersionId"],
        "encoding": "utf-8",
        "body": "hello from prod, café\n",
    }
    assert body["versionId"] is not None
    assert [call["RoleArn"] for call in sts_calls.params] == [READER_ROLE_ARN]


def test_a_binary_object_is_returned_as_base64(reader_env: Accounts, context: LambdaContext) -> None:
    data = bytes(range(256))  # not UTF-8
    reader_env.put("blobs/all-bytes.bin", data, ContentType="application/octet-stream")

    status, body = invoke({"key": "blobs/all-bytes.bin"}, context)

    assert status == 200
    assert (body["encoding"], body["size"], body["contentType"]) == ("base64", 256, "application/octet-stream")
    assert base64.b64decode(body["body"], validate=True) == data


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (b"", "utf-8"),
        (b"nul \x00 and bell \x07 are UTF-8 too", "utf-8"),
        ("😀 four-byte characters".encode(), "utf-8"),
        (b"\xef\xbb\xbfa byte order mark", "utf-8"),
        (b"caf\xe9 in Latin-1", "base64"),
        (b"\xed\xa0\x80 an encoded surrogate", "base64"),
        ("cut short: é".encode()[:-1], "base64"),
    ],
    ids=["empty", "control-characters", "astral", "bom", "latin-1", "surrogate", "truncated-sequence"],
)
def test_text_is_utf8_exactly_when_the_bytes_decode_as_utf8(
    reader_env: Accounts, context: LambdaContext, data: bytes, encoding: str
) -> None:
    reader_env.put("sample", data)

    status, body = invoke({"key": "sample"}, context)

    assert (status, body["encoding"], body["size"]) == (200, encoding, len(data))
    assert returned_bytes(body) == data


def test_object_is_read_with_the_assumed_role_not_the_execution_role(
    reader_env: Accounts, install_reader: Install, sts_calls: StsCalls, context: LambdaContext
) -> None:
    reader_env.put("signed.txt", b"x")
    keys = signing_keys(install_reader(), "GetObject")

    status, _ = invoke({"key": "signed.txt"}, context)

    assert status == 200
    assert keys == [sts_calls.credentials[0]["AccessKeyId"]]
    assert keys[0] != reader_env.dev_access_key_id


def test_execution_role_alone_cannot_read_the_prod_bucket(reader_env: Accounts) -> None:
    """Sanity check of the fixture: without the role, DEV really is refused by (moto's) S3."""
    reader_env.put("direct.txt", b"x")
    dev_s3 = botocore.session.Session().create_client("s3", region_name=REGION)

    with pytest.raises(dev_s3.exceptions.ClientError, match="AccessDenied"):
        dev_s3.get_object(Bucket=BUCKET, Key=f"{KEY_PREFIX}direct.txt")


def test_version_id_is_null_in_a_bucket_that_never_had_versioning(
    reader_env: Accounts, monkeypatch: pytest.MonkeyPatch, context: LambdaContext
) -> None:
    unversioned = f"prod-plain-{BUCKET}"[:63]
    reader_env.prod_s3.create_bucket(Bucket=unversioned, CreateBucketConfiguration={"LocationConstraint": REGION})
    reader_env.prod_s3.put_object(Bucket=unversioned, Key=f"{KEY_PREFIX}a.txt", Body=b"a")
    monkeypatch.setenv("TARGET_BUCKET", unversioned)

    status, body = invoke({"key": "a.txt"}, context)

    assert (status, body["bucket"], body["versionId"]) == (200, unversioned, None)


def test_the_latest_version_is_read(reader_env: Accounts, context: LambdaContext) -> None:
    reader_env.put("report.txt", b"first")
    latest = reader_env.put("report.txt", b"second")

    _, body = invoke({"key": "report.txt"}, context)

    assert (body["body"], body["versionId"]) == ("second", latest["VersionId"])


@pytest.mark.parametrize(("prefix", "full_key"), [("incoming", "incoming/a.txt"), ("", "a.txt")])
def test_the_key_is_read_under_the_normalised_prefix(
    reader_env: Accounts, monkeypatch: pytest.MonkeyPatch, context: LambdaContext, prefix: str, full_key: str
) -> None:
    reader_env.prod_s3.put_object(Bucket=BUCKET, Key=full_key, Body=b"here")
    monkeypatch.setenv("TARGET_KEY_PREFIX", prefix)

    status, body = invoke({"key": "a.txt"}, context)

    assert (status, body["key"], body["body"]) == (200, full_key, "here")


def test_key_of_exactly_the_maximum_length_is_read(reader_env: Accounts, context: LambdaContext) -> None:
    reader_env.put("k" * MAX_KEY_BYTES, b"long")

    status, body = invoke({"key": "k" * MAX_KEY_BYTES}, context)

    assert (status, len(body["key"].encode())) == (200, 1024)


# --- not found ---------------------------------------------------------------------------------


def test_a_missing_key_gives_404_naming_the_key(
    reader_env: Accounts, context: LambdaContext, capsys: pytest.CaptureFixture[str]
) -> None:
    status, body = invoke({"key": "reports/missing.txt"}, context)

    assert (status, body["error"]) == (404, "NoSuchKey")
    assert f"s3://{BUCKET}/{KEY_PREFIX}reports/missing.txt" in body["message"]
    [line] = log_lines(capsys)
    assert (line["status"], line["error"], line["key"]) == (404, "NoSuchKey", f"{KEY_PREFIX}reports/missing.txt")


def test_a_missing_key_that_an_xml_error_document_cannot_hold_still_gives_404(
    reader_env: Accounts, context: LambdaContext
) -> None:
    # S3 keys may hold U+FFFE; the NoSuchKey document naming it does not parse, and botocore says just "404".
    status, body = invoke({"key": "odd\ufffe.txt"}, context)

    assert (status, body["error"]) == (404, "NoSuchKey")
    assert f"{KEY_PREFIX}odd\ufffe.txt" in body["message"]


def test_a_deleted_object_gives_404(reader_env: Accounts, context: LambdaContext) -> None:
    reader_env.put("gone.txt", b"x")
    reader_env.prod_s3.delete_object(Bucket=BUCKET, Key=f"{KEY_PREFIX}gone.txt")  # a delete marker on top

    status, body = invoke({"key": "gone.txt"}, context)

    assert (status, body["error"]) == (404, "NoSuchKey")


# --- validation --------------------------------------------------------------------------------

INVALID_EVENTS = [
    pytest.param(["key"], "event", "JSON object", id="event-is-a-list"),
    pytest.param("reports/a.txt", "event", "JSON object", id="event-is-a-string"),
    pytest.param(None, "event", "JSON object", id="event-is-null"),
    pytest.param({}, "key", "'key' is required", id="key-missing"),
    pytest.param({"kee": "a.txt"}, "kee", "the only allowed field is 'key'", id="unknown-field"),
    pytest.param({"key": "a.txt", "body": "x"}, "body", "the only allowed field is 'key'",
                 id="a-writer-field"),
    pytest.param({"key": "a.txt", "version": "1"}, "version", "unknown field", id="key-and-unknown-field"),
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
    pytest.param({"key": "\ud800"}, "key", "lone surrogates", id="key-lone-surrogate"),
    pytest.param({"key": "k" * (MAX_KEY_BYTES + 1)}, "key", f"at most {MAX_KEY_BYTES}", id="key-too-long"),
    pytest.param({"key": "é" * (MAX_KEY_BYTES // 2 + 1)}, "key", f"at most {MAX_KEY_BYTES}",
                 id="key-too-long-in-utf8-bytes"),
]


@pytest.mark.parametrize(("event", "field", "fragment"), INVALID_EVENTS)
def test_invalid_event_gives_400_naming_the_field_and_the_role_is_not_assumed(
    reader_env: Accounts,
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
    assert sts_calls.params == [], "the role must not even be assumed for a bad event"
    assert reader_sessions() == 0
    [line] = log_lines(capsys)
    assert (line["status"], line["error"], line["field"]) == (400, "InvalidEvent", field)


# --- size --------------------------------------------------------------------------------------


@pytest.fixture
def body_reads(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Count reads and closes of every streamed body botocore hands out (GetObject's ``Body``)."""
    counts = {"read": 0, "close": 0}
    read, close = StreamingBody.read, StreamingBody.close

    def counted_read(self: StreamingBody, *args: Any, **kwargs: Any) -> bytes:
        counts["read"] += 1
        return read(self, *args, **kwargs)

    def counted_close(self: StreamingBody) -> None:
        counts["close"] += 1
        close(self)

    monkeypatch.setattr(StreamingBody, "read", counted_read)
    monkeypatch.setattr(StreamingBody, "close", counted_close)
    return counts


def test_an_object_over_max_object_bytes_gives_413_and_its_body_is_never_read(
    reader_env: Accounts,
    monkeypatch: pytest.MonkeyPatch,
    context: LambdaContext,
    capsys: pytest.CaptureFixture[str],
    body_reads: dict[str, int],
) -> None:
    monkeypatch.setenv("MAX_OBJECT_BYTES", "16")
    reader_env.put("big.bin", b"x" * 17)

    status, body = invoke({"key": "big.bin"}, context)

    assert (status, body["error"]) == (413, "ObjectTooLarge")
    assert f"s3://{BUCKET}/{KEY_PREFIX}big.bin is 17 bytes" in body["message"]
    assert "the limit is 16 bytes (MAX_OBJECT_BYTES)" in body["message"]
    assert body_reads == {"read": 0, "close": 1}, "the stream is closed unread"
    [line] = log_lines(capsys)
    assert (line["status"], line["error"], line["size"]) == (413, "ObjectTooLarge", 17)


def test_an_object_of_exactly_max_object_bytes_is_returned(
    reader_env: Accounts, monkeypatch: pytest.MonkeyPatch, context: LambdaContext, body_reads: dict[str, int]
) -> None:
    monkeypatch.setenv("MAX_OBJECT_BYTES", "16")
    reader_env.put("fits.bin", b"x" * 16)

    status, body = invoke({"key": "fits.bin"}, context)

    assert (status, body["size"], body["body"]) == (200, 16, "x" * 16)
    assert body_reads["read"] >= 1 and body_reads["close"] == 1  # the counting sees reads


def test_the_default_limit_is_256_kib(reader_env: Accounts, context: LambdaContext) -> None:
    reader_env.put("at-limit", b"a" * 262_144)
    reader_env.put("over-limit", b"a" * 262_145)

    assert invoke({"key": "at-limit"}, context)[0] == 200
    assert invoke({"key": "over-limit"}, context)[0] == 413


def test_large_utf8_text_that_would_not_fit_lambdas_response_once_escaped_comes_back_in_base64(
    reader_env: Accounts, monkeypatch: pytest.MonkeyPatch, context: LambdaContext
) -> None:
    # 1 MiB of NULs is valid UTF-8, but each is 7 bytes once escaped twice: 7 MiB, over Lambda's 6 MiB.
    data = b"\x00" * (1024 * 1024)
    monkeypatch.setenv("MAX_OBJECT_BYTES", str(len(data)))
    reader_env.put("nuls.bin", data)

    response = reader_handler.lambda_handler({"key": "nuls.bin"}, context)

    assert response_bytes(response) <= config.LAMBDA_RESPONSE_LIMIT
    body = json.loads(response["body"])
    assert (response["statusCode"], body["encoding"]) == (200, "base64")
    assert returned_bytes(body) == data


def found(data: bytes, *, key: str = f"{KEY_PREFIX}k", content_type: str = "text/plain",
          version_id: str = "v1") -> ObjectRead:
    return ObjectRead(bucket=BUCKET, key=key, size=len(data), content_type=content_type, version_id=version_id,
                      data=data)


# The most every field but the body can add to a response, escaped twice: the longest key of '"' (4 bytes each),
# a content type and a version id filling S3's 8 KB of request headers with them.
WORST_KEY = KEY_PREFIX + '"' * MAX_KEY_BYTES
WORST_HEADER = '"' * 8192


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"\xff" * CEILING, id="binary"),
        pytest.param(b"\x00" * CEILING, id="control-characters"),
        pytest.param("€".encode() * (CEILING // 3), id="three-byte-characters"),
        pytest.param(b'"' * CEILING, id="quotes"),
    ],
)
def test_any_object_up_to_the_ceiling_fits_lambdas_response_even_with_the_largest_metadata(data: bytes) -> None:
    response, encoding = reader_handler.object_response(
        found(data, key=WORST_KEY, content_type=WORST_HEADER, version_id=WORST_HEADER)
    )

    assert response_bytes(response) <= config.LAMBDA_RESPONSE_LIMIT
    assert len(json.dumps(response, ensure_ascii=False).encode()) <= config.LAMBDA_RESPONSE_LIMIT
    body = json.loads(response["body"])
    assert (body["encoding"], returned_bytes(body)) == (encoding, data)


def test_text_falls_back_to_base64_only_when_its_escaped_response_would_not_fit() -> None:
    # "€" is 3 bytes, "\\u20ac" (7) once escaped twice: n of them make about 7n bytes of response.
    fits = (config.LAMBDA_RESPONSE_LIMIT - 1000) // 7
    too_many = config.LAMBDA_RESPONSE_LIMIT // 7 + 1

    assert reader_handler.object_response(found("€".encode() * fits))[1] == "utf-8"
    assert reader_handler.object_response(found("€".encode() * too_many))[1] == "base64"
    assert reader_handler.object_response(found(b"a" * CEILING))[1] == "utf-8"  # plain ASCII never grows


def test_an_object_whose_response_would_not_fit_even_in_base64_is_a_413_not_a_function_error() -> None:
    """Beyond the ceiling's envelope (metadata no S3 returns): refused here rather than by Lambda."""
    with pytest.raises(reader_handler.ObjectTooLarge, match="do not fit Lambda's 6291456-byte response"):
        reader_handler.object_response(found(b"\xff" * CEILING, content_type='"' * 200_000))


# --- AWS errors --------------------------------------------------------------------------------


def test_assume_role_access_denied_gives_403_naming_the_role(
    reader_env: Accounts, install_reader: Install, sts_calls: StsCalls, context: LambdaContext
) -> None:
    # moto does not evaluate trust policies, so the refusal is stubbed on a real STS client.
    reader_env.put("a.txt", b"x")
    install_reader(sts_client=stubbed_sts("AccessDenied", 403))

    status, body = invoke({"key": "a.txt"}, context)

    assert (status, body["error"]) == (403, "AccessDenied")
    assert READER_ROLE_ARN in body["message"]
    assert len(sts_calls.params) == 1


def test_get_object_access_denied_gives_403_naming_the_bucket_and_key(
    reader_env: Accounts, install_reader: Install, monkeypatch: pytest.MonkeyPatch, context: LambdaContext,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # A real refusal from moto: a role of a third account may not read PROD's bucket (as for the writer).
    reader_env.put("a.txt", b"secret data")
    monkeypatch.setenv("TARGET_ROLE_ARN", "arn:aws:iam::333333333333:role/cross-account-s3-reader")
    install_reader()

    status, body = invoke({"key": "a.txt"}, context)

    assert (status, body["error"]) == (403, "AccessDenied")
    assert f"s3://{BUCKET}/{KEY_PREFIX}a.txt" in body["message"]
    assert "s3:ListBucket" in body["message"], "says a missing key looks like this without ListBucket"
    assert "secret data" not in json.dumps(body)
    [line] = log_lines(capsys)
    assert (line["status"], line["error"]) == (403, "AccessDenied")


def _missing_bucket(monkeypatch: pytest.MonkeyPatch, install_reader: Install) -> None:
    monkeypatch.setenv("TARGET_BUCKET", "prod-bucket-that-does-not-exist")
    install_reader()


def _unreachable_endpoint(monkeypatch: pytest.MonkeyPatch, install_reader: Install) -> None:
    def refuse(**_: Any) -> None:
        raise EndpointConnectionError(endpoint_url=f"https://s3.{REGION}.amazonaws.com")

    # before-call: fails like a dead network, without botocore's retry back-off (no sleeping).
    install_reader().s3.meta.events.register("before-call.s3.GetObject", refuse)


def _connection_lost_mid_body(monkeypatch: pytest.MonkeyPatch, install_reader: Install) -> None:
    def lost(self: StreamingBody, *args: Any, **kwargs: Any) -> bytes:
        raise ReadTimeoutError(endpoint_url=f"https://s3.{REGION}.amazonaws.com")

    install_reader()
    monkeypatch.setattr(StreamingBody, "read", lost)


def _sts_throttled(monkeypatch: pytest.MonkeyPatch, install_reader: Install) -> None:
    install_reader(sts_client=stubbed_sts("Throttling", 400))


@pytest.mark.parametrize(
    ("arrange", "code", "named"),
    [
        (_missing_bucket, "NoSuchBucket", "prod-bucket-that-does-not-exist"),
        (_unreachable_endpoint, "EndpointConnectionError", f"{BUCKET}/{KEY_PREFIX}a.txt"),
        (_connection_lost_mid_body, "ReadTimeoutError", f"{BUCKET}/{KEY_PREFIX}a.txt"),
        (_sts_throttled, "Throttling", READER_ROLE_ARN),
    ],
    ids=["no-such-bucket", "endpoint-unreachable", "connection-lost-mid-body", "assume-role-throttled"],
)
def test_other_errors_give_502(
    reader_env: Accounts,
    install_reader: Install,
    monkeypatch: pytest.MonkeyPatch,
    context: LambdaContext,
    capsys: pytest.CaptureFixture[str],
    arrange: Callable[[pytest.MonkeyPatch, Install], None],
    code: str,
    named: str,
) -> None:
    reader_env.put("a.txt", b"x")
    arrange(monkeypatch, install_reader)

    status, body = invoke({"key": "a.txt"}, context)

    assert (status, body["error"]) == (502, code)
    assert named in body["message"]
    [line] = log_lines(capsys)
    assert (line["status"], line["error"]) == (502, code)


def expired_token_answers(reader: reader_handler.RoleReader, count: int) -> None:
    """S3 answers the reader's next ``count`` GetObject attempts with ExpiredToken (a GET changes nothing, so
    moto may carry it out too: the first answer handed back, ours, is the one botocore takes)."""
    remaining = [count]

    def answer(request: Any, **_: Any) -> Any:
        if remaining[0] == 0:
            return None
        remaining[0] -= 1
        return EXPIRED_TOKEN(request)

    reader.s3.meta.events.register_first("before-send.s3.GetObject", answer)


def test_expired_token_assumes_the_role_again_once_and_reads(
    reader_env: Accounts, install_reader: Install, sts_calls: StsCalls, context: LambdaContext,
    capsys: pytest.CaptureFixture[str],
) -> None:
    reader_env.put("a.txt", b"x")
    reader = install_reader()
    keys = signing_keys(reader, "GetObject")
    assert invoke({"key": "a.txt"}, context)[0] == 200  # credentials cached
    expired_token_answers(reader, 1)

    status, body = invoke({"key": "a.txt"}, context)

    assert (status, body["body"]) == (200, "x")
    assert len(sts_calls.params) == 2
    first, second = (credentials["AccessKeyId"] for credentials in sts_calls.credentials)
    assert keys == [first, first, second]  # warm, expired, then the new session's
    assert [line["credentials_refreshed"] for line in log_lines(capsys)] == [False, True]


def test_expired_token_twice_is_a_502_after_one_refresh(
    reader_env: Accounts, install_reader: Install, sts_calls: StsCalls, context: LambdaContext
) -> None:
    reader_env.put("a.txt", b"x")
    expired_token_answers(install_reader(), 3)

    status, body = invoke({"key": "a.txt"}, context)

    assert (status, body["error"]) == (502, "ExpiredToken")
    assert len(sts_calls.params) == 2


# --- credentials -------------------------------------------------------------------------------


def test_credentials_are_reused_across_warm_invocations(
    reader_env: Accounts, sts_calls: StsCalls, context: LambdaContext
) -> None:
    reader_env.put("a.txt", b"x")
    outcomes = [invoke(event, context)[0] for event in ({"key": "a.txt"}, {"key": "missing"}, {"key": "a.txt"},
                                                        {"key": "../bad"}, {"key": "a.txt"})]

    assert outcomes == [200, 404, 200, 400, 200]
    assert len(sts_calls.params) == 1
    assert reader_sessions() == 1


def test_credentials_refresh_when_they_expire(
    reader_env: Accounts, install_reader: Install, sts_calls: StsCalls, context: LambdaContext
) -> None:
    reader_env.put("a.txt", b"x")
    clock = FakeClock()
    keys = signing_keys(install_reader(clock=clock), "GetObject")

    assert invoke({"key": "a.txt"}, context)[0] == 200
    clock.offset = timedelta(minutes=55)  # inside botocore's mandatory refresh window of the 1-hour session
    assert invoke({"key": "a.txt"}, context)[0] == 200

    assert len(sts_calls.params) == 2
    assert keys == [c["AccessKeyId"] for c in sts_calls.credentials]
    assert keys[0] != keys[1]


def test_session_name_names_the_reader_function_and_duration_is_at_most_an_hour(
    reader_env: Accounts, sts_calls: StsCalls, context: LambdaContext
) -> None:
    invoke({"key": "a.txt"}, context)

    [call] = sts_calls.params
    assert call["RoleArn"] == READER_ROLE_ARN
    assert call["RoleSessionName"] == READER_FUNCTION_NAME
    assert 900 <= call["DurationSeconds"] <= 3600
    assert "ExternalId" not in call


def test_session_name_without_a_function_name_says_reader(
    reader_env: Accounts, sts_calls: StsCalls, monkeypatch: pytest.MonkeyPatch, context: LambdaContext
) -> None:
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME")

    invoke({"key": "a.txt"}, context)

    assert [call["RoleSessionName"] for call in sts_calls.params] == [config.READER_FALLBACK_SESSION_NAME]


def test_external_id_is_sent_when_configured(
    reader_env: Accounts, sts_calls: StsCalls, monkeypatch: pytest.MonkeyPatch, context: LambdaContext
) -> None:
    monkeypatch.setenv("EXTERNAL_ID", "prod-reader-7f3a9c")

    assert invoke({"key": "a.txt"}, context)[0] == 404

    assert [call.get("ExternalId") for call in sts_calls.params] == ["prod-reader-7f3a9c"]


def test_responses_and_logs_never_contain_credentials(
    reader_env: Accounts,
    install_reader: Install,
    sts_calls: StsCalls,
    monkeypatch: pytest.MonkeyPatch,
    context: LambdaContext,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    reader_env.put("ok.txt", b"x")
    responses = [
        reader_handler.lambda_handler({"key": "ok.txt"}, context),
        reader_handler.lambda_handler({"key": "missing.txt"}, context),
        reader_handler.lambda_handler({"key": "../bad"}, context),
    ]
    monkeypatch.setenv("TARGET_BUCKET", "prod-bucket-that-does-not-exist")
    install_reader()
    responses.append(reader_handler.lambda_handler({"key": "ok.txt"}, context))
    install_reader(sts_client=stubbed_sts("AccessDenied", 403))
    responses.append(reader_handler.lambda_handler({"key": "ok.txt"}, context))

    assert [r["statusCode"] for r in responses] == [200, 404, 400, 502, 403]
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


def test_each_invocation_logs_one_json_line_with_no_object_content(
    reader_env: Accounts,
    monkeypatch: pytest.MonkeyPatch,
    context: LambdaContext,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("MAX_OBJECT_BYTES", "64")
    reader_env.put("text.txt", b"the text itself stays out of the log")
    reader_env.put("blob.bin", b"\xff\xfe binary stays out too")
    reader_env.put("big.txt", b"b" * 65)
    expected = [
        ({"key": "text.txt"}, 200, None),
        ({"key": "blob.bin"}, 200, None),
        ({"key": "missing.txt"}, 404, "NoSuchKey"),
        ({"key": "big.txt"}, 413, "ObjectTooLarge"),
        ({"kee": "x"}, 400, "InvalidEvent"),
    ]
    for event, status, _ in expected:
        assert invoke(event, context)[0] == status

    captured = capsys.readouterr().out
    lines = [json.loads(line) for line in captured.splitlines()]
    assert [(line["status"], line["error"]) for line in lines] == [(s, e) for _, s, e in expected]
    for line in lines:
        assert (line["function"], line["request_id"], line["bucket"]) == (
            READER_FUNCTION_NAME, context.aws_request_id, BUCKET)
        assert isinstance(line["duration_ms"], float)
    text, blob = lines[0], lines[1]
    assert (text["key"], text["size"], text["encoding"], text["credentials_refreshed"]) == (
        f"{KEY_PREFIX}text.txt", 36, "utf-8", False)
    assert (blob["encoding"], lines[3]["size"], lines[4]["field"]) == ("base64", 65, "kee")
    assert "the text itself" not in captured
    assert base64.b64encode(b"\xff\xfe binary stays out too").decode() not in captured


def test_a_context_without_request_id_is_tolerated(
    reader_env: Accounts, capsys: pytest.CaptureFixture[str]
) -> None:
    assert invoke({"key": "a.txt"}, object())[0] == 404
    assert log_lines(capsys)[0]["request_id"] is None


# --- configuration -----------------------------------------------------------------------------


@pytest.mark.parametrize("variable", ["TARGET_ROLE_ARN", "TARGET_BUCKET", "TARGET_KEY_PREFIX"])
def test_missing_configuration_names_the_variable(
    reader_env: Accounts,
    monkeypatch: pytest.MonkeyPatch,
    context: LambdaContext,
    capsys: pytest.CaptureFixture[str],
    variable: str,
) -> None:
    monkeypatch.delenv(variable)

    with pytest.raises(reader_handler.ConfigurationError, match=f"{variable} is required"):
        reader_handler.lambda_handler({"key": "a.txt"}, context)

    [line] = log_lines(capsys)
    assert line["error"] == "ConfigurationError"
    assert variable in line["message"]


@pytest.mark.parametrize(
    ("variable", "value", "fragment"),
    [
        ("TARGET_ROLE_ARN", "cross-account-s3-reader", "IAM role ARN"),
        ("TARGET_BUCKET", "Not_A_Bucket", "bucket name"),
        ("TARGET_KEY_PREFIX", "in/../coming", "'..'"),
        ("TARGET_REGION", "Ireland", "region like"),
        ("EXTERNAL_ID", "x", "2-1224 characters"),
        ("MAX_OBJECT_BYTES", "lots", "positive integer"),
        ("MAX_OBJECT_BYTES", "0", "positive integer"),
        ("MAX_OBJECT_BYTES", "-1", "positive integer"),
        ("MAX_OBJECT_BYTES", str(CEILING + 1), f"at most {CEILING}"),
    ],
)
def test_invalid_configuration_names_the_variable(
    reader_env: Accounts,
    monkeypatch: pytest.MonkeyPatch,
    context: LambdaContext,
    variable: str,
    value: str,
    fragment: str,
) -> None:
    monkeypatch.setenv(variable, value)

    with pytest.raises(reader_handler.ConfigurationError, match=variable) as raised:
        reader_handler.lambda_handler({"key": "a.txt"}, context)

    assert fragment in str(raised.value)


def test_max_object_bytes_may_be_the_ceiling_which_is_the_stacks_4_mib(
    reader_env: Accounts, monkeypatch: pytest.MonkeyPatch, context: LambdaContext
) -> None:
    monkeypatch.setenv("MAX_OBJECT_BYTES", str(CEILING))

    assert invoke({"key": "a.txt"}, context)[0] == 404
    assert reader_handler._get_config().max_object_bytes == CEILING == 4 * 1024 * 1024


def test_the_writers_max_body_bytes_is_not_the_readers_business(
    reader_env: Accounts, monkeypatch: pytest.MonkeyPatch, context: LambdaContext
) -> None:
    monkeypatch.setenv("MAX_BODY_BYTES", "lots")

    assert invoke({"key": "a.txt"}, context)[0] == 404


@pytest.mark.parametrize(
    ("aws_region", "target_region", "s3_region", "sts_region"),
    [
        ("us-east-1", "eu-west-1", "eu-west-1", "us-east-1"),
        ("eu-west-1", None, "eu-west-1", "eu-west-1"),
    ],
    ids=["target-region-given", "defaults-to-aws-region"],
)
def test_s3_client_is_created_in_the_target_region(
    reader_env: Accounts,
    monkeypatch: pytest.MonkeyPatch,
    context: LambdaContext,
    aws_region: str,
    target_region: str | None,
    s3_region: str,
    sts_region: str,
) -> None:
    reader_env.put("a.txt", b"x")
    monkeypatch.setenv("AWS_REGION", aws_region)
    if target_region is not None:
        monkeypatch.setenv("TARGET_REGION", target_region)

    assert invoke({"key": "a.txt"}, context)[0] == 200

    reader = reader_handler._get_reader()
    assert reader.s3.meta.region_name == s3_region
    assert reader.sts.meta.region_name == sts_region


def test_clients_use_standard_retries_and_timeouts(reader_env: Accounts) -> None:
    reader = reader_handler._get_reader()

    for client in (reader.s3, reader.sts):
        assert client.meta.config.retries == {"mode": "standard", "total_max_attempts": 3}
        assert client.meta.config.connect_timeout <= 5
        assert client.meta.config.read_timeout <= 10


# --- packaging ---------------------------------------------------------------------------------


def test_package_works_from_the_zip_alone_and_imports_nothing_else(tmp_path: Path) -> None:
    """The reader ships in the same zip as the writer (every lambda_handler/*.py): ``reader_handler`` must
    import from it alone, pull in only the standard library and botocore, and create no client at import."""
    package = Path(reader_handler.__file__).parent
    zip_root = tmp_path / "task"
    (zip_root / package.name).mkdir(parents=True)
    for source in package.glob("*.py"):  # what components/grant_function.py packages
        shutil.copy(source, zip_root / package.name / source.name)
    script = f"""
import json, sys
before = set(sys.modules)
sys.path.insert(0, {str(zip_root)!r})
from lambda_handler import reader_handler
added = {{name.split(".")[0] for name in set(sys.modules) - before}}
print(json.dumps({{
    "from_zip": reader_handler.__file__.startswith({str(zip_root)!r}),
    "third_party": sorted(n for n in added if n not in sys.stdlib_module_names and not n.startswith("_")),
    "cold": reader_handler._READER is None and reader_handler._CONFIG is None,
}}))
"""
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
