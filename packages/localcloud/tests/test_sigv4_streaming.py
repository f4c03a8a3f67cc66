"""Streamed S3 uploads (aws-chunked): the framing is read exactly and every chunk and trailer signature verified.

The signed forms follow sigv4-streaming.html and sigv4-streaming-trailers.html (the S3 API reference), checked
against the worked examples on those pages; the unsigned-trailer form is what botocore itself sends.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import io
import zlib
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from typing import Any
from unittest import mock
from urllib.parse import urlsplit

import boto3
import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSPreparedRequest, AWSRequest, AWSResponse
from botocore.credentials import Credentials
from botocore.httpchecksum import AwsChunkedWrapper, Crc32Checksum

from localcloud import sigv4
from localcloud_testing.signing import ACCESS_KEY, SECRET, SIGNED_AT

EMPTY = hashlib.sha256(b"").hexdigest()

# ---------------------------------------------------------------------------------------------------------------
# The worked examples of sigv4-streaming.html and sigv4-streaming-trailers.html
# ---------------------------------------------------------------------------------------------------------------

DOC_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
DOC_NOW = datetime(2013, 5, 24, 0, 0, 0, tzinfo=timezone.utc)
DOC_CHUNKS = (b"a" * 65536, b"a" * 1024, b"")


def doc_authorization(signed_headers: str, signature: str) -> str:
    return (
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
        f"SignedHeaders={signed_headers},Signature={signature}"
    )


def doc_streaming_request(body: bytes | None = None) -> sigv4.HttpRequest:
    """sigv4-streaming.html, "Example: PUT Object": 66560 bytes of 'a' in a 64 KB and a 1 KB chunk."""
    signatures = (
        "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
        "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
        "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
    )
    if body is None:
        body = b"".join(
            b"%x;chunk-signature=%s\r\n%s\r\n" % (len(data), sig.encode(), data)
            for data, sig in zip(DOC_CHUNKS, signatures)
        )
    headers = {
        "host": "s3.amazonaws.com",
        "x-amz-date": "20130524T000000Z",
        "x-amz-storage-class": "REDUCED_REDUNDANCY",
        "authorization": doc_authorization(
            "content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;"
            "x-amz-storage-class",
            "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9",
        ),
        "x-amz-content-sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
        "content-encoding": "aws-chunked",
        "x-amz-decoded-content-length": "66560",
        "content-length": "66824",
    }
    return sigv4.HttpRequest("PUT", "/examplebucket/chunkObject.txt", "", headers, body)


def doc_trailer_request(trailer: bytes = b"x-amz-checksum-crc32c:sOO8/Q==\r\n") -> sigv4.HttpRequest:
    """sigv4-streaming-trailers.html: the same object, then a CRC32C trailer and its signature."""
    signatures = (
        "b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2",
        "1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7",
        "2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992",
    )
    chunks = [b"%x;chunk-signature=%s\r\n" % (len(data), sig.encode()) for data, sig in zip(DOC_CHUNKS, signatures)]
    body = (
        chunks[0] + DOC_CHUNKS[0] + b"\r\n" + chunks[1] + DOC_CHUNKS[1] + b"\r\n" + chunks[2]
        + trailer
        + b"x-amz-trailer-signature:d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435\r\n"
        + b"\r\n"
    )
    headers = {
        "host": "s3.amazonaws.com",
        "x-amz-date": "20130524T000000Z",
        "x-amz-storage-class": "REDUCED_REDUNDANCY",
        "authorization": doc_authorization(
            "content-encoding;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class;"
            "x-amz-trailer",
            "106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e",
        ),
        "x-amz-content-sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
        "content-encoding": "aws-chunked",
        "x-amz-decoded-content-length": "66560",
        "x-amz-trailer": "x-amz-checksum-crc32c",
        "content-length": str(len(body)),
    }
    return sigv4.HttpRequest("PUT", "/examplebucket/chunkObject.txt", "", headers, body)


def test_the_documented_chunked_upload_verifies_seed_and_every_chunk() -> None:
    """sigv4-streaming.html, Example: PUT Object: seed 4f232c43..., chunk signatures ad80c730, 0055627c, b6c6ea8a."""
    request = doc_streaming_request()
    assert len(request.body) == 66824  # the documented Content-Length

    signed = sigv4.parse(request)
    sigv4.verify(signed, DOC_SECRET, DOC_NOW)
    sigv4.check_payload(signed)
    decoded = sigv4.decode_aws_chunked(signed, DOC_SECRET)

    assert decoded == sigv4.DecodedPayload(payload=b"a" * 66560, trailers={})
    assert sigv4.is_aws_chunked(signed)


def test_the_documented_chunked_upload_with_a_signed_trailer_verifies() -> None:
    """sigv4-streaming-trailers.html: the trailer chunk is signed as AWS4-HMAC-SHA256-TRAILER, chained to the final
    chunk's signature, over the SHA-256 of "x-amz-checksum-crc32c:sOO8/Q==\\n"."""
    signed = sigv4.parse(doc_trailer_request())
    sigv4.verify(signed, DOC_SECRET, DOC_NOW)
    sigv4.check_payload(signed)

    decoded = sigv4.decode_aws_chunked(signed, DOC_SECRET)

    assert decoded.payload == b"a" * 66560
    assert decoded.trailers == {"x-amz-checksum-crc32c": "sOO8/Q=="}


