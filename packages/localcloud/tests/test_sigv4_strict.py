"""SigV4 is checked as strictly as AWS checks it: one mechanism, unambiguous components, host signed, a bounded
X-Amz-Expires, and a payload hash that is one of the values S3 knows and matches the body.

Each test names the AWS documentation page whose rule it follows.
"""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import timedelta
from typing import Any

import pytest
from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth, SigV4Auth
from botocore.config import Config

from localcloud import sigv4
from localcloud_testing.signing import SIGNED_AT, signed_with_botocore, verify

S3_URL = "https://127.0.0.1:8443/bucket-a/report.pdf"
STS_URL = "https://127.0.0.1:8443/"
STS_BODY = b"Action=GetCallerIdentity&Version=2011-06-15"


def replaced(request: sigv4.HttpRequest, **changes: Any) -> sigv4.HttpRequest:
    return dataclasses.replace(request, **changes)


def with_headers(request: sigv4.HttpRequest, **headers: str | None) -> sigv4.HttpRequest:
    merged = dict(request.headers)
    for name, value in headers.items():
        name = name.replace("_", "-")
        if value is None:
            merged.pop(name, None)
        else:
            merged[name] = value
    return replaced(request, headers=merged)


def s3_put(body: bytes = b"payload", context: dict[str, object] | None = None) -> sigv4.HttpRequest:
    return signed_with_botocore(S3SigV4Auth, "s3", "PUT", S3_URL, body=body, context=context)


def s3_presigned(expires: int = 300) -> sigv4.HttpRequest:
    return signed_with_botocore(S3SigV4QueryAuth, "s3", "GET", S3_URL, expires=expires)


def sts_post(headers: dict[str, str] | None = None) -> sigv4.HttpRequest:
    return signed_with_botocore(
        SigV4Auth, "sts", "POST", STS_URL, body=STS_BODY,
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8", **(headers or {})},
    )


# ---------------------------------------------------------------------------------------------------------------
# One authentication mechanism per request
# ---------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("marker", ["presigned", "sigv2-signature"])
def test_authorization_header_and_presigned_query_together_are_ambiguous(marker: str) -> None:
    """sigv4-query-string-auth.html / sigv4-auth-using-authorization-header.html: a request authenticates one way.

    S3 answers 400 InvalidArgument "Only one auth mechanism allowed; ..." (ArgumentName Authorization).
    """
    header_signed = s3_put(body=b"")
    if marker == "presigned":
        query = s3_presigned().raw_query
    else:
        query = "AWSAccessKeyId=AKIAEXAMPLE&Expires=1772366400&Signature=c2lnbmF0dXJl"
    both = replaced(header_signed, raw_query=query)

    with pytest.raises(sigv4.AmbiguousAuthentication) as raised:
        sigv4.parse(both)

    assert isinstance(raised.value, sigv4.MalformedAuthorization)
    assert str(raised.value) == (
        "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter "
        "or the Authorization header should be specified"
    )
    assert raised.value.argument_value == header_signed.header("authorization")


def test_a_query_parameter_that_is_not_an_auth_parameter_is_not_ambiguous() -> None:
    """sigv4-create-canonical-request: ordinary query parameters are part of the header-signed request."""
    request = signed_with_botocore(S3SigV4Auth, "s3", "GET", S3_URL + "?X-Amz-Meta=1&versionId=2")

    verify(request)


# ---------------------------------------------------------------------------------------------------------------
# No ambiguous components
# ---------------------------------------------------------------------------------------------------------------


def _authorization_variants() -> list[tuple[str, str]]:
    return [
        ("two Credential", "{auth}, Credential={credential}"),
        ("two SignedHeaders", "{auth}, SignedHeaders=host"),
        ("two Signature", "{auth}, Signature=" + "0" * 64),
        ("unknown component", "{auth}, Region=eu-west-1"),
        ("empty Signature", "{head}, Signature="),
        ("empty component", "{head},, Signature={signature}"),
        ("trailing comma", "{auth},"),
        ("no equal sign", "{head}, Signature{signature}"),
    ]


@pytest.mark.parametrize(("case", "template"), _authorization_variants(), ids=[c for c, _ in _authorization_variants()])
def test_authorization_header_components_are_each_given_once_known_and_not_empty(case: str, template: str) -> None:
    """sigv4-auth-using-authorization-header.html: exactly Credential, SignedHeaders and Signature, comma-separated."""
    request = s3_put()
    auth = request.header("authorization") or ""
    head, _, signature = auth.rpartition(", Signature=")
    credential = auth.split("Credential=", 1)[1].split(",", 1)[0]
    altered = template.format(auth=auth, head=head, signature=signature, credential=credential)

    with pytest.raises(sigv4.MalformedAuthorization) as raised:
        sigv4.parse(with_headers(request, authorization=altered))

    assert not isinstance(raised.value, sigv4.AmbiguousAuthentication)


