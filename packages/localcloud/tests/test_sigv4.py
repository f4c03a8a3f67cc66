"""SigV4 verification: requests signed by botocore's own signers must verify; anything altered must not."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from unittest import mock
from urllib.parse import urlsplit

import pytest
from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from werkzeug.datastructures import Headers
from werkzeug.test import EnvironBuilder

from localcloud import sigv4

from localcloud_testing.signing import ACCESS_KEY, SECRET, SIGNED_AT, signed_with_botocore, verify


def test_sts_query_request_signed_by_botocore_verifies() -> None:
    request = signed_with_botocore(
        SigV4Auth, "sts", "POST", "https://127.0.0.1:8443/",
        body=b"Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A111111111111%3Arole%2Fdeploy",
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
    )

    signed = verify(request)

    assert (signed.access_key_id, signed.region, signed.service) == (ACCESS_KEY, "eu-west-1", "sts")


@pytest.mark.parametrize(
    "key",
    ["plain.txt", "dir/with space/é ü.csv", "odd+chars=&@!$'()*,;:~.txt", "trailing/slash/", "a//double"],
)
def test_s3_object_keys_are_signed_as_sent(key: str) -> None:
    from botocore.utils import percent_encode

    url = f"https://127.0.0.1:8443/bucket-a/{percent_encode(key, safe='/~')}?versionId=3%2F4&x-id=PutObject"
    request = signed_with_botocore(S3SigV4Auth, "s3", "PUT", url, body=b"payload")

    verify(request)


@pytest.mark.parametrize(
    ("declared", "context"),
    [
        ("UNSIGNED-PAYLOAD", {"client_config": Config(s3={"payload_signing_enabled": False})}),
        ("STREAMING-UNSIGNED-PAYLOAD-TRAILER", {"checksum": {"request_algorithm": {"in": "trailer", "name": "crc32"}}}),
    ],
)
def test_s3_unsigned_and_streaming_payload_hashes_are_taken_from_the_header(
    declared: str, context: dict[str, object]
) -> None:
    request = signed_with_botocore(
        S3SigV4Auth, "s3", "PUT", "https://127.0.0.1:8443/bucket-a/key", body=b"anything", context=context
    )
    assert request.header("x-amz-content-sha256") == declared

    verify(request)


def test_s3_presigned_url_verifies_until_it_expires() -> None:
    request = signed_with_botocore(
        S3SigV4QueryAuth, "s3", "GET", "https://127.0.0.1:8443/bucket-a/report.pdf", expires=300
    )

    signed = verify(request, now=SIGNED_AT + timedelta(seconds=299))
    with pytest.raises(sigv4.RequestExpired):
        verify(request, now=SIGNED_AT + timedelta(seconds=301))

    assert signed.presigned and signed.expires_seconds == 300


def test_presigned_url_with_session_token_carries_the_token() -> None:
    request = signed_with_botocore(
        S3SigV4QueryAuth, "s3", "GET", "https://127.0.0.1:8443/bucket-a/k", token="SESSION/TOKEN+=", expires=60
    )

    assert verify(request).security_token == "SESSION/TOKEN+="


def test_lambda_path_with_an_encoded_arn_verifies() -> None:
    url = "https://127.0.0.1:8443/2015-03-31/functions/arn%3Aaws%3Alambda%3Aeu-west-1%3A1%3Afunction%3Afn/invocations"
    request = signed_with_botocore(SigV4Auth, "lambda", "POST", url, body=b'{"a": 1}')

    verify(request)


def test_wrong_secret_does_not_match() -> None:
    request = signed_with_botocore(SigV4Auth, "sts", "POST", "https://127.0.0.1:8443/", body=b"Action=GetCallerIdentity")

    with pytest.raises(sigv4.SignatureMismatch) as raised:
        verify(request, secret="not-the-secret")

    assert raised.value.canonical_request.startswith("POST\n/\n")


def test_tampered_body_of_a_query_request_does_not_match() -> None:
    request = signed_with_botocore(SigV4Auth, "sts", "POST", "https://127.0.0.1:8443/", body=b"Action=GetCallerIdentity")
    tampered = sigv4.HttpRequest(request.method, request.raw_path, request.raw_query, request.headers, b"Action=X")

    with pytest.raises(sigv4.SignatureMismatch):
        verify(tampered)


def test_tampered_s3_path_does_not_match() -> None:
    request = signed_with_botocore(S3SigV4Auth, "s3", "GET", "https://127.0.0.1:8443/bucket-a/mine")
    tampered = sigv4.HttpRequest("GET", "/bucket-a/theirs", "", request.headers)

    with pytest.raises(sigv4.SignatureMismatch):
        verify(tampered)


def test_request_time_more_than_15_minutes_off_is_too_skewed() -> None:
    request = signed_with_botocore(SigV4Auth, "sts", "POST", "https://127.0.0.1:8443/", body=b"Action=GetCallerIdentity")

    verify(request, now=SIGNED_AT + timedelta(minutes=14))
    with pytest.raises(sigv4.RequestTimeTooSkewed):
        verify(request, now=SIGNED_AT + timedelta(minutes=16))
    with pytest.raises(sigv4.RequestTimeTooSkewed):
        verify(request, now=SIGNED_AT - timedelta(minutes=16))


def test_request_without_signature_is_missing_authentication() -> None:
    with pytest.raises(sigv4.MissingAuthentication):
        sigv4.parse(sigv4.HttpRequest("GET", "/", "", {"host": "127.0.0.1"}))


@pytest.mark.parametrize(
    "authorization",
    [
        "AWS AKIAEXAMPLE:c2lnbmF0dXJl",  # SigV2
        "AWS4-HMAC-SHA256 Credential=AKIA/20260301/eu-west-1/sts/aws4_request, SignedHeaders=host",  # no Signature
        "AWS4-HMAC-SHA256 Credential=AKIA/20260301/sts, SignedHeaders=host, Signature=00",  # short scope
        "AWS4-HMAC-SHA256 Credential=AKIA/20250101/eu-west-1/sts/aws4_request, SignedHeaders=host, Signature=00",
    ],
)
def test_malformed_authorization_is_reported(authorization: str) -> None:
    headers = {"host": "127.0.0.1", "authorization": authorization, "x-amz-date": "20260301T120000Z"}

    with pytest.raises(sigv4.MalformedAuthorization):
        sigv4.parse(sigv4.HttpRequest("GET", "/", "", headers))


def test_wsgi_environ_is_read_with_raw_path_and_underscore_headers() -> None:
    environ = EnvironBuilder(
        method="PUT", path="/bucket-a/key", query_string="acl", headers=Headers({"Host": "127.0.0.1:8443"})
    ).get_environ()
    environ["RAW_URI"] = "/bucket-a/a%20b?acl"
    environ["HTTP_X_AMZ_META_MY_KEY"] = "v"

    request = sigv4.HttpRequest.from_environ(environ, b"")

    assert (request.raw_path, request.raw_query) == ("/bucket-a/a%20b", "acl")
    assert request.header("x-amz-meta-my_key") == "v"
    assert request.header("Host") == "127.0.0.1:8443"


def test_declared_payload_hash_must_match_the_body() -> None:
    request = signed_with_botocore(S3SigV4Auth, "s3", "PUT", "https://127.0.0.1:8443/bucket-a/k", body=b"real")
    swapped = sigv4.HttpRequest("PUT", request.raw_path, request.raw_query, request.headers, b"fake")

    assert not sigv4.declared_payload_mismatch(sigv4.parse(request))
    assert sigv4.declared_payload_mismatch(sigv4.parse(swapped))
