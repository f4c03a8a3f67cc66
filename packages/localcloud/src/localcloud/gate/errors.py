"""The gate's errors: handlers raise one of these; ``render`` turns it into the AWS error of the request's protocol.

Protocols are botocore's names: ``rest-xml`` (S3), ``query`` (STS, IAM), ``json`` (CloudWatch Logs), ``rest-json``
(Lambda). Authentication failures differ per protocol in status, code and message, so they are raised by kind
(``AuthenticationFailed("unknown_key")``) and looked up in ``AUTH_ERRORS`` when rendered.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from xml.sax.saxutils import escape

from werkzeug.wrappers import Response

XMLNS = {
    "sts": "https://sts.amazonaws.com/doc/2011-06-15/",
    "iam": "https://iam.amazonaws.com/doc/2010-05-08/",
}


class GateError(Exception):
    """An AWS error answer: status, code, message, and for S3 extra elements of the error document."""

    def __init__(self, status: int, code: str, message: str, *, extra: Mapping[str, str] | None = None,
                 sender: bool = True) -> None:
        super().__init__(f"{code}: {message}")
        self.status, self.code, self.message = status, code, message
        self.extra = dict(extra or {})
        self.sender = sender

    def for_protocol(self, protocol: str) -> tuple[int, str, str]:
        return self.status, self.code, self.message


class AuthenticationFailed(GateError):
    """A signature, key or token that cannot be accepted; ``kind`` is a row of ``AUTH_ERRORS``."""

    def __init__(self, kind: str, message: str | None = None, *, extra: Mapping[str, str] | None = None) -> None:
        super().__init__(0, kind, message or "", extra=extra)
        self.kind = kind

    def for_protocol(self, protocol: str) -> tuple[int, str, str]:
        status, code, default = AUTH_ERRORS[self.kind][_family(protocol)]
        return status, code, self.message or default


class AccessDenied(GateError):
    """An authorization denial: 403 AccessDenied (JSON protocols: AccessDeniedException, 400 for ``json``)."""

    def __init__(self, message: str) -> None:
        super().__init__(403, "AccessDenied", message)

    def for_protocol(self, protocol: str) -> tuple[int, str, str]:
        if protocol == "json":
            return 400, "AccessDeniedException", self.message
        if protocol == "rest-json":
            return 403, "AccessDeniedException", self.message
        return 403, "AccessDenied", self.message


class ValidationError(GateError):
    """400 ValidationError (STS's and IAM's answer to a parameter out of range)."""

    def __init__(self, message: str) -> None:
        super().__init__(400, "ValidationError", message)


class AmbiguousRequest(GateError):
    """A request the gate cannot read one way only (a component, parameter or name given twice or in two places).
    It is refused before authorization: authorizing one reading while moto executes another would be a bypass."""


class ReadingMismatch(GateError):
    """moto executed something other than what the gate authorized (``localcloud.gate.invariant``)."""

    def __init__(self, message: str) -> None:
        super().__init__(500, "InternalFailure", f"localcloud: {message}", sender=False)


# (kind) -> (protocol family) -> (status, code, default message)
AUTH_ERRORS: dict[str, dict[str, tuple[int, str, str]]] = {
    "missing": {
        "rest-xml": (403, "AccessDenied", "Access Denied"),
        "query": (403, "MissingAuthenticationToken", "Request is missing Authentication Token"),
        "json": (400, "MissingAuthenticationTokenException", "Missing Authentication Token"),
        "rest-json": (403, "MissingAuthenticationTokenException", "Missing Authentication Token"),
    },
    "unknown_key": {
        "rest-xml": (403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records."),
        "query": (403, "InvalidClientTokenId", "The security token included in the request is invalid."),
        "json": (400, "UnrecognizedClientException", "The security token included in the request is invalid."),
        "rest-json": (403, "UnrecognizedClientException", "The security token included in the request is invalid."),
    },
    "bad_token": {
        "rest-xml": (400, "InvalidToken", "The provided token is malformed or otherwise invalid."),
        "query": (403, "InvalidClientTokenId", "The security token included in the request is invalid."),
        "json": (400, "UnrecognizedClientException", "The security token included in the request is invalid."),
        "rest-json": (403, "UnrecognizedClientException", "The security token included in the request is invalid."),
    },
    "expired_token": {
        "rest-xml": (400, "ExpiredToken", "The provided token has expired."),
        "query": (403, "ExpiredToken", "The security token included in the request is expired"),
        "json": (400, "ExpiredTokenException", "The security token included in the request is expired"),
        "rest-json": (403, "ExpiredTokenException", "The security token included in the request is expired"),
    },
    "mismatch": {
        "rest-xml": (
            403,
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided. "
            "Check your key and signing method.",
        ),
        "query": (
            403,
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided. Check your AWS Secret "
            "Access Key and signing method. Consult the service documentation for details.",
        ),
        "json": (
            400,
            "InvalidSignatureException",
            "The request signature we calculated does not match the signature you provided. Check your AWS Secret "
            "Access Key and signing method. Consult the service documentation for details.",
        ),
        "rest-json": (
            403,
            "InvalidSignatureException",
            "The request signature we calculated does not match the signature you provided. Check your AWS Secret "
            "Access Key and signing method. Consult the service documentation for details.",
        ),
    },
    "malformed": {
        "rest-xml": (400, "AuthorizationHeaderMalformed", ""),
        "query": (400, "IncompleteSignature", ""),
        "json": (400, "IncompleteSignatureException", ""),
        "rest-json": (403, "IncompleteSignatureException", ""),
    },
    "skewed": {
        "rest-xml": (403, "RequestTimeTooSkewed",
                     "The difference between the request time and the current time is too large."),
        "query": (403, "SignatureDoesNotMatch", ""),
        "json": (400, "InvalidSignatureException", ""),
        "rest-json": (403, "InvalidSignatureException", ""),
    },
}


def _family(protocol: str) -> str:
    return protocol if protocol in ("rest-xml", "json", "rest-json") else "query"


def render(error: GateError, protocol: str, *, request_id: str, service: str | None = None,
           head: bool = False) -> Response:
    """The error document AWS sends for ``error`` in ``protocol``."""
    status, code, message = error.for_protocol(protocol)
    return error_response(protocol, status, code, message, request_id=request_id, service=service,
                          extra=error.extra if protocol == "rest-xml" else None, head=head, sender=error.sender)


def error_response(
    protocol: str,
    status: int,
    code: str,
    message: str,
    *,
    request_id: str,
    service: str | None = None,
    extra: Mapping[str, str] | None = None,
    head: bool = False,
    sender: bool = True,
) -> Response:
    """An AWS-shaped error of the given protocol."""
    if protocol == "rest-xml":
        details = "".join(f"<{name}>{escape(value)}</{name}>" for name, value in (extra or {}).items())
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{escape(code)}</Code><Message>{escape(message)}</Message>{details}"
            f"<RequestId>{request_id}</RequestId><HostId>{request_id}</HostId></Error>"
        )
        headers = {"Content-Type": "application/xml", "x-amz-request-id": request_id, "x-amz-id-2": request_id}
        return Response(b"" if head else body.encode(), status=status, headers=headers)
    if protocol in ("query", "ec2"):
        namespace = XMLNS.get(service or "", XMLNS["sts"])
        body = (
            f'<ErrorResponse xmlns="{namespace}"><Error><Type>{"Sender" if sender else "Receiver"}</Type>'
            f"<Code>{escape(code)}</Code><Message>{escape(message)}</Message></Error>"
            f"<RequestId>{request_id}</RequestId></ErrorResponse>"
        )
        return Response(body.encode(), status=status, headers={"Content-Type": "text/xml", "x-amzn-RequestId": request_id})
    if protocol == "json":
        body = json.dumps({"__type": code, "message": message})
        headers = {"Content-Type": "application/x-amz-json-1.1", "x-amzn-RequestId": request_id,
                   "x-amzn-ErrorType": code}
        return Response(body.encode(), status=status, headers=headers)
    body = json.dumps({"Type": "User" if sender else "Service", "Message": message})
    headers = {"Content-Type": "application/json", "x-amzn-RequestId": request_id, "x-amzn-ErrorType": code}
    return Response(b"" if head else body.encode(), status=status, headers=headers)
