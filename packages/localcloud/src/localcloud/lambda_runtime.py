"""The Lambda service's invoke path: runs functions stored in moto's Lambda backend the way AWS Lambda runs them.

The gate authorizes ``lambda:InvokeFunction`` and then calls ``LambdaRuntime.invoke``. Per invocation:

1. The function is looked up in moto's backend of its account and region (``lambda_backends``): zip bytes, handler,
   role, timeout, memory, environment, code SHA-256. A missing function is a 404 ResourceNotFoundException.
2. A warm worker of the same function configuration is reused; otherwise a cold start: Lambda assumes the execution
   role as the service principal ``lambda.amazonaws.com`` (the role's trust policy is evaluated with
   ``localcloud.evaluator.evaluate``, in the context ``execution_role_context`` describes), moto's STS backend
   issues the session (name = function name), the session's requests are marked as the function's
   (``lambda:SourceFunctionArn``, when the runtime has the cloud's session registry), the zip is extracted, and
   ``lambda_worker.py`` is started with a clean environment holding only what Lambda sets.
3. The worker runs the handler and answers; the runtime enforces the function timeout, builds the log (START / END /
   REPORT around the function's output) and answers like the Invoke API.

A worker serves one invocation at a time; concurrent invocations start more workers, up to
``max_workers_per_function``, then wait for one to be free. A worker is replaced when the function's code or
configuration changed, its credentials expire within five minutes, it timed out, it crashed, or ``recycle()`` ran.

Differences from AWS Lambda: every Python runtime runs on this interpreter (and with the packages of its
environment, which include boto3, as the managed runtimes do); only zip packages; qualifiers other than versions
(aliases) resolve through moto but report the resolved version; Event invocations are not retried and their
results only reach the function's log; the role's trust is checked at cold start, where AWS checks it when the
function is created or updated (moto does not).
"""

from __future__ import annotations

import base64
import io
import json
import logging
import math
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zipfile
from collections import Counter
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any


from localcloud import arns, evaluator, moto_adapter
from localcloud.principals import RoleSessionInfo, SessionRegistry

Response = tuple[int, list[tuple[str, str]], bytes]

WORKER_SCRIPT = Path(__file__).with_name("lambda_worker.py")
LAMBDA_PRINCIPAL = "lambda.amazonaws.com"
LATEST = "$LATEST"
CREDENTIALS_DURATION = timedelta(hours=1)
CREDENTIALS_REFRESH_MARGIN = timedelta(minutes=5)  # a worker whose credentials expire sooner is replaced
INIT_TIMEOUT_SECONDS = 10.0  # Lambda's limit on the init phase (lambda-runtime-environment.html)
LOG_TAIL_BYTES = 4096  # LogType=Tail returns the last 4 KB of the log
MAX_PAYLOAD_BYTES = 6 * 1024 * 1024  # the synchronous invocation payload quota
QUALIFIER_HEADER = "x-localcloud-qualifier"  # the gate passes Invoke's Qualifier query parameter in this header
ROLE_NOT_ASSUMABLE = "The role defined for the function cannot be assumed by Lambda."

_log = logging.getLogger(__name__)

