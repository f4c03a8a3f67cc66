"""What every invocation of either function shares: failures mapped to responses (the one place that does),
the response's shape, and the one JSON log line."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from typing import Any, TypeVar

from .config import Target
from .errors import (
    AssumeRoleFailed,
    AwsCallFailed,
    ConfigurationError,
    HandlerError,
    InvalidEvent,
    NoSuchKey,
    ObjectAlreadyExists,
    ObjectTooLarge,
)

C = TypeVar("C", bound=Target)

# Failures that are the caller's to fix, with their status and error code; the message is the exception's.
_CALLER_ERRORS: tuple[tuple[type[HandlerError], int, str], ...] = (
    (InvalidEvent, 400, "InvalidEvent"),
    (NoSuchKey, 404, "NoSuchKey"),
    (ObjectAlreadyExists, 409, "ObjectAlreadyExists"),
    (ObjectTooLarge, 413, "ObjectTooLarge"),
)


def error_response(exc: HandlerError, config: Target | None) -> tuple[int, dict[str, str]]:
    """The one place that turns a failure into a status code and a JSON error body."""
    for kind, status, code in _CALLER_ERRORS:
        if isinstance(exc, kind):
            return status, {"error": code, "message": str(exc)}
    if isinstance(exc, AssumeRoleFailed) and exc.access_denied:
        role = config.role_arn if config else "the target role"
        return 403, {
            "error": "AccessDenied",
            "message": f"access denied assuming role {role} ({exc.code})",
        }
    if isinstance(exc, AwsCallFailed) and exc.access_denied:  # its message names the bucket and key
        return 403, {"error": "AccessDenied", "message": f"access denied: {exc}"}
    if isinstance(exc, AwsCallFailed):
        return 502, {"error": exc.code, "message": str(exc)}
    return 500, {"error": type(exc).__name__, "message": str(exc)}


def respond(status: int, body: dict[str, Any]) -> dict[str, Any]:
    """The response of both functions: the status and the body as a JSON string."""
    return {"statusCode": status, "body": json.dumps(body)}


def response_bytes(response: dict[str, Any]) -> int:
    """How many bytes Lambda counts for ``response``: the runtime's JSON of it (all ASCII, as ``respond``'s body
    is, so the same with or without the runtime escaping non-ASCII characters)."""
    return len(json.dumps(response))


def run(
    context: Any,
    get_config: Callable[[], C],
    work: Callable[[C, dict[str, Any]], dict[str, Any]],
) -> dict[str, Any]:
    """One invocation: ``work(config, log)`` does the function's job and returns its 200 response, noting what it
    did in ``log``; any ``HandlerError`` it raises becomes its response here. Prints exactly one JSON log line,
    whatever happens.

    A missing or invalid configuration variable (``ConfigurationError``) and any other exception (a bug) are
    raised, so Lambda reports a function error; they are logged first.
    """
    started = time.perf_counter()
    log: dict[str, Any] = {
        "function": os.environ.get("AWS_LAMBDA_FUNCTION_NAME"),
        "request_id": getattr(context, "aws_request_id", None),
        "bucket": None,
        "key": None,
        "error": None,
    }
    config: C | None = None
    status: int = 500  # what an exception escaping this function amounts to
    response: dict[str, Any] = {}
    try:
        config = get_config()
        log["bucket"] = config.bucket
        response = work(config, log)
        status = response["statusCode"]
    except ConfigurationError as exc:
        # Misconfiguration is the operator's problem, not the caller's: fail the invocation.
        log["error"], log["message"] = "ConfigurationError", str(exc)
        raise
    except HandlerError as exc:
        status, body = error_response(exc, config)
        log["error"] = body["error"]
        log.update(exc.log_fields())
        response = respond(status, body)
    except Exception as exc:  # a bug: let Lambda report it, but still write the log line
        log["error"] = type(exc).__name__
        raise
    finally:
        log["status"] = status
        log["duration_ms"] = round((time.perf_counter() - started) * 1000, 3)
        print(json.dumps(log, default=str), flush=True)
    return response
