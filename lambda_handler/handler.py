"""Write one object into the PROD bucket from the DEV account, through the PROD role.

Runs in the DEV account. The execution role's own credentials (the environment variables Lambda
sets) call ``sts:AssumeRole`` on ``TARGET_ROLE_ARN``; the S3 client signs with the resulting
credentials. Those credentials are botocore *refreshable* credentials held at module scope, so a
warm container calls AssumeRole once per credential lifetime (refreshing 15 minutes before
expiry), not once per invocation.

Configuration (environment variables, read and validated on the first invocation):

- ``TARGET_ROLE_ARN``    required; the PROD role to assume.
- ``TARGET_BUCKET``      required; the PROD bucket.
- ``TARGET_KEY_PREFIX``  required, may be ``""``; normalised to end with ``/`` when non-empty.
- ``TARGET_REGION``      region of the bucket; defaults to ``AWS_REGION``.
- ``EXTERNAL_ID``        optional; sent as ``ExternalId`` when set and non-empty.
- ``MAX_BODY_BYTES``     optional positive int, default 262144 (UTF-8 bytes of ``body``).
- ``AWS_LAMBDA_FUNCTION_NAME`` (set by Lambda) names the role session.

Event: a JSON object with only these optional string fields (anything else is rejected):

- ``key``           relative to the prefix; default a fresh ``str(uuid.uuid4())``.
- ``body``          default a small JSON document ``{"function", "request_id", "written_at"}``.
- ``content_type``  default ``application/json`` for the default body, otherwise
                    ``text/plain; charset=utf-8``.

Responses (``body`` is a JSON string):

- 200 ``{"bucket", "key" (including the prefix), "etag" (as S3 returns it), "versionId" (or null)}``
  (``versionId`` is null too when S3's answer to the write was lost and the write was found by
  listing: see ``RoleWriter.put``).
- 400 ``{"error": "InvalidEvent", "message"}``: the message names the field; nothing is written
  and the role is not assumed.
- 403 ``{"error": "AccessDenied", "message"}``: names the role ARN (AssumeRole) or the bucket and
  key (PutObject).
- 409 ``{"error": "ObjectAlreadyExists", "message"}``: the key already holds an object this
  invocation did not write; keys are write-once, nothing was written.
- 502 ``{"error": <AWS error code or botocore exception name>, "message"}``: any other AWS failure.

A missing or invalid configuration variable raises ``ConfigurationError`` (naming the variable), so
Lambda reports a function error. Every invocation prints exactly one JSON log line; neither it nor
any response ever contains credentials.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import botocore.session
from botocore.config import Config as BotocoreConfig
from botocore.credentials import (
    CredentialProvider,
    CredentialResolver,
    Credentials,
    DeferredRefreshableCredentials,
)
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
)

# --------------------------------------------------------------------------------------------
# Constants
# --------------------------------------------------------------------------------------------

S3_MAX_KEY_BYTES = 1024
DEFAULT_MAX_BODY_BYTES = 262_144
# Role chaining (a Lambda execution role session assuming another role) is capped at 1 hour.
SESSION_DURATION_SECONDS = 3600
FALLBACK_SESSION_NAME = "cross-account-s3-writer"
EVENT_FIELDS = ("body", "content_type", "key")
TEXT_CONTENT_TYPE = "text/plain; charset=utf-8"
JSON_CONTENT_TYPE = "application/json"
ACCESS_DENIED_CODES = frozenset({"AccessDenied", "AccessDeniedException"})
# What S3 and STS answer for a request signed with a session token that has expired.
EXPIRED_TOKEN_CODES = frozenset({"ExpiredToken", "ExpiredTokenException"})
# 503 from S3 is SlowDown: the request was refused, so it stored nothing.
_REFUSED_STATUS = 503

CLIENT_CONFIG = BotocoreConfig(
    connect_timeout=2,
    read_timeout=5,
    # botocore's standard mode retries throttling, 5xx and connection errors with jittered
    # exponential back-off. Its "max_attempts" counts *retries* (3 meant 4 attempts);
    # "total_max_attempts" counts attempts: 3, AWS's standard default, keeps a failing call to
    # about 3 s of back-off at most (throttling; 0.15 s otherwise).
    retries={"mode": "standard", "total_max_attempts": 3},
)

_ROLE_ARN_RE = re.compile(r"arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}", re.ASCII)
_BUCKET_RE = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_REGION_RE = re.compile(r"[a-z]{2}(-[a-z]+)+-\d{1,2}")
_EXTERNAL_ID_RE = re.compile(r"[\w+=,.@:/-]{2,1224}", re.ASCII)
_SESSION_NAME_BAD_CHARS_RE = re.compile(r"[^\w+=,.@-]", re.ASCII)
_CONTROL_CHARS_RE = re.compile(r"[\x00-\x1f\x7f]")
_PRINTABLE_ASCII_RE = re.compile(r"[\x20-\x7e]{1,255}")


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------


class WriterError(Exception):
    """Base class for every failure this function reports."""


class ConfigurationError(WriterError):
    """An environment variable is missing or invalid."""


class InvalidEvent(WriterError):
    """The event is malformed; nothing was written."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class AwsCallFailed(WriterError):
    """An AWS call failed; ``code`` is the AWS error code or the botocore exception name."""

    def __init__(self, message: str, code: str, access_denied: bool) -> None:
        super().__init__(message)
        self.code = code
        self.access_denied = access_denied