class LambdaServiceError(Exception):
    """An error of the Lambda API itself (not of the function): status, ``x-amzn-ErrorType`` and message."""

    def __init__(self, status: int, error_type: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.error_type = error_type
        self.message = message

    def response(self, request_id: str) -> Response:
        headers = [
            ("Content-Type", "application/json"),
            ("x-amzn-ErrorType", self.error_type),
            ("x-amzn-RequestId", request_id),
        ]
        return self.status, headers, json.dumps({"Type": "User", "Message": self.message}).encode()


def execution_role_context(config: FunctionConfig) -> dict[str, str]:
    """The request context of Lambda's AssumeRole of a function's execution role: ``aws:SourceAccount`` (the
    function's account) and nothing else.

    What AWS documents: the Lambda Developer Guide (lambda-intro-execution-role.html) names no condition key for
    this AssumeRole, only that the trust policy must trust ``lambda.amazonaws.com``. The IAM User Guide
    (confused-deputy.html, "Cross-service confused deputy prevention for AWS Security Token Service") recommends
    ``aws:SourceAccount`` and ``aws:SourceArn`` in the trust policies of service roles in general, and
    reference_policies_condition-keys.html says each key is present only when the calling service passes it.
    AWS's own sample execution-role trust for Lambda (aws/agent-toolkit-for-aws, lambda-trust-policy.json) pins
    ``StringEquals aws:SourceAccount``, so localcloud passes the function's account. Nothing AWS publishes says
    Lambda passes ``aws:SourceArn`` here; the Lambda guide (permissions-source-function-arn.html) says that key
    "applies only to policies where your Lambda function is the target resource". So localcloud does not pass it:
    a trust policy that requires ``aws:SourceArn`` (``ArnEquals`` / ``StringEquals`` on the function ARN) makes
    the function's role unassumable offline, and the invocation fails with InvalidParameterValueException
    ``ROLE_NOT_ASSUMABLE``. That is deliberate: such a trust must not pass offline and then fail on AWS. Pin the
    function through ``lambda:SourceFunctionArn`` in the role's identity policy instead.
    """
    return {"aws:SourceAccount": config.account}


def _shut_down() -> LambdaServiceError:
    return LambdaServiceError(503, "ServiceException", "The Lambda runtime is shut down.")


@dataclass(frozen=True)
class FunctionConfig:
    """What an execution environment is built from; two equal configs can share warm workers (code excluded: its
    SHA-256 stands for it)."""

    arn: str  # unqualified
    name: str
    version: str  # "$LATEST" or a published version number
    account: str
    region: str
    handler: str
    runtime: str
    role: str
    timeout: int
    memory_size: int
    environment: tuple[tuple[str, str], ...]
    code_sha256: str
    last_modified: str
    package_type: str
    # Any configuration update gives new execution environments on AWS; moto keeps last_modified, so the
    # description stands in for "the configuration changed" too.
    description: str
    code: bytes = field(compare=False, repr=False)

    @property
    def key(self) -> str:
        """The ARN workers are pooled and counted under: unqualified for $LATEST, else with the version."""
        return self.arn if self.version == LATEST else f"{self.arn}:{self.version}"

    @classmethod
    def from_moto(cls, fn: Any) -> FunctionConfig:
        qualified = fn.function_arn.split(":function:", 1)[1].count(":") == 1
        return cls(
            arn=fn.function_arn.rsplit(":", 1)[0] if qualified else fn.function_arn,
            name=fn.function_name,
            version=fn.function_arn.rsplit(":", 1)[1] if qualified else LATEST,
            account=fn.account_id,
            region=fn.region,
            handler=fn.handler or "",
            runtime=fn.run_time or "",
            role=fn.role,
            timeout=int(fn.timeout),
            memory_size=int(fn.memory_size),
            environment=tuple(sorted((str(k), str(v)) for k, v in (fn.environment_vars or {}).items())),
            code_sha256=fn.code_sha_256,
            last_modified=fn.last_modified,
            package_type=fn.package_type,
            description=fn.description or "",
            code=getattr(fn, "code_bytes", b""),
        )


@dataclass
class _Outcome:
    """How one invocation ended: the result (JSON text) or the error document, and what the worker logged."""

    result: str = ""
    error: dict[str, Any] | None = None
    duration_ms: float = 0.0
    log: str = ""
    status: str = ""  # the REPORT line's Status field, when not a success
    healthy: bool = False  # whether the worker may serve again


@dataclass
class _Init:
    """How a cold start went: the init phase's own log and duration, or the error that ended it."""

    log: str
    duration_ms: float
    error: dict[str, Any] | None = None


class _Worker:
    """One execution environment: a ``lambda_worker`` process, the config and credentials it was started with."""

    def __init__(
        self, config: FunctionConfig, generation: int, env: dict[str, str], log_path: Path, expiration: datetime,
        worker_flags: tuple[str, ...] = (),
    ) -> None:
        self.config = config
        self.generation = generation
        self.expiration = expiration  # of the execution role's credentials, naive UTC as moto keeps it
        self.log_path = log_path
        self.max_memory_mb = 0
        self._log_offset = 0
        self._answers: queue.Queue[dict[str, Any] | None] = queue.Queue()
        with open(log_path, "wb") as log_file:
            self.process = subprocess.Popen(
                # -s: no user site-packages; -P: neither localcloud/ nor the cwd on sys.path, only the task root.
                [sys.executable, "-s", "-P", str(WORKER_SCRIPT), *worker_flags],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log_file,
                env=env,
                cwd=env["LAMBDA_TASK_ROOT"],
            )
        threading.Thread(target=self._read_answers, name=f"lambda-worker-{self.process.pid}", daemon=True).start()

    def _read_answers(self) -> None:
        assert self.process.stdout is not None
        with self.process.stdout:
            for line in self.process.stdout:
                try:
                    self._answers.put(json.loads(line))
                except ValueError:  # not the worker speaking: treat the worker as broken
                    self.process.kill()
                    break
        self._answers.put(None)  # end of stream: the worker is gone

    def receive(self, timeout: float) -> dict[str, Any] | None:
        """The next answer; None when the worker exited; raises TimeoutError after ``timeout`` seconds."""
        try:
            return self._answers.get(timeout=max(timeout, 0.0))
        except queue.Empty:
            raise TimeoutError from None

    def send(self, request: Mapping[str, Any]) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(request).encode() + b"\n")
        self.process.stdin.flush()

    def read_log(self) -> str:
        """What the worker wrote since the last call."""
        with open(self.log_path, "rb") as log_file:
            log_file.seek(self._log_offset)
            data = log_file.read()
        self._log_offset += len(data)
        return data.decode("utf-8", errors="replace")

    def fits(self, config: FunctionConfig, generation: int, now: datetime) -> bool:
        return (
            self.config == config
            and self.generation == generation
            and self.expiration - now > CREDENTIALS_REFRESH_MARGIN
            and self.process.poll() is None
        )

    def kill(self, grace: float = 0.0) -> None:
        """Stop the process, after letting it exit by itself for ``grace`` seconds."""
        if grace:
            try:
                self.process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                pass
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        if self.process.stdin is not None:  # stdout is closed by the reader thread when it sees the end
            try:
                self.process.stdin.close()
            except OSError:  # BrokenPipeError while flushing
                pass

    def exit_status(self) -> int | None:
        return self.process.poll()