def test_a_changed_trailer_value_breaks_the_trailer_signature() -> None:
    """sigv4-streaming-trailers.html: the trailer signature covers the trailing headers."""
    signed = sigv4.parse(doc_trailer_request(trailer=b"x-amz-checksum-crc32c:AAAAAA==\r\n"))

    with pytest.raises(sigv4.SignatureMismatch) as raised:
        sigv4.decode_aws_chunked(signed, DOC_SECRET)

    assert raised.value.string_to_sign.startswith("AWS4-HMAC-SHA256-TRAILER\n20130524T000000Z\n")


def test_a_changed_byte_of_a_documented_chunk_breaks_its_signature() -> None:
    """sigv4-streaming.html: each chunk signature covers the SHA-256 of its data."""
    body = bytearray(doc_streaming_request().body)
    body[66000] = ord("b")  # inside the second (1 KB) chunk
    signed = sigv4.parse(doc_streaming_request(bytes(body)))

    with pytest.raises(sigv4.SignatureMismatch) as raised:
        sigv4.decode_aws_chunked(signed, DOC_SECRET)

    assert raised.value.signature_provided == "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497"
    assert raised.value.string_to_sign.split("\n")[3] == (
        "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648"  # chained to the previous chunk
    )


def test_the_wrong_secret_fails_at_the_first_chunk() -> None:
    """sigv4-streaming.html: chunks are signed with the request's signing key."""
    signed = sigv4.parse(doc_streaming_request())

    with pytest.raises(sigv4.SignatureMismatch):
        sigv4.decode_aws_chunked(signed, "not-the-secret")


# ---------------------------------------------------------------------------------------------------------------
# Bodies signed here by the documented algorithm, seeded by a botocore header signature
# ---------------------------------------------------------------------------------------------------------------


class _StreamingSigner(S3SigV4Auth):
    """botocore's S3 signer with a STREAMING-* payload, as SDKs that sign chunks (Java, Go) sign the seed."""

    def __init__(self, credentials: Credentials, service: str, region: str, mode: str) -> None:
        super().__init__(credentials, service, region)
        self._mode = mode

    def payload(self, request: AWSRequest) -> str:
        return self._mode