class AssumeRoleFailed(AwsCallFailed):
    """STS did not hand out credentials for the target role."""


class PutObjectFailed(AwsCallFailed):
    """S3 did not store the object."""


class ObjectAlreadyExists(WriterError):
    """The key holds an object this invocation did not write; nothing was written."""


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code") or "")


def _describe_sdk_error(exc: BotoCoreError | ClientError) -> tuple[str, bool]:
    """Return (error code, is access denied) for an SDK exception, without its message text."""
    if isinstance(exc, ClientError):
        code = str(exc.response.get("Error", {}).get("Code") or "ClientError")
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return code, code in ACCESS_DENIED_CODES or status == 403
    return type(exc).__name__, False


# --------------------------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Config:
    """Validated settings taken from the environment."""

    role_arn: str
    bucket: str
    key_prefix: str
    region: str
    sts_region: str
    external_id: str | None
    max_body_bytes: int
    function_name: str

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Config:
        """Read and validate the configuration; raise ConfigurationError naming the variable."""
        env = os.environ if environ is None else environ

        def required(name: str) -> str:
            if name not in env:
                raise ConfigurationError(f"environment variable {name} is required but not set")
            return env[name]

        role_arn = required("TARGET_ROLE_ARN").strip()
        if not _ROLE_ARN_RE.fullmatch(role_arn):
            raise ConfigurationError(
                f"TARGET_ROLE_ARN must be an IAM role ARN like "
                f"arn:aws:iam::111111111111:role/name, got {role_arn!r}"
            )
        bucket = required("TARGET_BUCKET").strip()
        if not _BUCKET_RE.fullmatch(bucket):
            raise ConfigurationError(f"TARGET_BUCKET must be an S3 bucket name, got {bucket!r}")
        key_prefix = _normalise_prefix(required("TARGET_KEY_PREFIX"))

        aws_region = env.get("AWS_REGION", "").strip()
        region = env.get("TARGET_REGION", "").strip() or aws_region
        if not region:
            raise ConfigurationError(
                "TARGET_REGION (the bucket's region) is not set and there is no AWS_REGION "
                "to default to"
            )
        if not _REGION_RE.fullmatch(region):
            raise ConfigurationError(f"TARGET_REGION must be a region like eu-west-1, got {region!r}")

        external_id = env.get("EXTERNAL_ID", "") or None
        if external_id is not None and not _EXTERNAL_ID_RE.fullmatch(external_id):
            # The value itself is a shared secret of sorts: do not echo it.
            raise ConfigurationError(
                "EXTERNAL_ID must be 2-1224 characters from [A-Za-z0-9_+=,.@:/-]"
            )

        raw_max = env.get("MAX_BODY_BYTES", "").strip()
        try:
            max_body_bytes = int(raw_max) if raw_max else DEFAULT_MAX_BODY_BYTES
        except ValueError:
            max_body_bytes = 0
        if max_body_bytes <= 0:
            raise ConfigurationError(f"MAX_BODY_BYTES must be a positive integer, got {raw_max!r}")

        return cls(
            role_arn=role_arn,
            bucket=bucket,
            key_prefix=key_prefix,
            region=region,
            sts_region=aws_region or region,
            external_id=external_id,
            max_body_bytes=max_body_bytes,
            function_name=env.get("AWS_LAMBDA_FUNCTION_NAME", "") or FALLBACK_SESSION_NAME,
        )

    @property
    def max_key_bytes(self) -> int:
        """How many UTF-8 bytes an event key may have once the prefix is accounted for."""
        return S3_MAX_KEY_BYTES - len(self.key_prefix.encode("utf-8"))