@dataclass
class _Pool:
    """The workers of one function: idle ones ready for reuse, and how many exist in all (idle or busy)."""

    cond: threading.Condition = field(default_factory=threading.Condition)
    idle: list[_Worker] = field(default_factory=list)
    size: int = 0
    generation: int = 0  # bumped by recycle(): older workers are not reused


class LambdaRuntime:
    """Runs Lambda invocations for the gate; ``invoke`` has the gate's invoker signature."""

    def __init__(
        self,
        endpoint: str,
        ca_bundle: str,
        log_dir: Path,
        *,
        evaluate: Callable[[evaluator.AccessRequest], evaluator.Decision] = evaluator.evaluate,
        max_workers_per_function: int = 16,
        retry_backoff: bool = True,
        registry: SessionRegistry | None = None,
    ) -> None:
        """``retry_backoff=False`` makes the back-off between botocore's retries (standard mode) zero inside the
        functions: the same attempts, in the same order, without the seconds of jittered sleep between them. For
        tests that inject throttling; a function's behaviour is otherwise unchanged (see lambda_worker).

        ``registry``: the session registry of the cloud whose gate the functions call (``LocalCloud.registry``).
        The runtime records there which function each execution-role session belongs to, so the gate puts
        ``lambda:SourceFunctionArn`` in the context of its requests; without one, the requests lack that key."""
        if max_workers_per_function < 1:
            raise ValueError("max_workers_per_function must be at least 1.")
        self._worker_flags = () if retry_backoff else ("--no-retry-backoff",)
        self.endpoint = endpoint
        self.ca_bundle = ca_bundle
        self.log_dir = Path(log_dir)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.max_workers_per_function = max_workers_per_function
        self.cold_starts: Counter[str] = Counter()  # by function ARN (with :version when not $LATEST)
        self.invocations: Counter[str] = Counter()
        self._evaluate = evaluate
        self._registry = registry
        self._lock = threading.Lock()
        self._log_lock = threading.Lock()
        self._pools: dict[str, _Pool] = {}
        self._workers: set[_Worker] = set()  # every live worker, idle or busy
        self._code_dirs: dict[tuple[str, str], Path] = {}
        self._scratch = Path(tempfile.mkdtemp(prefix="localcloud-lambda-"))
        self._background = ThreadPoolExecutor(max_workers_per_function, thread_name_prefix="lambda-event")
        self._closed = False

    # -----------------------------------------------------------------------------------------------------------
    # The invoker
    # -----------------------------------------------------------------------------------------------------------

    def invoke(
        self, account: str, region: str, function_name: str, payload: bytes, headers: Mapping[str, str]
    ) -> Response:
        """Invoke ``function_name`` (name, partial or full ARN) as the Invoke API does; gate already authorized."""
        request_id = str(uuid.uuid4())
        options = {key.lower(): value for key, value in headers.items()}
        invocation_type = options.get("x-amz-invocation-type", "RequestResponse")
        try:
            config = self._lookup(account, region, function_name, options.get(QUALIFIER_HEADER))
            if invocation_type not in ("RequestResponse", "Event", "DryRun"):
                raise LambdaServiceError(
                    400, "InvalidParameterValueException", f"Unsupported invocation type {invocation_type}."
                )
            event = _event_text(payload)
        except LambdaServiceError as exc:
            return exc.response(request_id)
        common = [("x-amzn-RequestId", request_id), ("X-Amz-Executed-Version", config.version)]
        if invocation_type == "DryRun":
            return 204, common, b""
        if invocation_type == "Event":
            try:
                self._background.submit(self._run_in_background, config, event, request_id)
            except RuntimeError:  # after close()
                return _shut_down().response(request_id)
            return 202, common, b""
        return self._run(config, event, request_id, tail=options.get("x-amz-log-type") == "Tail")

    def recycle(self, function_arn: str | None = None) -> None:
        """Drop the idle workers of one function (every version of it) or of all; busy ones end when they return."""
        with self._lock:
            pools = [
                pool
                for key, pool in self._pools.items()
                if function_arn is None or key == function_arn or key.startswith(f"{function_arn}:")
            ]
        for pool in pools:
            with pool.cond:
                pool.generation += 1
                dropped, pool.idle = pool.idle, []
                pool.size -= len(dropped)
                pool.cond.notify_all()
            for worker in dropped:
                self._discard(worker)

    def close(self) -> None:
        """Stop every worker, cancel queued Event invocations and remove the extracted code."""
        with self._lock:
            self._closed = True
            workers = list(self._workers)
            pools = list(self._pools.values())
        for worker in workers:
            worker.kill()
        for pool in pools:
            with pool.cond:
                pool.cond.notify_all()
        self._background.shutdown(wait=True, cancel_futures=True)
        with self._lock:
            workers = list(self._workers)
        for worker in workers:
            self._discard(worker)
        shutil.rmtree(self._scratch, ignore_errors=True)

    @property
    def live_workers(self) -> int:
        """How many worker processes are running (idle or busy)."""
        with self._lock:
            return sum(1 for worker in self._workers if worker.exit_status() is None)

    def __enter__(self) -> LambdaRuntime:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -----------------------------------------------------------------------------------------------------------
    # One invocation
    # -----------------------------------------------------------------------------------------------------------

    def _run(self, config: FunctionConfig, event: str, request_id: str, *, tail: bool) -> Response:
        with self._lock:
            self.invocations[config.key] += 1
        pool = self._pool(config.key)
        try:
            worker, init = self._acquire(pool, config, request_id)
        except LambdaServiceError as exc:
            return exc.response(request_id)
        if init and init.error:
            outcome = _Outcome(error=init.error, status=f"error\tError Type: {init.error['errorType']}")
        else:
            outcome = self._execute(worker, config, event, request_id)
        self._release(pool, worker, healthy=outcome.healthy)

        report = (
            f"REPORT RequestId: {request_id}\tDuration: {outcome.duration_ms:.2f} ms\t"
            f"Billed Duration: {math.ceil(outcome.duration_ms)} ms\tMemory Size: {config.memory_size} MB\t"
            f"Max Memory Used: {worker.max_memory_mb} MB\t"
            + (f"Init Duration: {init.duration_ms:.2f} ms\t" if init else "")
            + (f"Status: {outcome.status}\t" if outcome.status else "")
        )
        log = "".join(
            [
                init.log if init else "",
                f"START RequestId: {request_id} Version: {config.version}\n",
                outcome.log,
                f"END RequestId: {request_id}\n",
                f"{report}\n",
            ]
        )
        self._append_log(config, log)

        headers = [
            ("Content-Type", "application/json"),
            ("x-amzn-RequestId", request_id),
            ("X-Amz-Executed-Version", config.version),
        ]
        if tail:
            headers.append(("X-Amz-Log-Result", base64.b64encode(log.encode()[-LOG_TAIL_BYTES:]).decode()))
        if outcome.error is None:
            return 200, headers, outcome.result.encode()
        headers.append(("X-Amz-Function-Error", "Unhandled"))
        body = {
            "errorMessage": outcome.error["errorMessage"],
            "errorType": outcome.error["errorType"],
            "requestId": request_id,
            "stackTrace": outcome.error.get("stackTrace", []),
        }
        return 200, headers, json.dumps(body).encode()

    def _run_in_background(self, config: FunctionConfig, event: str, request_id: str) -> None:
        """An Event invocation: nobody waits for the answer; failures only reach the logs (no retries)."""
        try:
            status, _, body = self._run(config, event, request_id, tail=False)
        except Exception:
            _log.exception("Event invocation %s of %s failed", request_id, config.key)
        else:
            if status != 200:
                _log.warning("Event invocation %s of %s: %s %s", request_id, config.key, status, body[:500])

    def _execute(self, worker: _Worker, config: FunctionConfig, event: str, request_id: str) -> _Outcome:
        """One request to a ready worker, bounded by the function's timeout."""
        started = time.monotonic()
        try:
            worker.send(
                {
                    "requestId": request_id,
                    "event": event,
                    "deadlineMs": int(time.time() * 1000) + config.timeout * 1000,
                    "invokedFunctionArn": config.key,
                }
            )
            answer = worker.receive(timeout=config.timeout)
        except TimeoutError:
            worker.kill()
            message = f"Task timed out after {config.timeout:.2f} seconds"
            return _Outcome(
                error={"errorMessage": f"RequestId: {request_id} Error: {message}", "errorType": "Sandbox.Timedout"},
                duration_ms=(time.monotonic() - started) * 1000,
                log=f"{worker.read_log()}{_timestamp()} {request_id} {message}\n",
                status="timeout",
            )
        except OSError:  # the worker was gone before the request reached it
            answer = None
        if answer is None:
            worker.kill(grace=1.0)
            error = _exit_error(request_id, worker.exit_status())
            return _Outcome(
                error=error,
                duration_ms=(time.monotonic() - started) * 1000,
                log=worker.read_log(),
                status=f"error\tError Type: {error['errorType']}",
            )
        worker.max_memory_mb = int(answer["maxMemoryUsedMb"])
        return _Outcome(
            result=answer.get("result", ""),
            error=answer.get("error"),
            duration_ms=float(answer["durationMs"]),
            log=worker.read_log(),
            healthy=True,
        )

    def _lookup(self, account: str, region: str, function_name: str, qualifier: str | None) -> FunctionConfig:
        """The function as stored in moto, in the account and region its ARN names (else the caller's)."""
        parsed = arns.parse_function_name(function_name)
        if parsed is None:
            raise LambdaServiceError(404, "ResourceNotFoundException", f"Function not found: {function_name}")
        if parsed.qualifier and qualifier and parsed.qualifier != qualifier:
            raise LambdaServiceError(
                400,
                "InvalidParameterValueException",
                "The derived qualifier from the function name does not match the specified qualifier.",
            )
        qualifier = parsed.qualifier or qualifier
        account = parsed.account or account
        region = parsed.region or region
        arn = arns.lambda_function(region, account, parsed.name)
        missing = f"{arn}:{qualifier}" if qualifier else arn
        not_found = LambdaServiceError(404, "ResourceNotFoundException", f"Function not found: {missing}")
        try:
            fn = moto_adapter.lambda_function(account, region, parsed.name, qualifier)
        except moto_adapter.MotoNotFound:
            raise not_found from None
        except moto_adapter.MotoClientError as exc:
            raise LambdaServiceError(exc.status, exc.code, exc.message) from None
        return FunctionConfig.from_moto(fn)

    # -----------------------------------------------------------------------------------------------------------
    # Workers
    # -----------------------------------------------------------------------------------------------------------

    def _pool(self, key: str) -> _Pool:
        with self._lock:
            return self._pools.setdefault(key, _Pool())

    def _acquire(self, pool: _Pool, config: FunctionConfig, request_id: str) -> tuple[_Worker, _Init | None]:
        """A warm worker for ``config``, or a new one (with how its init went) when none is idle."""
        stale: list[_Worker] = []
        worker: _Worker | None = None
        with pool.cond:
            while True:
                if self._closed:
                    raise _shut_down()
                now = datetime.now(UTC).replace(tzinfo=None)  # moto keeps naive UTC expirations
                for idle in list(pool.idle):
                    if not idle.fits(config, pool.generation, now):
                        pool.idle.remove(idle)
                        pool.size -= 1
                        stale.append(idle)
                if pool.idle:
                    worker = pool.idle.pop()  # the most recently used one
                    break
                if pool.size < self.max_workers_per_function:
                    pool.size += 1
                    generation = pool.generation
                    break
                pool.cond.wait()
        for old in stale:
            self._discard(old)
        if worker is not None:
            return worker, None
        try:
            # The loop leaves with an idle worker or with a reserved slot and its generation; no worker here.
            return self._cold_start(config, generation, request_id)  # pyrefly: ignore[unbound-name]
        except BaseException:
            with pool.cond:
                pool.size -= 1
                pool.cond.notify()
            raise

    def _release(self, pool: _Pool, worker: _Worker, *, healthy: bool) -> None:
        with pool.cond:
            keep = healthy and not self._closed and worker.generation == pool.generation
            if keep:
                pool.idle.append(worker)
            else:
                pool.size -= 1
            pool.cond.notify()
        if not keep:
            self._discard(worker)

    def _discard(self, worker: _Worker) -> None:
        worker.kill()
        with self._lock:
            self._workers.discard(worker)
        worker.log_path.unlink(missing_ok=True)

    def _cold_start(self, config: FunctionConfig, generation: int, request_id: str) -> tuple[_Worker, _Init]:
        if config.package_type != "Zip" or not config.runtime.startswith("python"):
            raise LambdaServiceError(
                502,
                "InvalidRuntimeException",
                f"The runtime parameter of {config.runtime or config.package_type} is not supported by localcloud, "
                "which runs zip-packaged Python functions.",
            )
        credentials = self._assume_execution_role(config)
        env = self._environment(config, credentials, self._code_dir(config))
        started = time.monotonic()
        with self._lock:
            if self._closed:
                raise _shut_down()
            log_path = self._scratch / f"worker-{uuid.uuid4().hex}.log"
            worker = _Worker(config, generation, env, log_path, credentials.expiration, self._worker_flags)
            self._workers.add(worker)
            self.cold_starts[config.key] += 1
        ready: dict[str, Any] | None
        try:
            ready = worker.receive(timeout=INIT_TIMEOUT_SECONDS)
        except TimeoutError:
            # AWS retries a timed-out init inside the invoke phase; here the init limit itself ends the attempt.
            worker.kill()
            message = f"RequestId: {request_id} Error: Task timed out after {INIT_TIMEOUT_SECONDS:.2f} seconds"
            ready = {"ready": False, "error": {"errorMessage": message, "errorType": "Sandbox.Timedout"}}
        if ready is None:
            worker.kill(grace=1.0)
            ready = {"ready": False, "error": _exit_error(request_id, worker.exit_status())}
        init = _Init(log=worker.read_log(), duration_ms=(time.monotonic() - started) * 1000)
        if not ready["ready"]:
            init.error = ready["error"]
        return worker, init

    def _assume_execution_role(self, config: FunctionConfig) -> Any:
        """Lambda (the service principal) assumes the execution role: the trust policy decides, in the context of
        ``execution_role_context``; moto's STS issues; the registry learns the session is the function's."""
        role_account = config.role.split(":")[4]
        try:
            role = moto_adapter.role_by_arn(config.role)
            if role is None:
                raise LookupError(f"no role {config.role}")
            trust = json.loads(role.assume_role_policy_document)
        except Exception as exc:  # the role is gone or its trust policy unreadable: Lambda cannot assume it
            _log.warning("%s cannot assume %s for %s: %s", LAMBDA_PRINCIPAL, config.role, config.arn, exc)
            raise LambdaServiceError(400, "InvalidParameterValueException", ROLE_NOT_ASSUMABLE) from exc
        caller = evaluator.Caller(arn=LAMBDA_PRINCIPAL, kind="service", account=None, principal_arn=LAMBDA_PRINCIPAL)
        decision = self._evaluate(
            evaluator.AccessRequest(
                caller=caller,
                action="sts:AssumeRole",
                resource=config.role,
                resource_account=role_account,
                context=execution_role_context(config),
                resource_policy=trust,
            )
        )
        if not decision.allowed:
            # AWS answers InvalidParameterValueException (400) with this message when Lambda cannot assume the
            # role (API_CreateFunction / API_Invoke errors); AWS finds out at create or update time, moto never
            # checks, so localcloud finds out here, at the cold start.
            _log.warning("%s cannot assume %s for %s: %s", LAMBDA_PRINCIPAL, config.role, config.arn, decision.reason)
            raise LambdaServiceError(400, "InvalidParameterValueException", ROLE_NOT_ASSUMABLE)
        issued = datetime.now(UTC)
        credentials = moto_adapter.issue_role_session(role_account, config.region, config.role, config.name,
                                                      int(CREDENTIALS_DURATION.total_seconds()))
        if self._registry is not None:
            # permissions-source-function-arn.html: requests made with these credentials from within the
            # execution environment carry lambda:SourceFunctionArn (principals._resolve_role_session adds it).
            self._registry.record_role_session(credentials.access_key_id, RoleSessionInfo(
                issued_at=issued, mfa_present=False, role_id=role.id, source_function_arn=config.arn))
        return credentials

    def _code_dir(self, config: FunctionConfig) -> Path:
        """The function's zip extracted into a directory of its own, once per code version."""
        key = (config.arn, config.code_sha256)
        with self._lock:
            if key in self._code_dirs:
                return self._code_dirs[key]
            target = Path(tempfile.mkdtemp(prefix=f"{config.name}-", dir=self._scratch))
            try:
                with zipfile.ZipFile(io.BytesIO(config.code)) as archive:
                    archive.extractall(target)  # extractall drops absolute paths and ".." components
            except zipfile.BadZipFile as exc:
                shutil.rmtree(target, ignore_errors=True)
                raise LambdaServiceError(
                    502, "InvalidZipFileException", "Lambda was not able to unzip the file."
                ) from exc
            self._code_dirs[key] = target
            return target

    def _environment(self, config: FunctionConfig, credentials: Any, task_root: Path) -> dict[str, str]:
        """The function's variables, then the ones Lambda reserves (lambda-environment-variables.html); nothing of
        this process's environment except PATH."""
        stream = f"{datetime.now(UTC):%Y/%m/%d}/[{config.version}]{uuid.uuid4().hex}"
        reserved = {
            "_HANDLER": config.handler,
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{config.runtime}",
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_REGION": config.region,
            "AWS_DEFAULT_REGION": config.region,
            "AWS_ACCESS_KEY_ID": credentials.access_key_id,
            "AWS_SECRET_ACCESS_KEY": credentials.secret_access_key,
            "AWS_SESSION_TOKEN": credentials.session_token,
            "AWS_LAMBDA_FUNCTION_NAME": config.name,
            "AWS_LAMBDA_FUNCTION_VERSION": config.version,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(config.memory_size),
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{config.name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": stream,
            "LAMBDA_TASK_ROOT": str(task_root),
            "TZ": ":UTC",
            "PATH": os.environ.get("PATH", os.defpath),
            # localcloud's own: the SDK inside reaches the emulated cloud, and no shared config file of this
            # machine's user is read.
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        }
        if self.ca_bundle:
            reserved["AWS_CA_BUNDLE"] = self.ca_bundle
        return {"LANG": "en_US.UTF-8", **dict(config.environment), **reserved}

    def _append_log(self, config: FunctionConfig, text: str) -> None:
        with self._log_lock, open(self.log_dir / f"{config.name}.log", "a", encoding="utf-8") as log_file:
            log_file.write(text)


def _event_text(payload: bytes) -> str:
    """The payload as JSON text for the handler; an empty payload is ``{}``, as Lambda passes it."""
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise LambdaServiceError(
            413,
            "RequestTooLargeException",
            f"Request must be smaller than {MAX_PAYLOAD_BYTES} bytes for the Invoke operation",
        )
    if not payload.strip():
        return "{}"
    try:
        json.loads(payload)
    except ValueError as exc:
        raise LambdaServiceError(
            400, "InvalidRequestContentException", f"Could not parse request body into json: {exc}"
        ) from None
    return payload.decode("utf-8")


def _exit_error(request_id: str, status: int | None) -> dict[str, Any]:
    """What Lambda reports when the runtime process exits in the middle of an invocation."""
    if status is not None and status < 0:
        how = f"signal: {(signal.strsignal(-status) or str(-status)).lower()}"
    else:
        how = f"exit status {status}"
    return {
        "errorMessage": f"RequestId: {request_id} Error: Runtime exited with error: {how}",
        "errorType": "Runtime.ExitError",
    }


def _timestamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
