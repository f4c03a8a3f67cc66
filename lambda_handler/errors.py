"""The function's failures: one class each, SDK errors wrapped at the boundary (writer.py)."""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError

ACCESS_DENIED_CODES = frozenset({"AccessDenied", "AccessDeniedException"})
# What S3 and STS answer for a request signed with a session token that has expired.
EXPIRED_TOKEN_CODES = frozenset({"ExpiredToken", "ExpiredTokenException"})




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


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code") or "")


def describe_sdk_error(exc: BotoCoreError | ClientError) -> tuple[str, bool]:
    """Return (error code, is access denied) for an SDK exception, without its message text."""
    if isinstance(exc, ClientError):
        code = str(exc.response.get("Error", {}).get("Code") or "ClientError")
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return code, code in ACCESS_DENIED_CODES or status == 403
    return type(exc).__name__, False
