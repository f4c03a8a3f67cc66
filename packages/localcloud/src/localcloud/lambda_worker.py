"""One warm Lambda execution environment: imports the function's handler once, then runs invocations one at a time.

Started by ``localcloud.lambda_runtime`` with the environment Lambda gives a function (``_HANDLER``,
``LAMBDA_TASK_ROOT``, the execution role's credentials, ...). Standard library only, so it starts fast.

Protocol (one JSON object per line, UTF-8):
- The parent writes requests on stdin: ``{"requestId", "event" (the payload as JSON text), "deadlineMs" (epoch ms),
  "invokedFunctionArn"}``.
- The worker answers on its original stdout, which it keeps for the protocol alone: first ``{"ready": true}`` (or
  ``{"ready": false, "error": {...}}`` when the handler cannot be loaded, then it exits), then per request
  ``{"requestId", "durationMs", "maxMemoryUsedMb", "result": <JSON text>}`` or ``{..., "error": {...}}``.
- ``--no-retry-backoff`` (tests that inject throttling): botocore's standard-mode retries wait no time between
  attempts. Only the wait changes: which errors are retried, how often, and the retry quota stay botocore's own.
- Everything the function prints or logs goes to stderr (fd 1 and ``sys.stdout`` are pointed there, and stdin is
  /dev/null), so handler output can never corrupt the protocol. The worker flushes both before each answer, so the
  parent finds an invocation's log complete once the answer has arrived.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import resource
import sys
import time
import traceback
from typing import Any, TextIO

# The Python runtime's log line format (awslambdaric): level, UTC time, request id, message.
LOG_FORMAT = "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n"


class LambdaContext:
    """The context object the Python runtime passes to the handler (the attributes AWS documents)."""

    def __init__(self, request_id: str, invoked_function_arn: str, deadline_ms: int) -> None:
        self.aws_request_id = request_id
        self.invoked_function_arn = invoked_function_arn
        self.function_name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
        self.function_version = os.environ["AWS_LAMBDA_FUNCTION_VERSION"]
        # A string in the real runtime too: it is read from AWS_LAMBDA_FUNCTION_MEMORY_SIZE.
        self.memory_limit_in_mb = os.environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"]
        self.log_group_name = os.environ["AWS_LAMBDA_LOG_GROUP_NAME"]
        self.log_stream_name = os.environ["AWS_LAMBDA_LOG_STREAM_NAME"]
        self.identity = None
        self.client_context = None
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self._deadline_ms - int(time.time() * 1000))


class _RequestIdFilter(logging.Filter):
    """Stamps every log record with the current invocation's request id."""

    request_id = ""

    def filter(self, record: logging.LogRecord) -> bool:
        record.aws_request_id = self.request_id
        return True


def _error(exc: BaseException, error_type: str | None = None, message: str | None = None) -> dict[str, Any]:
    """An error document as the Python runtime writes it, logged the way it logs it."""
    stack = traceback.format_list(traceback.extract_tb(exc.__traceback__))
    document = {
        "errorMessage": str(exc) if message is None else message,
        "errorType": error_type or type(exc).__name__,
        "stackTrace": stack,
    }
    print(f"[ERROR] {document['errorType']}: {document['errorMessage']}", file=sys.stderr)
    print("Traceback (most recent call last):\n" + "".join(stack), end="", file=sys.stderr)
    return document


def _load_handler(spec: str) -> Any:
    """Import ``module.function`` from the task root; failures carry the runtime's Runtime.* error types."""
    module_name, _, function_name = spec.rpartition(".")
    if not module_name or not function_name:
        raise _InitError("Runtime.MalformedHandlerName", f"Bad handler '{spec}': not enough values to unpack")
    try:
        module = importlib.import_module(module_name.replace("/", "."))
    except ImportError as exc:
        raise _InitError("Runtime.ImportModuleError", f"Unable to import module '{module_name}': {exc}") from exc
    handler = getattr(module, function_name, None)
    if handler is None:
        raise _InitError("Runtime.HandlerNotFound", f"Handler '{function_name}' missing on module '{module_name}'")
    return handler


class _InitError(Exception):
    """The handler could not be loaded; ``error_type`` is the runtime's name for why."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type


def _send(channel: TextIO, message: dict[str, Any]) -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    channel.write(json.dumps(message) + "\n")
    channel.flush()


def _max_memory_used_mb() -> int:
    return -(-resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)  # ru_maxrss is in KiB on Linux


def _invoke(handler: Any, request: dict[str, Any], request_filter: _RequestIdFilter) -> dict[str, Any]:
    request_id = request["requestId"]
    request_filter.request_id = request_id
    context = LambdaContext(request_id, request["invokedFunctionArn"], request["deadlineMs"])
    event = json.loads(request["event"])
    answer: dict[str, Any] = {"requestId": request_id}
    started = time.perf_counter()
    try:
        result = handler(event, context)
    except Exception as exc:  # noqa: BLE001 - any exception of the handler is the function's error
        answer["durationMs"] = (time.perf_counter() - started) * 1000
        answer["error"] = _error(exc)
    else:
        answer["durationMs"] = (time.perf_counter() - started) * 1000
        try:
            answer["result"] = json.dumps(result)
        except (TypeError, ValueError) as exc:
            answer["error"] = _error(exc, "Runtime.MarshalError", f"Unable to marshal response: {exc}")
            answer["error"]["stackTrace"] = []
    answer["maxMemoryUsedMb"] = _max_memory_used_mb()
    return answer


class _LineFormatter(logging.Formatter):
    """Lambda's format ends in a newline, but a record with a traceback ends with the traceback: end it too, so
    the next line (such as the handler's JSON log line) starts on a line of its own."""

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        return text if text.endswith("\n") else text + "\n"


def main() -> None:
    # The protocol keeps the original stdin/stdout; the function gets /dev/null and stderr in their place.
    requests = os.fdopen(os.dup(0), "r", encoding="utf-8")
    answers = os.fdopen(os.dup(1), "w", encoding="utf-8")
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.dup2(2, 1)
    sys.stdin = open(os.devnull, encoding="utf-8")  # noqa: SIM115 - lives as long as the process
    sys.stdout = sys.stderr

    request_filter = _RequestIdFilter()
    log_handler = logging.StreamHandler(sys.stderr)
    log_handler.terminator = ""
    formatter = _LineFormatter(LOG_FORMAT, "%Y-%m-%dT%H:%M:%S")
    formatter.converter = time.gmtime
    log_handler.setFormatter(formatter)
    log_handler.addFilter(request_filter)
    logging.getLogger().addHandler(log_handler)

    if "--no-retry-backoff" in sys.argv[1:]:
        _without_retry_backoff()
    task_root = os.environ["LAMBDA_TASK_ROOT"]
    sys.path.insert(0, task_root)
    os.chdir(task_root)
    try:
        handler = _load_handler(os.environ["_HANDLER"])
    except _InitError as exc:
        _send(answers, {"ready": False, "error": _error(exc, exc.error_type)})
        return
    except Exception as exc:  # noqa: BLE001 - the module raised while being imported
        _send(answers, {"ready": False, "error": _error(exc)})
        return
    _send(answers, {"ready": True})

    for line in requests:
        _send(answers, _invoke(handler, json.loads(line), request_filter))


def _without_retry_backoff() -> None:
    """Zero botocore's back-off between standard-mode retries (imported here, so only this option pays for it)."""
    from botocore.retries import standard

    standard.ExponentialBackoff.delay_amount = lambda self, context: 0


if __name__ == "__main__":
    main()
