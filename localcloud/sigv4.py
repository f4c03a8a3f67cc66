"""Verification of AWS Signature Version 4, as a service does it on receipt.

Pure functions: nothing here knows moto or the gate. ``HttpRequest.from_environ`` captures what a WSGI server saw,
``parse`` finds the signature (``Authorization`` header, or the presigned query-string form that ``aws s3 presign``
writes), and ``verify`` checks the request time and recomputes the signature with the caller's secret key.

The canonical request follows botocore (``botocore.auth.SigV4Auth.canonical_request``) and the SigV4 spec:
- S3 signs the path exactly as sent; other services sign the normalised path, percent-encoded once more.
- The query string is sorted by key, then value; a presigned URL leaves out ``X-Amz-Signature``.
- The payload hash is ``x-amz-content-sha256`` when the client sent one (S3 always does: a hex digest,
  ``UNSIGNED-PAYLOAD`` or ``STREAMING-*``); otherwise the SHA-256 of the body. A presigned S3 URL signs
  ``UNSIGNED-PAYLOAD``.
Clients differ in how they escape the path and the query, so ``canonical_requests`` yields every reading a real
client may have signed (botocore's verbatim one first) and a signature matching any of them is accepted.

Not verified: the per-chunk signatures of ``STREAMING-AWS4-HMAC-SHA256-PAYLOAD`` bodies (only the seed signature in
the header), and SigV2 / SigV4a (both are reported as a malformed signature).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from urllib.parse import quote, unquote

from botocore.auth import EMPTY_SHA256_HASH, SIGV4_TIMESTAMP, UNSIGNED_PAYLOAD
from botocore.utils import normalize_url_path

ALGORITHM = "AWS4-HMAC-SHA256"
MAX_SKEW = timedelta(minutes=15)
MAX_PRESIGN_EXPIRES = 7 * 24 * 3600  # seconds; SigV4 presigned URLs live at most a week
S3_SERVICES = frozenset({"s3", "s3-object-lambda", "s3express"})

_HEX_DIGEST = re.compile(r"^[0-9a-f]{64}$")
_SIGNATURE = re.compile(r"^[0-9a-f]{64}$")


# ---------------------------------------------------------------------------------------------------------------
# Errors: one class per way a signature can fail. The gate turns them into each protocol's error document.
# ---------------------------------------------------------------------------------------------------------------


class SigV4Error(Exception):
    """A request whose signature cannot be accepted."""


class MissingAuthentication(SigV4Error):
    """The request carries no signature at all (anonymous)."""


class MalformedAuthorization(SigV4Error):
    """The signature is there but cannot be read: wrong algorithm, a missing part, a bad date or scope."""


class SignatureMismatch(SigV4Error):
    """The signature does not match the one computed with the caller's secret key."""

    def __init__(self, canonical_request: str, string_to_sign: str, signature_provided: str) -> None:
        super().__init__("the request signature does not match")
        self.canonical_request = canonical_request
        self.string_to_sign = string_to_sign
        self.signature_provided = signature_provided


class RequestTimeTooSkewed(SigV4Error):
    """The request was signed more than 15 minutes away from the server's clock."""

    def __init__(self, request_time: datetime, server_time: datetime) -> None:
        super().__init__(f"request time {request_time:%Y%m%dT%H%M%SZ} is too far from {server_time:%Y%m%dT%H%M%SZ}")
        self.request_time = request_time
        self.server_time = server_time


class RequestExpired(SigV4Error):
    """A presigned URL used after its X-Amz-Expires."""

    def __init__(self, expires_at: datetime, server_time: datetime, expires_seconds: int) -> None:
        super().__init__(f"request expired at {expires_at:%Y-%m-%dT%H:%M:%SZ}")
        self.expires_at = expires_at
        self.server_time = server_time
        self.expires_seconds = expires_seconds


