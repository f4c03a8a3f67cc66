"""Request handlers that establish who is calling: the moto API guard, the body, and SigV4 authentication."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from werkzeug.wrappers import Response

from localcloud import sigv4
from localcloud.gate.errors import AuthenticationFailed, GateError
from localcloud.gate.timefmt import iso, timestamp
from localcloud.principals import resolve

if TYPE_CHECKING:
    from localcloud.gate.app import Gate
    from localcloud.gate.exchange import Exchange


def block_moto_api(gate: Gate, ex: Exchange) -> Response | None:
    path = str(ex.environ.get("PATH_INFO", ""))
    if path.startswith("/moto-api") or path == "/favicon.ico":
        raise GateError(403, "AccessDenied", "localcloud: moto's /moto-api/ is not reachable through the gate "
                        "(it would bypass authorization)")
    return None


def read_body(gate: Gate, ex: Exchange) -> Response | None:
    environ = ex.environ
    stream = environ.get("wsgi.input")
    length_text = environ.get("CONTENT_LENGTH") or ""
    body = b""
    if stream is not None:
        if length_text.isdigit():
            body = stream.read(int(length_text)) if int(length_text) else b""
        elif environ.get("wsgi.input_terminated"):
            body = stream.read()
    ex.body = body
    ex.http = sigv4.HttpRequest.from_environ(environ, body)
    environ["wsgi.input"] = io.BytesIO(body)
    return None


def authenticate(gate: Gate, ex: Exchange) -> Response | None:
    """The signature, its time, its payload hash, the key's owner and its session token (sigv4-*.html)."""
    assert ex.http is not None
    s3 = gate.protocol_of(ex) == "rest-xml"
    try:
        ex.signed = sigv4.parse(ex.http)
    except sigv4.MissingAuthentication:
        raise AuthenticationFailed("missing") from None
    except sigv4.AmbiguousAuthentication as error:
        if s3:
            raise GateError(400, "InvalidArgument", str(error)) from None
        raise AuthenticationFailed("malformed", str(error)) from None
    except sigv4.MalformedAuthorization as error:
        if s3 and "X-Amz-Algorithm" in ex.http.query_params():
            raise GateError(400, "AuthorizationQueryParametersError", str(error)) from None
        if s3 and "AWS4-HMAC-SHA256" not in (ex.http.header("authorization") or ""):
            raise GateError(400, "InvalidRequest", "The authorization mechanism you have provided is not "
                            "supported. Please use AWS4-HMAC-SHA256.") from None
        raise AuthenticationFailed("malformed", str(error)) from None
    signed = ex.signed
    gate.set_protocol(ex)
    principal = resolve(signed.access_key_id, gate.registry, ex.now)
    if principal is None:
        raise AuthenticationFailed("unknown_key", extra={"AWSAccessKeyId": signed.access_key_id})
    if principal.session_token is None and signed.security_token:
        raise AuthenticationFailed("bad_token")
    if principal.session_token is not None and signed.security_token != principal.session_token:
        raise AuthenticationFailed("bad_token")
    _check_time(ex, signed)
    try:
        sigv4.check_signature(signed, principal.secret_access_key)
    except sigv4.SignatureMismatch as error:
        raise AuthenticationFailed("mismatch", extra={
            "AWSAccessKeyId": signed.access_key_id,
            "StringToSign": error.string_to_sign,
            "SignatureProvided": error.signature_provided,
            "CanonicalRequest": error.canonical_request,
        }) from None
    if principal.expiration is not None and ex.now >= principal.expiration:
        raise AuthenticationFailed("expired_token")
    _check_payload(ex, signed)
    ex.principal = principal
    return None


def _check_time(ex: Exchange, signed: sigv4.SignedRequest) -> None:
    try:
        sigv4.check_time(signed, ex.now)
    except sigv4.RequestTimeTooSkewed as error:
        if ex.protocol == "rest-xml":
            raise AuthenticationFailed("skewed", extra={
                "RequestTime": timestamp(error.request_time),
                "ServerTime": iso(error.server_time),
                "MaxAllowedSkewMilliseconds": str(int(sigv4.MAX_SKEW.total_seconds() * 1000)),
            }) from None
        if error.request_time < error.server_time:
            message = (
                f"Signature expired: {timestamp(error.request_time)} is now earlier than "
                f"{timestamp(error.server_time - sigv4.MAX_SKEW)} ({timestamp(error.server_time)} - 15 min.)"
            )
        else:
            message = (
                f"Signature not yet current: {timestamp(error.request_time)} is still later than "
                f"{timestamp(error.server_time + sigv4.MAX_SKEW)} ({timestamp(error.server_time)} + 15 min.)"
            )
        raise AuthenticationFailed("skewed", message) from None
    except sigv4.RequestExpired as error:
        if ex.protocol == "rest-xml":
            raise GateError(403, "AccessDenied", "Request has expired", extra={
                "X-Amz-Expires": str(error.expires_seconds),
                "Expires": iso(error.expires_at),
                "ServerTime": iso(error.server_time),
            }) from None
        raise AuthenticationFailed("mismatch", "Signature expired") from None


def _check_payload(ex: Exchange, signed: sigv4.SignedRequest) -> None:
    try:
        sigv4.check_payload(signed)
    except sigv4.MissingContentSha256 as error:
        raise GateError(400, "InvalidRequest", str(error)) from None
    except sigv4.InvalidContentSha256 as error:
        if ex.protocol == "rest-xml":
            raise GateError(400, "InvalidArgument", str(error), extra={"ArgumentName": "x-amz-content-sha256"}) from None
        raise AuthenticationFailed("mismatch") from None
    except sigv4.MalformedChunkedBody as error:
        raise GateError(400, "IncompleteBody", str(error)) from None
    except sigv4.ContentSha256Mismatch as error:
        if ex.protocol == "rest-xml":
            raise GateError(400, "XAmzContentSHA256Mismatch", str(error)) from None
        raise AuthenticationFailed("mismatch") from None
