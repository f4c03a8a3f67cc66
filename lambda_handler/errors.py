"""The functions' failures: one class each, SDK errors wrapped at the boundary (writer.py, reader.py, role.py).

Which response each one becomes is decided in one place, ``invocation.error_response``.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

ACCESS_DENIED_CODES = frozenset({"AccessDenied", "AccessDeniedException"})
# What S3 and STS answer for a request signed with a session token that has expired.
EXPIRED_TOKEN_CODES = frozenset({"ExpiredToken", "ExpiredTokenException"})


class HandlerError(Exception):
    """Base class for every failure either function reports."""

    def log_fields(self) -> dict[str, Any]:
        """Fields the invocation's log line carries besides the error code (never a credential)."""
        return {}


class ConfigurationError(HandlerError):
    """An environment variable is missing or invalid."""


class InvalidEvent(HandlerError):
    """The event is malformed; no AWS call was made."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field

    def log_fields(self) -> dict[str, Any]:
        return {"field": self.field}


class AwsCallFailed(HandlerError):
    """An AWS call failed; ``code`` is the AWS error code or the botocore exception name."""

    def __init__(self, message: str, code: str, access_denied: bool) -> None:
        super().__init__(message)
        self.code = code
        self.access_denied = access_denied


class AssumeRoleFailed(AwsCallFailed):
    """STS did not hand out credentials for the target role."""


class PutObjectFailed(AwsCallFailed):
    """S3 did not store the object."""


class GetObjectFailed(AwsCallFailed):
    """S3 did not return the object."""


class ObjectAlreadyExists(HandlerError):
    """The key holds an object this invocation did not write; nothing was written."""


class NoSuchKey(HandlerError):
    """The key holds no object (or only a delete marker)."""


class ObjectTooLarge(HandlerError):
    """The object is larger than the reader returns; its body was not read."""

    def __init__(self, message: str, size: int) -> None:
        super().__init__(message)
        self.size = size

    def log_fields(self) -> dict[str, Any]:
        return {"size": self.size}


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code") or "")


def describe_sdk_error(exc: BotoCoreError | ClientError) -> tuple[str, bool]:
    """Return (error code, is access denied) for an SDK exception, without its message text."""
    if isinstance(exc, ClientError):
        code = str(exc.response.get("Error", {}).get("Code") or "ClientError")
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return code, code in ACCESS_DENIED_CODES or status == 403
    return type(exc).__name__, False