# ---------------------------------------------------------------------------------------------------------------
# The request as received
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HttpRequest:
    """What the server received: method, path and query as sent (still percent-encoded), headers, body."""

    method: str
    raw_path: str
    raw_query: str
    headers: Mapping[str, str]  # lower-case names
    body: bytes = b""

    def header(self, name: str) -> str | None:
        # WSGI folds "-" and "_" together (HTTP_X_AMZ_META_A_B), so names are compared the same way.
        return self.headers.get(name.lower().replace("_", "-"))

    def query_pairs(self) -> list[tuple[str, str]]:
        """The raw ``key=value`` pairs of the query string, still percent-encoded, in their order."""
        if not self.raw_query:
            return []
        return [(key, value) for key, _, value in (pair.partition("=") for pair in self.raw_query.split("&"))]

    def query_params(self) -> dict[str, str]:
        """The decoded query parameters (the first value of a repeated key)."""
        params: dict[str, str] = {}
        for key, value in self.query_pairs():
            params.setdefault(_unquote(key), _unquote(value))
        return params

    @classmethod
    def from_environ(cls, environ: Mapping[str, object], body: bytes) -> HttpRequest:
        """Capture a WSGI request. The path comes from ``RAW_URI``/``REQUEST_URI`` when the server kept it."""
        raw_uri = environ.get("RAW_URI") or environ.get("REQUEST_URI")
        if isinstance(raw_uri, str) and raw_uri.startswith("/"):
            raw_path, _, raw_query = raw_uri.partition("?")
        else:
            path_info = str(environ.get("PATH_INFO", "") or "/")
            # PEP 3333: PATH_INFO holds the decoded bytes as latin-1 text.
            raw_path = quote(path_info.encode("latin-1"), safe="/~!$&'()*+,;=:@")
            raw_query = str(environ.get("QUERY_STRING", "") or "")
        headers: dict[str, str] = {}
        for key, value in environ.items():
            if not isinstance(value, str):
                continue
            if key.startswith("HTTP_"):
                headers[key[5:].lower().replace("_", "-")] = value
            elif key in ("CONTENT_TYPE", "CONTENT_LENGTH") and value:
                headers[key.lower().replace("_", "-")] = value
        return cls(
            method=str(environ.get("REQUEST_METHOD", "GET")).upper(),
            raw_path=raw_path or "/",
            raw_query=raw_query,
            headers=headers,
            body=body,
        )


@dataclass(frozen=True)
class Credential:
    """The ``Credential=`` part: access key and scope (date, region, service)."""

    access_key_id: str
    date: str  # YYYYMMDD
    region: str
    service: str

    @property
    def scope(self) -> str:
        return f"{self.date}/{self.region}/{self.service}/aws4_request"

    @classmethod
    def parse(cls, text: str) -> Credential:
        parts = text.split("/")
        if len(parts) != 5 or parts[4] != "aws4_request" or not all(parts[:4]):
            raise MalformedAuthorization(
                f"Credential should be scoped to a valid region, service and terminated by 'aws4_request': {text!r}"
            )
        return cls(access_key_id=parts[0], date=parts[1], region=parts[2], service=parts[3])


@dataclass(frozen=True)
class SignedRequest:
    """A request together with the SigV4 signature it carries."""

    request: HttpRequest
    credential: Credential
    signed_headers: tuple[str, ...]
    signature: str
    amz_date: str  # YYYYMMDDTHHMMSSZ, as it enters the string to sign
    presigned: bool = False
    expires_seconds: int | None = None  # presigned only
    security_token: str | None = None
    excluded_query_keys: frozenset[str] = field(default=frozenset())

    @property
    def access_key_id(self) -> str:
        return self.credential.access_key_id

    @property
    def service(self) -> str:
        return self.credential.service

    @property
    def region(self) -> str:
        return self.credential.region

    @property
    def timestamp(self) -> datetime:
        return datetime.strptime(self.amz_date, SIGV4_TIMESTAMP).replace(tzinfo=timezone.utc)


# ---------------------------------------------------------------------------------------------------------------
# Parsing
# ---------------------------------------------------------------------------------------------------------------


def is_signed(request: HttpRequest) -> bool:
    """True if the request carries any authentication (SigV4 or another scheme)."""
    params = request.query_params()
    return bool(request.header("authorization")) or "X-Amz-Signature" in params or "Signature" in params


def parse(request: HttpRequest) -> SignedRequest:
    """Find the SigV4 signature of ``request``; raise ``MissingAuthentication`` or ``MalformedAuthorization``."""
    authorization = request.header("authorization")
    params = request.query_params()
    if authorization:
        return _parse_header_form(request, authorization)
    if "X-Amz-Algorithm" in params or "X-Amz-Signature" in params or "X-Amz-Credential" in params:
        return _parse_query_form(request, params)
    if "Signature" in params or "AWSAccessKeyId" in params:
        raise MalformedAuthorization("Only AWS Signature Version 4 (AWS4-HMAC-SHA256) is supported.")
    raise MissingAuthentication("Request is missing Authentication Token")


def _parse_header_form(request: HttpRequest, authorization: str) -> SignedRequest:
    algorithm, _, rest = authorization.strip().partition(" ")
    if algorithm != ALGORITHM:
        raise MalformedAuthorization(f"Unsupported authorization type {algorithm!r}; only {ALGORITHM} is accepted.")
    parts: dict[str, str] = {}
    for item in rest.split(","):
        name, sep, value = item.strip().partition("=")
        if sep:
            parts[name.strip()] = value.strip()
    missing = [name for name in ("Credential", "SignedHeaders", "Signature") if name not in parts]
    if missing:
        raise MalformedAuthorization(
            f"Authorization header requires {', '.join(repr(m) for m in missing)} parameter(s). "
            f"Authorization={authorization}"
        )
    credential = Credential.parse(parts["Credential"])
    amz_date = _request_date(request)
    _check_scope_date(credential, amz_date)
    return SignedRequest(
        request=request,
        credential=credential,
        signed_headers=_signed_header_names(parts["SignedHeaders"]),
        signature=parts["Signature"].lower(),
        amz_date=amz_date,
        security_token=request.header("x-amz-security-token"),
    )


