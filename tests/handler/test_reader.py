"""Specs for the DEV-account Lambda that reads one object from the PROD bucket via the PROD reader role: what only
the reader does. What both Lambdas do (the role, errors, credentials, configuration, logging, packaging) is
specified once for both in test_both_functions.py."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import pytest
from botocore.response import StreamingBody

from lambda_handler import config, reader_handler
from lambda_handler.invocation import response_bytes
from lambda_handler.reader import ObjectRead

from .conftest import (
    BUCKET,
    KEY_PREFIX,
    READER_FUNCTION_NAME,
    READER_ROLE_ARN,
    REGION,
    Accounts,
    LambdaContext,
    Reader,
    S3Script,
    StsCalls,
    load_event,
    log_lines,
    role_of_another_account,
    s3_answer,
)

MAX_KEY_BYTES = 1024 - len(KEY_PREFIX.encode())
CEILING = config.MAX_OBJECT_BYTES_CEILING
Install = Callable[..., reader_handler.RoleReader]


invoke = Reader.invoke


def returned_bytes(body: dict[str, Any]) -> bytes:
    """The object's bytes as a caller gets them back from a 200 body."""
    if body["encoding"] == "utf-8":
        return body["body"].encode("utf-8")
    assert body["encoding"] == "base64"
    return base64.b64decode(body["body"], validate=True)


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


def test_get_object_access_denied_says_a_missing_key_would_look_the_same_and_shows_nothing_of_the_object(
    reader_env: Accounts, install_reader: Install, monkeypatch: pytest.MonkeyPatch, context: LambdaContext
) -> None:
    # A real refusal from moto: a role of a third account may not read PROD's bucket (the 403 itself, naming the
    # bucket and key, is test_both_functions.py's).
    reader_env.put("a.txt", b"secret data")
    monkeypatch.setenv("TARGET_ROLE_ARN", role_of_another_account(READER_ROLE_ARN))
    install_reader()

    status, body = invoke({"key": "a.txt"}, context)

    assert (status, body["error"]) == (403, "AccessDenied")
    assert "s3:ListBucket" in body["message"], "says a missing key looks like this without ListBucket"
    assert "secret data" not in json.dumps(body)


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


# --- configuration -----------------------------------------------------------------------------


def test_max_object_bytes_may_be_the_ceiling_which_is_the_stacks_4_mib(
    reader_env: Accounts, monkeypatch: pytest.MonkeyPatch, context: LambdaContext
) -> None:
    monkeypatch.setenv("MAX_OBJECT_BYTES", str(CEILING))

    assert invoke({"key": "a.txt"}, context)[0] == 404
    assert reader_handler._get_config().max_object_bytes == CEILING == 4 * 1024 * 1024


def test_a_missing_key_that_s3_answers_with_access_denied_is_a_404_when_the_listing_shows_no_such_key(
    reader_env: Accounts, install_reader: Install, context: LambdaContext
) -> None:
    # On AWS a role whose s3:ListBucket is limited by s3:prefix gets 403 for a missing key (API_GetObject.html):
    # S3 answers the GET as it would; the listing of the key's prefix (moto's) shows nothing there.
    reader_env.put("absent.txt.old", b"a neighbour whose key starts with the missing one")
    S3Script(install_reader(), "GetObject", s3_answer(403, "AccessDenied", "Access Denied"))

    status, body = invoke({"key": "absent.txt"}, context)

    assert (status, body["error"]) == (404, "NoSuchKey")
    assert "incoming/absent.txt does not exist" in body["message"]


def test_access_denied_on_a_key_that_exists_stays_a_403(
    reader_env: Accounts, install_reader: Install, context: LambdaContext
) -> None:
    reader_env.put("kept.txt", b"not for this role")
    S3Script(install_reader(), "GetObject", s3_answer(403, "AccessDenied", "Access Denied"))

    status, body = invoke({"key": "kept.txt"}, context)

    assert (status, body["error"]) == (403, "AccessDenied")
    assert "not for this role" not in json.dumps(body)