def _signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    key = hmac.new(f"AWS4{secret}".encode(), date.encode(), hashlib.sha256).digest()
    for part in (region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def signed_chunked_upload(
    data_chunks: Sequence[bytes], *, trailers: Sequence[tuple[str, str]] | None = None, secret: str = SECRET
) -> sigv4.HttpRequest:
    """A PUT whose seed botocore signs and whose chunks (and trailer) are signed as sigv4-streaming.html says."""
    mode = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD" if trailers is None else "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
    headers = {
        "Content-Encoding": "aws-chunked",
        "X-Amz-Decoded-Content-Length": str(sum(len(chunk) for chunk in data_chunks)),
    }
    if trailers is not None:
        headers["X-Amz-Trailer"] = ",".join(name for name, _ in trailers)
    request = AWSRequest(method="PUT", url="https://127.0.0.1:8443/bucket-a/streamed.bin", headers=headers)
    signer = _StreamingSigner(Credentials(ACCESS_KEY, SECRET), "s3", "eu-west-1", mode)
    with mock.patch("botocore.auth.get_current_datetime", return_value=SIGNED_AT.replace(tzinfo=None)):
        signer.add_auth(request)
    seed = str(request.headers["Authorization"]).rsplit("Signature=", 1)[1]
    key = _signing_key(secret, "20260301", "eu-west-1", "s3")
    scope = "20260301/eu-west-1/s3/aws4_request"

    previous, body = seed, b""
    for data in [*data_chunks, b""]:
        string_to_sign = "\n".join(
            ["AWS4-HMAC-SHA256-PAYLOAD", "20260301T120000Z", scope, previous, EMPTY, hashlib.sha256(data).hexdigest()]
        )
        previous = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
        body += b"%x;chunk-signature=%s\r\n" % (len(data), previous.encode())
        body += data + b"\r\n" if data else b""
    if trailers is not None:
        lines = "".join(f"{name}:{value}\n" for name, value in trailers).encode()
        string_to_sign = "\n".join(
            ["AWS4-HMAC-SHA256-TRAILER", "20260301T120000Z", scope, previous, hashlib.sha256(lines).hexdigest()]
        )
        signature = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
        body += "".join(f"{name}:{value}\r\n" for name, value in trailers).encode()
        body += f"x-amz-trailer-signature:{signature}\r\n".encode()
    body += b"\r\n"
    received = {name.lower(): str(value) for name, value in request.headers.items()}
    received["host"] = "127.0.0.1:8443"
    return sigv4.HttpRequest("PUT", "/bucket-a/streamed.bin", "", received, body)


def test_botocore_seeded_signed_chunks_verify() -> None:
    """sigv4-streaming.html: the seed is the header signature; each chunk chains on the previous one."""
    chunks = [bytes(range(256)) * 40, b"second chunk", b"\r\n inside data \r\n"]
    signed = sigv4.parse(signed_chunked_upload(chunks))
    sigv4.verify(signed, SECRET, SIGNED_AT)
    sigv4.check_payload(signed)

    assert sigv4.decode_aws_chunked(signed, SECRET).payload == b"".join(chunks)


def test_botocore_seeded_signed_chunks_with_signed_trailers_verify() -> None:
    """sigv4-streaming-trailers.html: trailers follow the zero-size chunk, then x-amz-trailer-signature."""
    data = b"hello trailer"
    crc = base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()
    signed = sigv4.parse(signed_chunked_upload([data], trailers=[("x-amz-checksum-crc32", crc)]))
    sigv4.verify(signed, SECRET, SIGNED_AT)

    decoded = sigv4.decode_aws_chunked(signed, SECRET)

    assert decoded == sigv4.DecodedPayload(payload=data, trailers={"x-amz-checksum-crc32": crc})


def test_swapped_chunks_break_the_chain() -> None:
    """sigv4-streaming.html: "The chaining ensures that you send the chunks in the correct order"."""
    request = signed_chunked_upload([b"first", b"second"])
    parts = request.body.split(b"\r\n")
    swapped = b"\r\n".join([parts[2], parts[3], parts[0], parts[1], *parts[4:]])
    signed = sigv4.parse(sigv4.HttpRequest("PUT", request.raw_path, "", request.headers, swapped))

    with pytest.raises(sigv4.SignatureMismatch):
        sigv4.decode_aws_chunked(signed, SECRET)


# ---------------------------------------------------------------------------------------------------------------
# The unsigned-trailer form, as botocore sends it
# ---------------------------------------------------------------------------------------------------------------


def botocore_put_object(body: bytes) -> sigv4.HttpRequest:
    """What a boto3 S3 client sends for put_object over HTTPS: STREAMING-UNSIGNED-PAYLOAD-TRAILER, CRC32 trailer."""
    sent: list[sigv4.HttpRequest] = []

    def capture(request: AWSPreparedRequest, **_: object) -> AWSResponse:
        prepared = request
        raw_body = prepared.body
        data = raw_body.read() if hasattr(raw_body, "read") else (raw_body or b"")
        parts = urlsplit(prepared.url)
        headers = {
            name.lower(): value.decode() if isinstance(value, bytes) else value
            for name, value in prepared.headers.items()
        }
        headers["host"] = parts.netloc
        sent.append(sigv4.HttpRequest("PUT", parts.path, parts.query, headers, data))
        raw = mock.Mock()
        raw.stream = lambda **kwargs: iter([b""])
        return AWSResponse(prepared.url, 200, {}, raw)

    client = _s3_client()
    client.meta.events.register("before-send.s3.PutObject", capture)
    try:
        with mock.patch("botocore.auth.get_current_datetime", return_value=SIGNED_AT.replace(tzinfo=None)):
            client.put_object(Bucket="bucket-a", Key="k", Body=io.BytesIO(body))
    finally:
        client.meta.events.unregister("before-send.s3.PutObject", capture)
    return sent[-1]


@functools.lru_cache(maxsize=1)
def _s3_client() -> Any:
    session = boto3.session.Session(aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET, region_name="eu-west-1")
    return session.client("s3", endpoint_url="https://127.0.0.1:8443")


def test_botocore_unsigned_trailer_upload_verifies_and_decodes() -> None:
    """sigv4-streaming-trailers.html / botocore.httpchecksum: Content-Encoding aws-chunked, x-amz-trailer, and
    unsigned chunks "<hex size>\\r\\n<data>\\r\\n" ending in "0\\r\\nx-amz-checksum-crc32:...\\r\\n\\r\\n"."""
    data = b"hello world " * 100
    request = botocore_put_object(data)
    assert request.header("x-amz-content-sha256") == "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
    assert request.header("content-encoding") == "aws-chunked"

    signed = sigv4.parse(request)
    sigv4.verify(signed, SECRET, SIGNED_AT)
    sigv4.check_payload(signed)
    decoded = sigv4.decode_aws_chunked(signed, SECRET)

    crc = base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()
    assert decoded == sigv4.DecodedPayload(payload=data, trailers={"x-amz-checksum-crc32": crc})


def test_botocore_aws_chunked_wrapper_with_many_chunks_decodes() -> None:
    """botocore.httpchecksum.AwsChunkedWrapper: the same framing over several chunks."""
    data = bytes(range(256)) * 20
    body = AwsChunkedWrapper(io.BytesIO(data), Crc32Checksum, "x-amz-checksum-crc32", chunk_size=1000).read()
    request = botocore_put_object(data)
    signed = sigv4.parse(sigv4.HttpRequest("PUT", request.raw_path, "", request.headers, body))

    decoded = sigv4.decode_aws_chunked(signed, SECRET)

    assert body.count(b"\r\n") > 10
    assert decoded.payload == data
    assert list(decoded.trailers) == ["x-amz-checksum-crc32"]


def test_a_streaming_body_without_content_encoding_is_accepted_if_framed_aws_chunked() -> None:
    """sigv4-streaming.html asks for Content-Encoding: aws-chunked (botocore sends it); the framing decides."""
    request = botocore_put_object(b"data")
    headers = {name: value for name, value in request.headers.items() if name != "content-encoding"}
    headers["authorization"] = headers["authorization"].replace("content-encoding;", "")
    signed = sigv4.parse(sigv4.HttpRequest("PUT", request.raw_path, "", headers, request.body))
    sigv4.check_payload(signed)

    plain = sigv4.parse(sigv4.HttpRequest("PUT", request.raw_path, "", headers, b"data"))
    with pytest.raises(sigv4.MalformedChunkedBody):
        sigv4.check_payload(plain)


def test_a_streaming_body_must_declare_its_decoded_length() -> None:
    """sigv4-streaming.html: "For all requests, you must include the x-amz-decoded-content-length header"."""
    request = botocore_put_object(b"data")
    auth = (request.header("authorization") or "").replace("x-amz-decoded-content-length;", "")
    headers = {n: v for n, v in request.headers.items() if n != "x-amz-decoded-content-length"}
    headers["authorization"] = auth
    signed = sigv4.parse(sigv4.HttpRequest("PUT", request.raw_path, "", headers, request.body))

    with pytest.raises(sigv4.MalformedChunkedBody, match="x-amz-decoded-content-length"):
        sigv4.check_payload(signed)
    with pytest.raises(sigv4.MalformedChunkedBody, match="x-amz-decoded-content-length"):
        sigv4.decode_aws_chunked(signed, SECRET)


# ---------------------------------------------------------------------------------------------------------------
# Framing faults
# ---------------------------------------------------------------------------------------------------------------

SIG = "0" * 64


def _unsigned(body: bytes, decoded_length: int = 3) -> sigv4.SignedRequest:
    request = botocore_put_object(b"abc")
    headers = dict(request.headers)
    headers["x-amz-decoded-content-length"] = str(decoded_length)
    return sigv4.parse(sigv4.HttpRequest("PUT", request.raw_path, "", headers, body))


@pytest.mark.parametrize(
    ("body", "fault"),
    [
        (b"zz\r\nabc\r\n0\r\nx-amz-checksum-crc32:NSRBwg==\r\n\r\n", "not hexadecimal"),
        (b"0x3\r\nabc\r\n0\r\nx-amz-checksum-crc32:NSRBwg==\r\n\r\n", "not hexadecimal"),
        (b" 3\r\nabc\r\n0\r\nx-amz-checksum-crc32:NSRBwg==\r\n\r\n", "not hexadecimal"),
        (b"\r\nabc\r\n0\r\nx-amz-checksum-crc32:NSRBwg==\r\n\r\n", "not hexadecimal"),
        (b"ff\r\nabc\r\n0\r\nx-amz-checksum-crc32:NSRBwg==\r\n\r\n", "past the end"),
        (b"3\r\nabcX\r\n0\r\nx-amz-checksum-crc32:NSRBwg==\r\n\r\n", "not followed by CRLF"),
        (b"3\nabc\r\n0\r\nx-amz-checksum-crc32:NSRBwg==\r\n\r\n", "not hexadecimal"),
        (b"3\n\r\nabc\r\n0\r\nx-amz-checksum-crc32:NSRBwg==\r\n\r\n", "not hexadecimal"),
        (b"3\r\nabc\r\n", "not terminated by CRLF"),
        (b"3\r\nabc\r\n0\r\nx-amz-checksum-crc32:NSRBwg==\r\n", "not terminated by CRLF"),
        (b"3\r\nabc\r\n0\r\nx-amz-checksum-crc32:NSRBwg==\r\n\r\nextra", "after the end"),
        (b"3;chunk-signature=" + SIG.encode() + b"\r\nabc\r\n0\r\nx-amz-checksum-crc32:NSRBwg==\r\n\r\n", "extension"),
        (b"3\r\nabc\r\n0\r\nx-amz-checksum-crc32 NSRBwg==\r\n\r\n", "not name:value"),
        (b"3\r\nabc\r\n0\r\nx-amz-checksum-crc32:NSRBwg==\r\nx-amz-checksum-crc32:NSRBwg==\r\n\r\n", "more than once"),
        (b"3\r\nabc\r\n0\r\nx-amz-checksum-crc32:NSRBwg==\r\nx-amz-trailer-signature:" + SIG.encode() + b"\r\n\r\n",
         "unsigned stream"),
        (b"3\r\nabc\r\n0\r\nx-amz-checksum-sha256:abc=\r\n\r\n", "x-amz-trailer declares"),
        (b"", "not terminated by CRLF"),
    ],
)
def test_unsigned_stream_framing_faults_are_malformed(body: bytes, fault: str) -> None:
    """sigv4-streaming-trailers.html framing; S3 answers 400 IncompleteBody for a body it cannot read."""
    with pytest.raises(sigv4.MalformedChunkedBody, match=fault):
        sigv4.decode_aws_chunked(_unsigned(body), SECRET)


def test_unsigned_stream_decoded_length_must_match() -> None:
    """sigv4-streaming.html: x-amz-decoded-content-length is the size of the object."""
    body = b"3\r\nabc\r\n0\r\nx-amz-checksum-crc32:NSRBwg==\r\n\r\n"
    assert sigv4.decode_aws_chunked(_unsigned(body), SECRET).payload == b"abc"

    with pytest.raises(sigv4.MalformedChunkedBody, match="decoded 3 bytes"):
        sigv4.decode_aws_chunked(_unsigned(body, decoded_length=4), SECRET)


def _signed_variant(transform: Callable[[bytes], bytes]) -> sigv4.SignedRequest:
    request = signed_chunked_upload([b"abc", b"defg"])
    body = transform(request.body)
    return sigv4.parse(sigv4.HttpRequest("PUT", request.raw_path, "", request.headers, body))


@pytest.mark.parametrize(
    ("transform", "fault"),
    [
        (lambda body: body.replace(b";chunk-signature=", b";", 1), "lacks chunk-signature"),
        (lambda body: body.split(b";", 1)[0] + b"\r\n" + body.split(b"\r\n", 1)[1], "lacks chunk-signature"),
        (lambda body: body.replace(b";chunk-signature=", b";chunk-signature=X", 1), "lacks chunk-signature"),
        (lambda body: body.replace(b";chunk-signature=", b";Chunk-Signature=", 1), "lacks chunk-signature"),
        (lambda body: body[:-2], "not terminated by CRLF"),
        (lambda body: body + b"\r\n", "after the end"),
        (lambda body: body[:-2] + b"x-amz-checksum-crc32:AAAAAA==\r\n\r\n", "carries no trailer"),
        (lambda body: body.split(b"\r\n0;")[0], "CRLF"),
    ],
)
def test_signed_stream_framing_faults_are_malformed(transform: Callable[[bytes], bytes], fault: str) -> None:
    """sigv4-streaming.html: "<hex size>;chunk-signature=<64 hex>\\r\\n<data>\\r\\n", ending in a zero-size chunk."""
    with pytest.raises(sigv4.MalformedChunkedBody, match=fault):
        sigv4.decode_aws_chunked(_signed_variant(transform), SECRET)


def test_signed_trailer_stream_requires_the_trailer_signature() -> None:
    """sigv4-streaming-trailers.html: the signed-trailer form ends its trailers with x-amz-trailer-signature."""
    request = signed_chunked_upload([b"abc"], trailers=[("x-amz-checksum-crc32", "NSRBwg==")])
    body = request.body.split(b"x-amz-trailer-signature:")[0] + b"\r\n"
    signed = sigv4.parse(sigv4.HttpRequest("PUT", request.raw_path, "", request.headers, body))

    with pytest.raises(sigv4.MalformedChunkedBody, match="x-amz-trailer-signature is missing"):
        sigv4.decode_aws_chunked(signed, SECRET)


def test_decoding_a_request_that_is_not_streamed_is_refused() -> None:
    """sigv4-streaming.html: only the STREAMING-* modes carry an aws-chunked body."""
    request = sigv4.parse(doc_streaming_request())
    plain = sigv4.parse(
        sigv4.HttpRequest("PUT", "/b/k", "", {**request.request.headers, "x-amz-content-sha256": "UNSIGNED-PAYLOAD"})
    )

    with pytest.raises(sigv4.MalformedChunkedBody):
        sigv4.decode_aws_chunked(plain, DOC_SECRET)
    assert not sigv4.is_aws_chunked(plain)