def _parse_query_form(request: HttpRequest, params: Mapping[str, str]) -> SignedRequest:
    missing = [
        name
        for name in ("X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-SignedHeaders", "X-Amz-Signature")
        if not params.get(name)
    ]
    if missing:
        raise MalformedAuthorization(f"Query-string authentication requires the {', '.join(missing)} parameter(s).")
    if params["X-Amz-Algorithm"] != ALGORITHM:
        raise MalformedAuthorization(f"X-Amz-Algorithm only supports {ALGORITHM!r}")
    credential = Credential.parse(params["X-Amz-Credential"])
    amz_date = params["X-Amz-Date"]
    _parse_timestamp(amz_date)
    _check_scope_date(credential, amz_date)
    expires: int | None = None
    if "X-Amz-Expires" in params:
        try:
            expires = int(params["X-Amz-Expires"])
        except ValueError:
            raise MalformedAuthorization("X-Amz-Expires should be a number") from None
        if expires < 0:
            raise MalformedAuthorization("X-Amz-Expires must be non-negative")
        if expires > MAX_PRESIGN_EXPIRES:
            raise MalformedAuthorization(
                f"X-Amz-Expires must be less than a week (in seconds) that is {MAX_PRESIGN_EXPIRES}"
            )
    return SignedRequest(
        request=request,
        credential=credential,
        signed_headers=_signed_header_names(params["X-Amz-SignedHeaders"]),
        signature=params["X-Amz-Signature"].lower(),
        amz_date=amz_date,
        presigned=True,
        expires_seconds=expires,
        security_token=params.get("X-Amz-Security-Token") or request.header("x-amz-security-token"),
        excluded_query_keys=frozenset({"X-Amz-Signature"}),
    )


def _signed_header_names(text: str) -> tuple[str, ...]:
    names = tuple(name.strip().lower() for name in text.split(";") if name.strip())
    if not names:
        raise MalformedAuthorization("SignedHeaders must name at least the host header")
    return names


def _request_date(request: HttpRequest) -> str:
    """The SigV4 timestamp: ``X-Amz-Date``, or the ``Date`` header converted to the same form."""
    amz_date = request.header("x-amz-date")
    if amz_date:
        _parse_timestamp(amz_date)
        return amz_date
    date = request.header("date")
    if date:
        try:
            parsed = parsedate_to_datetime(date)
        except (TypeError, ValueError):
            raise MalformedAuthorization(f"Date header could not be parsed: {date!r}") from None
        return parsed.astimezone(timezone.utc).strftime(SIGV4_TIMESTAMP)
    raise MalformedAuthorization("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")


def _parse_timestamp(amz_date: str) -> datetime:
    try:
        return datetime.strptime(amz_date, SIGV4_TIMESTAMP).replace(tzinfo=timezone.utc)
    except ValueError:
        raise MalformedAuthorization(
            f"X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\": {amz_date!r}"
        ) from None


def _check_scope_date(credential: Credential, amz_date: str) -> None:
    if credential.date != amz_date[:8]:
        raise MalformedAuthorization(
            f"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: "
            f"'{credential.date}' != '{amz_date[:8]}', from '{amz_date}'."
        )


# ---------------------------------------------------------------------------------------------------------------
# Canonical request and signature
# ---------------------------------------------------------------------------------------------------------------


def _unquote(text: str) -> str:
    return unquote(text, encoding="utf-8", errors="surrogateescape")


def _quote(text: str, safe: str) -> str:
    return quote(text, safe=safe, encoding="utf-8", errors="surrogateescape")


def _canonical_paths(signed: SignedRequest) -> list[str]:
    raw = signed.request.raw_path or "/"
    if signed.service in S3_SERVICES:
        # botocore (S3SigV4Auth) signs the path as it sends it; the spec encodes the decoded path once.
        candidates = [raw, _quote(_unquote(raw), safe="/~")]
    else:
        # botocore quotes the (already encoded) path once more after normalising it; so does the spec.
        candidates = [_quote(normalize_url_path(raw), safe="/~"), _quote(normalize_url_path(_unquote(raw)), safe="/~")]
    return list(dict.fromkeys(candidates))