def test_the_untouched_authorization_header_parses() -> None:
    """sigv4-auth-using-authorization-header.html: the header botocore writes is well formed."""
    signed = sigv4.parse(s3_put())

    assert signed.signed_headers == ("host", "x-amz-content-sha256", "x-amz-date")


@pytest.mark.parametrize(
    "param",
    ["X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders", "X-Amz-Signature"],
)
def test_presigned_auth_parameters_are_each_given_once(param: str) -> None:
    """sigv4-query-string-auth.html: each auth parameter once; query_params() would silently keep the first."""
    request = s3_presigned()
    first = dict(pair.split("=", 1) for pair in request.raw_query.split("&"))[param]
    doubled = replaced(request, raw_query=f"{request.raw_query}&{param}={first}")
    assert doubled.query_params()[param] == sigv4.HttpRequest("GET", "/", request.raw_query, {}).query_params()[param]

    with pytest.raises(sigv4.MalformedAuthorization):
        sigv4.parse(doubled)


def test_presigned_session_token_is_given_once() -> None:
    """sigv4-query-string-auth.html: X-Amz-Security-Token is an auth parameter too."""
    request = signed_with_botocore(S3SigV4QueryAuth, "s3", "GET", S3_URL, token="TOKEN", expires=60)
    doubled = replaced(request, raw_query=request.raw_query + "&X-Amz-Security-Token=OTHER")

    with pytest.raises(sigv4.MalformedAuthorization):
        sigv4.parse(doubled)


# ---------------------------------------------------------------------------------------------------------------
# host is signed; every signed header is present
# ---------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("service", "message"),
    [
        ("s3", "There were headers present in the request which were not signed"),
        ("sts", "'Host' must be a 'SignedHeader' in the AWS Authorization."),
    ],
)
def test_host_must_be_a_signed_header(service: str, message: str) -> None:
    """reference_sigv-create-signed-request.html (IAM user guide): the host header is always signed."""
    request = s3_put() if service == "s3" else sts_post()
    auth = request.header("authorization") or ""
    without_host = auth.replace("SignedHeaders=content-type;host;", "SignedHeaders=content-type;").replace(
        "SignedHeaders=host;", "SignedHeaders="
    )
    assert "host" not in without_host.split("SignedHeaders=")[1].split(",")[0]

    with pytest.raises(sigv4.MalformedAuthorization) as raised:
        sigv4.parse(with_headers(request, authorization=without_host))

    assert str(raised.value) == message
    assert raised.value.headers_not_signed == ("host",)


def test_host_must_be_signed_in_a_presigned_url() -> None:
    """sigv4-query-string-auth.html: X-Amz-SignedHeaders includes host."""
    request = s3_presigned()
    query = request.raw_query.replace("X-Amz-SignedHeaders=host", "X-Amz-SignedHeaders=x-amz-date")
    assert query != request.raw_query

    with pytest.raises(sigv4.MalformedAuthorization):
        sigv4.parse(with_headers(replaced(request, raw_query=query), x_amz_date="20260301T120000Z"))


@pytest.mark.parametrize("dropped", ["host", "content-type"])
def test_a_signed_header_absent_from_the_request_is_malformed(dropped: str) -> None:
    """sigv4-create-canonical-request: the canonical headers are those received; an absent host is not ''."""
    request = sts_post()
    assert dropped in sigv4.parse(request).signed_headers

    with pytest.raises(sigv4.MalformedAuthorization, match=dropped):
        sigv4.parse(with_headers(request, **{dropped: None}))


def test_a_presigned_url_whose_host_is_absent_is_malformed() -> None:
    """sigv4-query-string-auth.html: the presigned canonical request carries the received host."""
    with pytest.raises(sigv4.MalformedAuthorization, match="host"):
        sigv4.parse(with_headers(s3_presigned(), host=None))


# ---------------------------------------------------------------------------------------------------------------
# X-Amz-Expires
# ---------------------------------------------------------------------------------------------------------------