def _normalise_prefix(prefix: str) -> str:
    if not prefix:
        return ""
    problem = _key_problem(prefix)
    if problem:
        raise ConfigurationError(f"TARGET_KEY_PREFIX {problem}, got {prefix!r}")
    prefix = prefix if prefix.endswith("/") else prefix + "/"
    if len(prefix.encode("utf-8")) >= S3_MAX_KEY_BYTES:
        raise ConfigurationError(f"TARGET_KEY_PREFIX must be shorter than {S3_MAX_KEY_BYTES} bytes")
    return prefix


def session_name(function_name: str) -> str:
    """Role session name for CloudTrail: the function name, in STS's charset and 2-64 chars."""
    name = _SESSION_NAME_BAD_CHARS_RE.sub("-", function_name)[:64]
    return name if len(name) >= 2 else FALLBACK_SESSION_NAME


# --------------------------------------------------------------------------------------------
# Event parsing (pure)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PutRequest:
    """One validated object to write."""

    key: str  # the full key, prefix included
    body: bytes
    content_type: str


def _key_problem(key: str) -> str | None:
    """Why ``key`` is not an acceptable S3 key (apart from its length), or None."""
    if key.startswith("/"):
        return "must not start with '/'"
    if "\\" in key:
        return "must not contain a backslash"
    if _CONTROL_CHARS_RE.search(key):
        return "must not contain control characters (U+0000-U+001F, U+007F)"
    if ".." in key.split("/"):
        return "must not contain a '..' path segment"
    if not _is_encodable(key):
        return "must be valid Unicode text (no lone surrogates)"
    return None


def _is_encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _string_field(event: Mapping[str, Any], field: str) -> str | None:
    value = event.get(field)
    if field in event and not isinstance(value, str):
        raise InvalidEvent(field, f"'{field}' must be a string, got {type(value).__name__}")
    return value


def parse_event(event: Any, config: Config, *, request_id: str | None = None) -> PutRequest:
    """Validate the event and build the object to write; raise InvalidEvent naming the field."""
    allowed = ", ".join(f"'{name}'" for name in EVENT_FIELDS)
    if not isinstance(event, dict):
        raise InvalidEvent(
            "event",
            f"event must be a JSON object with optional fields {allowed}, "
            f"got {type(event).__name__}",
        )
    unknown = sorted(str(name) for name in event if name not in EVENT_FIELDS)
    if unknown:
        listed = ", ".join(f"'{name}'" for name in unknown)
        raise InvalidEvent(
            unknown[0], f"unknown field(s) {listed}; allowed fields are {allowed}"
        )

    key = _string_field(event, "key")
    if key is None:
        key = str(uuid.uuid4())
    elif not key:
        raise InvalidEvent("key", "'key' must not be empty")
    else:
        problem = _key_problem(key)
        if problem:
            raise InvalidEvent("key", f"'key' {problem}")
        key_bytes = len(key.encode("utf-8"))
        if key_bytes > config.max_key_bytes:
            raise InvalidEvent(
                "key",
                f"'key' is {key_bytes} bytes in UTF-8; at most {config.max_key_bytes} are "
                f"allowed ({S3_MAX_KEY_BYTES} minus the prefix {config.key_prefix!r})",
            )

    body = _string_field(event, "body")
    content_type = _string_field(event, "content_type")
    if body is None:
        body = json.dumps(
            {
                "function": config.function_name,
                "request_id": request_id,
                "written_at": datetime.now(timezone.utc).isoformat(),
            }
        )
        content_type = JSON_CONTENT_TYPE if content_type is None else content_type
    if not _is_encodable(body):
        raise InvalidEvent("body", "'body' must be valid Unicode text (no lone surrogates)")
    body_bytes = body.encode("utf-8")
    if len(body_bytes) > config.max_body_bytes:
        raise InvalidEvent(
            "body",
            f"'body' is {len(body_bytes)} bytes in UTF-8; the limit is "
            f"{config.max_body_bytes} bytes (MAX_BODY_BYTES)",
        )

    if content_type is None:
        content_type = TEXT_CONTENT_TYPE
    elif not _PRINTABLE_ASCII_RE.fullmatch(content_type):
        raise InvalidEvent(
            "content_type",
            "'content_type' must be 1-255 printable ASCII characters (no control characters)",
        )

    return PutRequest(key=config.key_prefix + key, body=body_bytes, content_type=content_type)