def _canonical_queries(signed: SignedRequest) -> list[str]:
    pairs = [(k, v) for k, v in signed.request.query_pairs() if _unquote(k) not in signed.excluded_query_keys]
    pairs = [(k, v) for k, v in pairs if k or v]
    verbatim = "&".join(f"{k}={v}" for k, v in sorted(pairs))  # botocore: sorted as sent
    strict = "&".join(
        f"{k}={v}"
        for k, v in sorted((_quote(_unquote(k), safe="-_.~"), _quote(_unquote(v), safe="-_.~")) for k, v in pairs)
    )
    return list(dict.fromkeys([verbatim, strict]))


def canonical_headers(signed: SignedRequest) -> str:
    lines = []
    for name in sorted(set(signed.signed_headers)):
        value = signed.request.header(name)
        if value is None and name == "host":
            value = ""
        lines.append(f"{name}:{' '.join((value or '').split())}")
    return "\n".join(lines) + "\n"


def payload_hash(signed: SignedRequest) -> str:
    """The hash that enters the canonical request (see the module docstring)."""
    declared = signed.request.header("x-amz-content-sha256")
    if declared:
        return declared
    if signed.presigned and signed.service in S3_SERVICES:
        return UNSIGNED_PAYLOAD
    if not signed.request.body:
        return EMPTY_SHA256_HASH
    return hashlib.sha256(signed.request.body).hexdigest()


def canonical_requests(signed: SignedRequest) -> Iterator[str]:
    """Every canonical request a client may have signed, botocore's own first."""
    headers = canonical_headers(signed)
    signed_names = ";".join(sorted(set(signed.signed_headers)))
    body_hash = payload_hash(signed)
    for path in _canonical_paths(signed):
        for query in _canonical_queries(signed):
            yield "\n".join([signed.request.method, path, query, headers, signed_names, body_hash])


def string_to_sign(signed: SignedRequest, canonical_request: str) -> str:
    return "\n".join(
        [
            ALGORITHM,
            signed.amz_date,
            signed.credential.scope,
            hashlib.sha256(canonical_request.encode("utf-8")).hexdigest(),
        ]
    )


def signing_key(secret_key: str, credential: Credential) -> bytes:
    key = hmac.new(f"AWS4{secret_key}".encode(), credential.date.encode(), hashlib.sha256).digest()
    for part in (credential.region, credential.service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def signature_for(secret_key: str, signed: SignedRequest, canonical_request: str) -> str:
    return hmac.new(
        signing_key(secret_key, signed.credential),
        string_to_sign(signed, canonical_request).encode("utf-8"),
        hashlib.sha256,
    ).hexdigest()


# ---------------------------------------------------------------------------------------------------------------
# Verification
# ---------------------------------------------------------------------------------------------------------------


def check_time(signed: SignedRequest, now: datetime) -> None:
    """Reject a header signature more than 15 minutes off, and a presigned URL past its expiry."""
    signed_at = signed.timestamp
    if signed.presigned:
        if signed_at - now > MAX_SKEW:
            raise RequestTimeTooSkewed(signed_at, now)
        expires = signed.expires_seconds if signed.expires_seconds is not None else MAX_PRESIGN_EXPIRES
        expires_at = signed_at + timedelta(seconds=expires)
        if now > expires_at:
            raise RequestExpired(expires_at, now, expires)
        return
    if abs(now - signed_at) > MAX_SKEW:
        raise RequestTimeTooSkewed(signed_at, now)


def check_signature(signed: SignedRequest, secret_key: str) -> None:
    """Raise ``SignatureMismatch`` unless the signature matches one canonical reading of the request."""
    if not _SIGNATURE.match(signed.signature):
        first = next(canonical_requests(signed))
        raise SignatureMismatch(first, string_to_sign(signed, first), signed.signature)
    first_reading: str | None = None
    for candidate in canonical_requests(signed):
        first_reading = first_reading or candidate
        if hmac.compare_digest(signature_for(secret_key, signed, candidate), signed.signature):
            return
    assert first_reading is not None
    raise SignatureMismatch(first_reading, string_to_sign(signed, first_reading), signed.signature)


def verify(signed: SignedRequest, secret_key: str, now: datetime) -> None:
    """Check the request time, then the signature. Raises a ``SigV4Error`` subclass on failure."""
    check_time(signed, now)
    check_signature(signed, secret_key)


def declared_payload_mismatch(signed: SignedRequest) -> bool:
    """True if ``x-amz-content-sha256`` is a hex digest that is not the digest of the body received.

    Bodies sent ``aws-chunked`` carry a ``STREAMING-*`` value instead and are not checked here.
    """
    declared = signed.request.header("x-amz-content-sha256")
    if not declared or not _HEX_DIGEST.match(declared):
        return False
    return hashlib.sha256(signed.request.body).hexdigest() != declared