def test_presigned_url_without_expires_is_malformed() -> None:
    """sigv4-query-string-auth.html: X-Amz-Expires is required (S3: 400 AuthorizationQueryParametersError)."""
    request = s3_presigned()
    query = "&".join(pair for pair in request.raw_query.split("&") if not pair.startswith("X-Amz-Expires="))

    with pytest.raises(sigv4.MalformedAuthorization) as raised:
        sigv4.parse(replaced(request, raw_query=query))

    assert str(raised.value) == (
        "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, "
        "X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters."
    )
    assert raised.value.missing == ("X-Amz-Expires",)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "requires"),
        ("abc", "should be a number"),
        ("1.5", "should be a number"),
        ("+60", "should be a number"),
        ("60%0A", "should be a number"),
        ("-1", "non-negative"),
        ("0", "at least 1"),
        ("604801", "less than a week"),
    ],
)
def test_presigned_expires_is_an_integer_from_1_to_604800(value: str, message: str) -> None:
    """sigv4-query-string-auth.html: "The minimum value you can set is 1, and the maximum is 604800 (seven days)"."""
    request = s3_presigned()
    query = "&".join(
        f"X-Amz-Expires={value}" if pair.startswith("X-Amz-Expires=") else pair for pair in request.raw_query.split("&")
    )

    with pytest.raises(sigv4.MalformedAuthorization, match=message):
        sigv4.parse(replaced(request, raw_query=query))


def test_presigned_url_valid_for_the_longest_allowed_week_verifies() -> None:
    """sigv4-query-string-auth.html: 604800 seconds is allowed, and the URL lives that long."""
    request = s3_presigned(expires=604800)

    signed = verify(request, now=SIGNED_AT + timedelta(seconds=604800))

    assert signed.expires_seconds == 604800


# ---------------------------------------------------------------------------------------------------------------
# The payload hash: S3
# ---------------------------------------------------------------------------------------------------------------


def test_s3_signed_digest_payload_passes_and_a_swapped_body_is_a_mismatch() -> None:
    """sig-v4-header-based-auth.html: a declared SHA-256 must be that of the payload (400 XAmzContentSHA256Mismatch)."""
    request = s3_put(body=b"real")
    sigv4.check_payload(verify(request))

    swapped = replaced(request, body=b"fake")
    signed = verify(swapped)  # the declared digest is what was signed, so the signature still holds
    with pytest.raises(sigv4.ContentSha256Mismatch) as raised:
        sigv4.check_payload(signed)

    assert str(raised.value) == "The provided 'x-amz-content-sha256' header does not match what was computed."
    assert raised.value.server_computed == hashlib.sha256(b"fake").hexdigest()
    assert raised.value.client_computed == hashlib.sha256(b"real").hexdigest()
    assert sigv4.declared_payload_mismatch(signed)  # the deprecated wrapper the gate still calls


def test_s3_unsigned_payload_passes() -> None:
    """sig-v4-header-based-auth.html: UNSIGNED-PAYLOAD leaves the body unhashed."""
    request = s3_put(body=b"anything", context={"client_config": Config(s3={"payload_signing_enabled": False})})
    assert request.header("x-amz-content-sha256") == "UNSIGNED-PAYLOAD"

    sigv4.check_payload(verify(request))


def test_s3_header_signed_request_without_content_sha256_is_refused() -> None:
    """sig-v4-header-based-auth.html: "The x-amz-content-sha256 header is required for all AWS Signature Version 4
    requests" (S3: 400 InvalidRequest "Missing required header for this request: x-amz-content-sha256")."""
    request = signed_with_botocore(SigV4Auth, "s3", "PUT", S3_URL, body=b"payload")  # the generic signer omits it
    assert request.header("x-amz-content-sha256") is None
    signed = verify(request)

    with pytest.raises(sigv4.MissingContentSha256) as raised:
        sigv4.check_payload(signed)

    assert str(raised.value) == "Missing required header for this request: x-amz-content-sha256"
    assert not sigv4.declared_payload_mismatch(signed)


@pytest.mark.parametrize(
    "value",
    [
        hashlib.sha256(b"payload").hexdigest().upper(),
        hashlib.sha256(b"payload").hexdigest()[:63],
        hashlib.sha256(b"payload").hexdigest() + "\n",
        "unsigned-payload",
        "junk",
        "",
        "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD",
        "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER",
    ],
)
def test_s3_content_sha256_must_be_a_lower_case_digest_or_a_known_mode(value: str) -> None:
    """sig-v4-header-based-auth.html, sigv4-streaming.html: a hex digest, UNSIGNED-PAYLOAD or STREAMING-* (S3: 400
    InvalidArgument); the SigV4a (ECDSA) modes are not supported here."""
    signed = sigv4.parse(with_headers(s3_put(), x_amz_content_sha256=value))

    with pytest.raises(sigv4.InvalidContentSha256) as raised:
        sigv4.check_payload(signed)

    assert str(raised.value).startswith("x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-")
    assert raised.value.argument_value == value