# --------------------------------------------------------------------------------------------
# AWS boundary
# --------------------------------------------------------------------------------------------


class _FixedCredentialProvider(CredentialProvider):
    """Hands a botocore session one credentials object (ours, refreshable)."""

    METHOD = "assume-role"

    def __init__(self, credentials: Credentials) -> None:
        super().__init__()
        self._credentials = credentials

    def load(self) -> Credentials:
        return self._credentials


class _RoleCredentials(DeferredRefreshableCredentials):
    """botocore's deferred refreshable credentials, and a way to drop them when S3 says expired."""

    def expire(self) -> None:
        """Forget the current credentials, as if none had been fetched yet: the next request signed
        with them takes botocore's first-use path, a mandatory refresh, i.e. a new AssumeRole."""
        with self._refresh_lock:
            self._frozen_credentials = None


@dataclass(frozen=True)
class Written:
    """Where the object is, and how the write got there."""

    location: dict[str, Any]
    credentials_refreshed: bool = False  # S3 said ExpiredToken; the role was assumed again
    lost_response_recovered: bool = False  # a retried PUT found the write whose answer was lost


class RoleWriter:
    """An S3 client in the target region signed with refreshable credentials of the target role.

    Built once per container. ``sts_client`` (default: one built from the execution role's own
    credentials) and ``clock`` (for botocore's expiry checks) exist so tests can inject them.
    Serves one invocation at a time, as a Lambda execution environment does.
    """

    def __init__(
        self,
        config: Config,
        *,
        sts_client: Any = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.config = config
        if sts_client is None:
            sts_client = botocore.session.Session().create_client(
                "sts", region_name=config.sts_region, config=CLIENT_CONFIG
            )
        self.sts = sts_client
        extra = {"time_fetcher": clock} if clock is not None else {}
        # Deferred: no AssumeRole until the first request is signed; then botocore refreshes
        # (advisory 15 min, mandatory 10 min before expiry) by calling _assume_role again.
        self.credentials = _RoleCredentials(
            refresh_using=self._assume_role, method="assume-role", **extra
        )
        session = botocore.session.Session()
        session.register_component(
            "credential_provider", CredentialResolver([_FixedCredentialProvider(self.credentials)])
        )
        self.s3 = session.create_client("s3", region_name=config.region, config=CLIENT_CONFIG)
        self.s3.meta.events.register("needs-retry.s3.PutObject", self._note_attempt)
        self._unanswered_puts = 0

    def _assume_role(self) -> dict[str, str]:
        params: dict[str, Any] = {
            "RoleArn": self.config.role_arn,
            "RoleSessionName": session_name(self.config.function_name),
            "DurationSeconds": SESSION_DURATION_SECONDS,
        }
        if self.config.external_id is not None:
            params["ExternalId"] = self.config.external_id
        try:
            credentials = self.sts.assume_role(**params)["Credentials"]
        except (BotoCoreError, ClientError) as exc:
            code, denied = _describe_sdk_error(exc)
            raise AssumeRoleFailed(
                f"could not assume role {self.config.role_arn} ({code})", code, denied
            ) from exc
        expiration = credentials["Expiration"]
        return {
            "access_key": credentials["AccessKeyId"],
            "secret_key": credentials["SecretAccessKey"],
            "token": credentials["SessionToken"],
            "expiry_time": expiration.isoformat()
            if isinstance(expiration, datetime)
            else str(expiration),
        }

    def _note_attempt(
        self, response: Any = None, caught_exception: Exception | None = None, **_: Any
    ) -> None:
        """botocore's needs-retry hook, called after every PutObject attempt: count the attempts
        S3 may have carried out without us hearing so (no HTTP answer after the connection was
        made, or a 5xx other than SlowDown). Returns None: the retry decision stays botocore's."""
        if caught_exception is not None:
            if not isinstance(caught_exception, (EndpointConnectionError, ConnectTimeoutError)):
                self._unanswered_puts += 1  # sent, perhaps stored, answer lost
        elif response is not None and response[0].status_code >= 500:
            self._unanswered_puts += response[0].status_code != _REFUSED_STATUS

    def put(self, request: PutRequest) -> Written:
        """Write the object exactly once, or raise AssumeRoleFailed, PutObjectFailed or
        ObjectAlreadyExists.

        Exactly once, although botocore retries: the PUT is conditional (``If-None-Match: *``), so
        no attempt can replace an object or add a version, and it carries ``Content-MD5``, so S3
        stores our exact bytes or nothing (a corrupted or cut-short body fails with BadDigest or
        IncompleteBody). A 412 PreconditionFailed then means the key already holds an object.
        It is this invocation's own write only if an earlier attempt may have been stored with
        its answer lost (``_note_attempt``), and then the stored ETag, which for a single-part
        PUT to an SSE-S3 bucket is the MD5 of the body, must be our MD5 too; S3 guaranteed that
        match when it accepted our Content-MD5. The check lists the exact key with the role's
        prefix-scoped s3:ListBucket: no s3:GetObject needed, the role stays write-only. A 412
        otherwise (a caller-chosen key that exists) is a 409: keys are write-once. The one case
        this cannot tell apart, an identical object already there before an attempt whose
        answer was lost, leaves the bucket exactly as a successful write would.
        """
        self._unanswered_puts = 0
        md5 = hashlib.md5(request.body)  # noqa: S324 - S3's integrity check and ETag, not security
        params = {
            "Bucket": self.config.bucket,
            "Key": request.key,
            "Body": request.body,
            "ContentType": request.content_type,
            "ContentMD5": base64.b64encode(md5.digest()).decode(),
            "IfNoneMatch": "*",
        }
        refreshed = False
        try:
            try:
                response = self.s3.put_object(**params)
            except ClientError as exc:
                if _error_code(exc) not in EXPIRED_TOKEN_CODES:
                    raise
                # The session expired before botocore expected it to (revoked, or the clock
                # is off): botocore refreshes on its own clock only, and standard retries do
                # not retry ExpiredToken (nor would a retry help: it re-signs with the same
                # session). So assume the role again and send the PUT once more, once.
                self.credentials.expire()
                refreshed = True
                response = self.s3.put_object(**params)
        except ClientError as exc:
            if _error_code(exc) == "PreconditionFailed":
                return self._own_write_or_conflict(request, md5.hexdigest(), refreshed)
            raise self._put_failed(request, exc) from exc
        except BotoCoreError as exc:
            raise self._put_failed(request, exc) from exc
        location = self._location(request, response.get("ETag"), response.get("VersionId"))
        return Written(location, credentials_refreshed=refreshed)

    def _own_write_or_conflict(
        self, request: PutRequest, md5_hex: str, refreshed: bool
    ) -> Written:
        where = f"s3://{self.config.bucket}/{request.key}"
        if self._unanswered_puts:
            try:
                listed = self.s3.list_objects_v2(
                    Bucket=self.config.bucket, Prefix=request.key, MaxKeys=1
                ).get("Contents", [])
            except (BotoCoreError, ClientError) as exc:
                code, denied = _describe_sdk_error(exc)
                raise PutObjectFailed(
                    f"{where} exists after a write whose answer was lost, and listing it to check "
                    f"whether it is this write failed ({code})", code, denied,
                ) from exc
            # The key itself sorts first among the keys it prefixes.
            found = listed[0] if listed and listed[0]["Key"] == request.key else None
            if found is not None and found["ETag"].strip('"') == md5_hex:
                # Its version id was in the lost answer; reading it back would need more rights.
                return Written(
                    self._location(request, found["ETag"], None),
                    credentials_refreshed=refreshed,
                    lost_response_recovered=True,
                )
        raise ObjectAlreadyExists(
            f"{where} already exists and was not written by this invocation; nothing was written "
            f"(keys are write-once: choose another key, or omit it for a fresh one)"
        )

    def _put_failed(self, request: PutRequest, exc: BotoCoreError | ClientError) -> PutObjectFailed:
        code, denied = _describe_sdk_error(exc)
        message = f"could not write s3://{self.config.bucket}/{request.key} ({code})"
        if self._unanswered_puts:
            message += "; an attempt's answer was lost, so S3 may have stored the object"
        return PutObjectFailed(message, code, denied)

    def _location(
        self, request: PutRequest, etag: str | None, version_id: str | None
    ) -> dict[str, Any]:
        return {
            "bucket": self.config.bucket,
            "key": request.key,
            "etag": etag,
            "versionId": version_id,
        }


# --------------------------------------------------------------------------------------------
# Module-level state: built on first use, reused by warm invocations
# --------------------------------------------------------------------------------------------

_CONFIG: Config | None = None
_WRITER: RoleWriter | None = None


def _get_config() -> Config:
    global _CONFIG
    if _CONFIG is None:
        _CONFIG = Config.from_env()
    return _CONFIG


def _get_writer() -> RoleWriter:
    global _WRITER
    if _WRITER is None:
        _WRITER = RoleWriter(_get_config())
    return _WRITER


def _reset_for_tests(writer: RoleWriter | None = None) -> None:
    """Forget the cached configuration and clients; optionally install ``writer`` instead."""
    global _CONFIG, _WRITER
    _CONFIG = writer.config if writer is not None else None
    _WRITER = writer


# --------------------------------------------------------------------------------------------
# Handler
# --------------------------------------------------------------------------------------------


def _error_response(exc: WriterError, config: Config | None) -> tuple[int, dict[str, str]]:
    """The one place that turns a failure into a status code and a JSON error body."""
    if isinstance(exc, InvalidEvent):
        return 400, {"error": "InvalidEvent", "message": str(exc)}
    if isinstance(exc, AssumeRoleFailed) and exc.access_denied:
        role = config.role_arn if config else "the target role"
        return 403, {
            "error": "AccessDenied",
            "message": f"access denied assuming role {role} ({exc.code})",
        }
    if isinstance(exc, PutObjectFailed) and exc.access_denied:
        return 403, {"error": "AccessDenied", "message": f"access denied: {exc}"}
    if isinstance(exc, ObjectAlreadyExists):
        return 409, {"error": "ObjectAlreadyExists", "message": str(exc)}
    if isinstance(exc, AwsCallFailed):
        return 502, {"error": exc.code, "message": str(exc)}
    return 500, {"error": type(exc).__name__, "message": str(exc)}


def lambda_handler(event: Any, context: Any) -> dict[str, Any]:
    """Validate the event, then write one object into the target bucket as the target role."""
    started = time.perf_counter()
    log: dict[str, Any] = {
        "function": os.environ.get("AWS_LAMBDA_FUNCTION_NAME"),
        "request_id": getattr(context, "aws_request_id", None),
        "bucket": None,
        "key": None,
        "error": None,
    }
    config: Config | None = None
    status: int = 500  # what an exception escaping this function amounts to
    body: dict[str, Any] = {}
    try:
        config = _get_config()
        log["bucket"] = config.bucket
        request = parse_event(event, config, request_id=log["request_id"])
        log["key"] = request.key
        written = _get_writer().put(request)
        status, body = 200, written.location
        log["credentials_refreshed"] = written.credentials_refreshed
        log["lost_response_recovered"] = written.lost_response_recovered
    except ConfigurationError as exc:
        # Misconfiguration is the operator's problem, not the caller's: fail the invocation.
        log["error"], log["message"] = "ConfigurationError", str(exc)
        raise
    except WriterError as exc:
        status, body = _error_response(exc, config)
        log["error"] = body["error"]
        if isinstance(exc, InvalidEvent):
            log["field"] = exc.field
    except Exception as exc:  # a bug: let Lambda report it, but still write the log line
        log["error"] = type(exc).__name__
        raise
    finally:
        log["status"] = status
        log["duration_ms"] = round((time.perf_counter() - started) * 1000, 3)
        print(json.dumps(log, default=str), flush=True)
    return {"statusCode": status, "body": json.dumps(body)}