def test_s3_presigned_url_is_unsigned_payload_unless_it_declares_a_digest() -> None:
    """sigv4-query-string-auth.html: a presigned URL signs UNSIGNED-PAYLOAD; a declared digest must still match."""
    request = replaced(s3_presigned(), method="GET", body=b"whatever")
    sigv4.check_payload(sigv4.parse(request))

    digest = hashlib.sha256(b"whatever").hexdigest()
    sigv4.check_payload(sigv4.parse(with_headers(request, x_amz_content_sha256=digest)))
    with pytest.raises(sigv4.ContentSha256Mismatch):
        sigv4.check_payload(sigv4.parse(with_headers(request, x_amz_content_sha256=hashlib.sha256(b"x").hexdigest())))
    with pytest.raises(sigv4.InvalidContentSha256):
        streaming = with_headers(request, x_amz_content_sha256="STREAMING-UNSIGNED-PAYLOAD-TRAILER")
        sigv4.check_payload(sigv4.parse(streaming))


def test_s3_presigned_url_declaring_content_sha256_in_the_query_is_read_too() -> None:
    """sigv4-query-string-auth.html: some SDKs (aws-sdk-js-v3) hoist X-Amz-Content-Sha256 into the query."""
    request = s3_presigned()
    hoisted = replaced(request, raw_query=request.raw_query + "&X-Amz-Content-Sha256=" + "0" * 64)
    signed = sigv4.parse(hoisted)

    assert sigv4.payload_hash(signed) == "0" * 64
    with pytest.raises(sigv4.ContentSha256Mismatch):
        sigv4.check_payload(signed)


# ---------------------------------------------------------------------------------------------------------------
# The payload hash: every other service
# ---------------------------------------------------------------------------------------------------------------


def test_other_services_hash_the_body_received_whatever_is_declared() -> None:
    """sigv4-create-canonical-request (reference_sigv-create-signed-request.html): the payload hash is the hex SHA-256
    of the body; outside S3 nothing replaces it."""
    request = sts_post()
    signed = verify(request)
    sigv4.check_payload(signed)

    assert sigv4.payload_hash(signed) == hashlib.sha256(STS_BODY).hexdigest()
    declared_unsigned = sigv4.parse(with_headers(request, x_amz_content_sha256="UNSIGNED-PAYLOAD"))
    assert sigv4.payload_hash(declared_unsigned) == hashlib.sha256(STS_BODY).hexdigest()


def test_other_services_accept_a_declared_digest_only_if_it_is_the_bodys() -> None:
    """sigv4-create-canonical-request: botocore signs a declared x-amz-content-sha256 (Glacier sends one); it must be
    the body's SHA-256."""
    digest = hashlib.sha256(STS_BODY).hexdigest()
    request = sts_post(headers={"X-Amz-Content-SHA256": digest})
    sigv4.check_payload(verify(request))

    wrong = sigv4.parse(with_headers(request, x_amz_content_sha256=hashlib.sha256(b"other").hexdigest()))
    with pytest.raises(sigv4.ContentSha256Mismatch):
        sigv4.check_payload(wrong)


@pytest.mark.parametrize(
    "value", ["UNSIGNED-PAYLOAD", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", "STREAMING-UNSIGNED-PAYLOAD-TRAILER", "x"]
)
def test_other_services_refuse_unsigned_and_streaming_payloads(value: str) -> None:
    """sigv4-create-canonical-request: UNSIGNED-PAYLOAD and STREAMING-* are S3's (sigv4-streaming.html)."""
    signed = sigv4.parse(with_headers(sts_post(), x_amz_content_sha256=value))

    with pytest.raises(sigv4.InvalidContentSha256):
        sigv4.check_payload(signed)


def test_other_services_sign_the_body_even_when_the_client_signed_unsigned_payload() -> None:
    """sigv4-create-canonical-request: a client that signs UNSIGNED-PAYLOAD outside S3 does not match."""
    request = sts_post(headers={"X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD"})

    with pytest.raises(sigv4.SignatureMismatch):
        verify(request)


def test_error_classes_have_a_docstring_and_the_aws_message() -> None:
    """Every error names its AWS counterpart; the gate renders str(error)."""
    for name in dir(sigv4):
        value = getattr(sigv4, name)
        if isinstance(value, type) and issubclass(value, sigv4.SigV4Error):
            assert value.__doc__ and "\n" not in value.__doc__.strip(), name
    assert str(sigv4.MalformedChunkedBody("x")).startswith("The request body terminated unexpectedly")
