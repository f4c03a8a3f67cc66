"""Specs for localcloud's Lambda invoke path: warm workers, the execution role, and answers shaped like Lambda's.

The functions live in moto's Lambda backend, created through a ThreadedMotoServer running in this process (so the
runtime reads the same backends), and the handlers' own boto3 calls go to that server over plain HTTP.
"""

from __future__ import annotations

import base64
import io
import json
import re
import textwrap
import uuid
import zipfile
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from moto.server import ThreadedMotoServer

from localcloud import evaluator, lambda_runtime
from localcloud.lambda_runtime import ROLE_NOT_ASSUMABLE, LambdaRuntime

ACCOUNT = "123456789012"  # moto's account for credentials it does not know
REGION = "eu-west-1"
MEMORY_MB = 256


def _trust(service: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}],
    }


def _zip(files: Mapping[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, source in files.items():
            archive.writestr(name, textwrap.dedent(source))
    return buffer.getvalue()


@dataclass
class Answer:
    status: int
    headers: dict[str, str]  # lower-cased names
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def log(self) -> str:
        return base64.b64decode(self.headers["x-amz-log-result"]).decode()


@dataclass
class Function:
    name: str
    arn: str
    role_name: str
    role_arn: str


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    yield url
    requests.post(f"{url}/moto-api/reset", timeout=10)
    server.stop()


@pytest.fixture(scope="module")
def aws(endpoint: str) -> Callable[[str], Any]:
    session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION)
    return lambda service: session.client(service, endpoint_url=endpoint)


@pytest.fixture
def runtime(endpoint: str, tmp_path: Path) -> Iterator[LambdaRuntime]:
    with LambdaRuntime(endpoint, "", tmp_path / "logs") as runtime:
        yield runtime
    assert runtime.live_workers == 0


@pytest.fixture
def deploy(aws: Callable[[str], Any]) -> Callable[..., Function]:
    """Creates an execution role and a function whose handler.py is ``source``."""

    def deploy(
        source: str,
        *,
        trusted_service: str = "lambda.amazonaws.com",
        timeout: int = 3,
        environment: Mapping[str, str] | None = None,
        handler: str = "handler.lambda_handler",
    ) -> Function:
        suffix = uuid.uuid4().hex[:8]
        role = aws("iam").create_role(
            RoleName=f"exec-{suffix}", AssumeRolePolicyDocument=json.dumps(_trust(trusted_service))
        )["Role"]
        created = aws("lambda").create_function(
            FunctionName=f"fn-{suffix}",
            Runtime="python3.11",
            Role=role["Arn"],
            Handler=handler,
            Code={"ZipFile": _zip({"handler.py": source})},
            Timeout=timeout,
            MemorySize=MEMORY_MB,
            Environment={"Variables": dict(environment or {})},
        )
        return Function(created["FunctionName"], created["FunctionArn"], role["RoleName"], role["Arn"])

    return deploy


def _invoke(runtime: LambdaRuntime, name: str, payload: Any = None, **headers: str) -> Answer:
    body = b"" if payload is None else payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    status, response_headers, response = runtime.invoke(ACCOUNT, REGION, name, body, headers)
    return Answer(status, {key.lower(): value for key, value in response_headers}, response)


ECHO = """
def lambda_handler(event, context):
    return {"echo": event, "function": context.function_name}
"""

PID = """
import os
def lambda_handler(event, context):
    return os.getpid()
"""


def test_invoke_returns_the_handler_result(runtime: LambdaRuntime, deploy: Callable[..., Function]) -> None:
    function = deploy(ECHO)

    answer = _invoke(runtime, function.name, {"hello": ["world", 1]})

    assert answer.status == 200
    assert answer.json == {"echo": {"hello": ["world", 1]}, "function": function.name}
    assert answer.headers["x-amz-executed-version"] == "$LATEST"
    assert "x-amz-function-error" not in answer.headers


RETRY_BACKOFF = """
from botocore.retries import standard

class ThirdAttempt:
    attempt_number = 3
    http_response = None  # no Retry-After header to honour

def lambda_handler(event, context):
    # What botocore's standard retry mode would wait before the third attempt (random up to 4 s).
    return standard.ExponentialBackoff().delay_amount(ThirdAttempt())
"""


def test_functions_wait_botocores_back_off_between_retries(
    runtime: LambdaRuntime, deploy: Callable[..., Function]
) -> None:
    answer = _invoke(runtime, deploy(RETRY_BACKOFF).name)
    assert answer.json > 0, answer.json


def test_without_retry_backoff_functions_retry_without_waiting(
    endpoint: str, tmp_path: Path, deploy: Callable[..., Function]
) -> None:
    with LambdaRuntime(endpoint, "", tmp_path / "logs", retry_backoff=False) as runtime:
        assert _invoke(runtime, deploy(RETRY_BACKOFF).name).json == 0


def test_an_empty_payload_is_an_empty_event_and_arns_name_the_function(
    runtime: LambdaRuntime, deploy: Callable[..., Function]
) -> None:
    function = deploy(ECHO)

    by_arn = _invoke(runtime, function.arn)
    by_partial_arn = _invoke(runtime, f"{ACCOUNT}:function:{function.name}:$LATEST")

    assert by_arn.json == {"echo": {}, "function": function.name}
    assert by_partial_arn.json == by_arn.json
    assert runtime.cold_starts[function.arn] == 1


def test_qualifier_runs_the_published_version(
    runtime: LambdaRuntime, deploy: Callable[..., Function], aws: Callable[[str], Any]
) -> None:
    function = deploy(
        """
        import os
        def lambda_handler(event, context):
            return [os.environ["AWS_LAMBDA_FUNCTION_VERSION"], context.invoked_function_arn]
        """
    )
    version = aws("lambda").publish_version(FunctionName=function.name)["Version"]

    answer = _invoke(runtime, function.name, **{"x-localcloud-qualifier": version})
    unknown = _invoke(runtime, function.name, **{"x-localcloud-qualifier": "42"})

    assert answer.headers["x-amz-executed-version"] == version
    assert answer.json == [version, f"{function.arn}:{version}"]
    assert runtime.cold_starts[f"{function.arn}:{version}"] == 1
    assert unknown.status == 404
    assert unknown.json["Message"] == f"Function not found: {function.arn}:42"


def test_worker_stays_warm_across_invocations(runtime: LambdaRuntime, deploy: Callable[..., Function]) -> None:
    function = deploy(
        """
        calls = 0
        def lambda_handler(event, context):
            global calls
            calls += 1
            return calls
        """
    )

    results = [_invoke(runtime, function.name).json for _ in range(3)]

    assert results == [1, 2, 3]
    assert runtime.cold_starts[function.arn] == 1


def test_handler_sees_its_environment_and_lambda_variables(
    runtime: LambdaRuntime, deploy: Callable[..., Function], endpoint: str
) -> None:
    function = deploy(
        """
        import os
        def lambda_handler(event, context):
            return {
                "env": dict(os.environ),
                "cwd": os.getcwd(),
                "context": {
                    "aws_request_id": context.aws_request_id,
                    "function_name": context.function_name,
                    "function_version": context.function_version,
                    "memory_limit_in_mb": context.memory_limit_in_mb,
                    "invoked_function_arn": context.invoked_function_arn,
                    "log_group_name": context.log_group_name,
                    "log_stream_name": context.log_stream_name,
                    "remaining": context.get_remaining_time_in_millis(),
                },
            }
        """,
        environment={"GREETING": "hello"},
    )

    answer = _invoke(runtime, function.name)

    env, context = answer.json["env"], answer.json["context"]
    assert env["GREETING"] == "hello"
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == REGION
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == function.name
    assert env["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == str(MEMORY_MB)
    assert env["AWS_LAMBDA_LOG_GROUP_NAME"] == f"/aws/lambda/{function.name}"
    assert re.fullmatch(r"\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}", env["AWS_LAMBDA_LOG_STREAM_NAME"])
    assert env["LAMBDA_TASK_ROOT"] == answer.json["cwd"]
    assert (Path(env["LAMBDA_TASK_ROOT"]) / "handler.py").is_file()
    assert env["_HANDLER"] == "handler.lambda_handler"
    assert env["TZ"] == ":UTC"
    assert env["PATH"]
    assert env["AWS_ENDPOINT_URL"] == endpoint
    assert "AWS_CA_BUNDLE" not in env  # no bundle for a plain-HTTP endpoint
    assert context == {
        "aws_request_id": answer.headers["x-amzn-requestid"],
        "function_name": function.name,
        "function_version": "$LATEST",
        "memory_limit_in_mb": str(MEMORY_MB),  # a string, as in the real Python runtime
        "invoked_function_arn": function.arn,
        "log_group_name": f"/aws/lambda/{function.name}",
        "log_stream_name": env["AWS_LAMBDA_LOG_STREAM_NAME"],
        "remaining": context["remaining"],
    }
    assert 0 < context["remaining"] <= 3000


CALLER_IDENTITY = """
import boto3
def lambda_handler(event, context):
    return boto3.client("sts").get_caller_identity()["Arn"]
"""


def test_handler_gets_execution_role_credentials(runtime: LambdaRuntime, deploy: Callable[..., Function]) -> None:
    function = deploy(CALLER_IDENTITY)

    answer = _invoke(runtime, function.name)

    assert answer.status == 200, answer.body
    assert answer.json == f"arn:aws:sts::{ACCOUNT}:assumed-role/{function.role_name}/{function.name}"


def test_trust_policy_is_evaluated_for_the_lambda_service_principal(
    endpoint: str, tmp_path: Path, deploy: Callable[..., Function]
) -> None:
    asked: list[evaluator.AccessRequest] = []

    def recording(request: evaluator.AccessRequest) -> evaluator.Decision:
        asked.append(request)
        return evaluator.evaluate(request)

    function = deploy(ECHO)
    with LambdaRuntime(endpoint, "", tmp_path / "logs", evaluate=recording) as runtime:
        assert _invoke(runtime, function.name).status == 200

    [request] = asked
    assert request.caller == evaluator.Caller(
        arn="lambda.amazonaws.com", kind="service", account=None, principal_arn="lambda.amazonaws.com"
    )
    assert request.action == "sts:AssumeRole"
    assert (request.resource, request.resource_account) == (function.role_arn, ACCOUNT)
    assert request.resource_policy == _trust("lambda.amazonaws.com")
    assert request.context == {"aws:SourceAccount": ACCOUNT}  # lambda_runtime.execution_role_context


def _trust_with(condition: Mapping[str, Any]) -> dict[str, Any]:
    trust = _trust("lambda.amazonaws.com")
    trust["Statement"][0]["Condition"] = condition
    return trust


def _retrust(aws: Callable[[str], Any], function: Function, trust: Mapping[str, Any]) -> None:
    """The role's trust is replaced after the function exists (a trust naming the function needs its ARN)."""
    aws("iam").update_assume_role_policy(RoleName=function.role_name, PolicyDocument=json.dumps(trust))


def _assert_role_not_assumable(answer: Answer) -> None:
    assert answer.status == 400
    assert answer.headers["x-amzn-errortype"] == "InvalidParameterValueException"
    assert answer.json["Message"] == ROLE_NOT_ASSUMABLE


def test_a_trust_pinning_the_functions_source_account_lets_lambda_assume_the_role(
    runtime: LambdaRuntime, deploy: Callable[..., Function], aws: Callable[[str], Any]
) -> None:
    """confused-deputy.html ("Cross-service confused deputy prevention for AWS Security Token Service"): a service
    role's trust may require aws:SourceAccount; Lambda's execution-role AssumeRole carries the function's account
    (lambda_runtime.execution_role_context)."""
    function = deploy(ECHO)
    _retrust(aws, function, _trust_with({"StringEquals": {"aws:SourceAccount": ACCOUNT}}))

    assert _invoke(runtime, function.name).status == 200


def test_a_trust_pinning_another_source_account_makes_the_role_unassumable(
    runtime: LambdaRuntime, deploy: Callable[..., Function], aws: Callable[[str], Any]
) -> None:
    """A function of this account is not a source of account 210987654321: the trust does not allow Lambda, and
    the invocation fails as AWS's does when Lambda cannot assume the role (API_Invoke.html)."""
    function = deploy(ECHO)
    _retrust(aws, function, _trust_with({"StringEquals": {"aws:SourceAccount": "210987654321"}}))

    _assert_role_not_assumable(_invoke(runtime, function.name))
    assert runtime.cold_starts[function.arn] == 0


@pytest.mark.parametrize("operator", ["ArnEquals", "StringEquals"])
def test_a_trust_pinning_the_source_arn_makes_the_role_unassumable_offline(
    runtime: LambdaRuntime, deploy: Callable[..., Function], aws: Callable[[str], Any], operator: str
) -> None:
    """No AWS page documents aws:SourceArn in Lambda's execution-role AssumeRole (lambda-intro-execution-role.html
    names no key; permissions-source-function-arn.html: aws:SourceArn "applies only to policies where your Lambda
    function is the target resource"), so localcloud does not pass it and such a trust fails here rather than
    pass offline and fail on AWS (lambda_runtime.execution_role_context)."""
    function = deploy(ECHO)
    _retrust(aws, function, _trust_with({operator: {"aws:SourceArn": function.arn}}))

    _assert_role_not_assumable(_invoke(runtime, function.name))


def test_untrusted_execution_role_cannot_be_assumed(
    runtime: LambdaRuntime, deploy: Callable[..., Function], tmp_path: Path
) -> None:
    marker = tmp_path / "handler-ran"
    function = deploy(
        """
        import os
        open(os.environ["MARKER"], "w").close()
        def lambda_handler(event, context):
            open(os.environ["MARKER"], "w").close()
        """,
        trusted_service="ec2.amazonaws.com",
        environment={"MARKER": str(marker)},
    )

    answer = _invoke(runtime, function.name)

    assert answer.status == 400
    assert answer.headers["x-amzn-errortype"] == "InvalidParameterValueException"
    assert answer.json["Message"] == ROLE_NOT_ASSUMABLE
    assert not marker.exists()
    assert runtime.cold_starts[function.arn] == 0


def test_unhandled_exception_is_a_function_error(runtime: LambdaRuntime, deploy: Callable[..., Function]) -> None:
    function = deploy(
        """
        def lambda_handler(event, context):
            if event.get("fail"):
                raise ValueError("boom")
            return "fine"
        """
    )

    failed = _invoke(runtime, function.name, {"fail": True}, **{"X-Amz-Log-Type": "Tail"})
    after = _invoke(runtime, function.name)

    assert failed.status == 200
    assert failed.headers["x-amz-function-error"] == "Unhandled"
    assert failed.json["errorType"] == "ValueError"
    assert failed.json["errorMessage"] == "boom"
    assert failed.json["requestId"] == failed.headers["x-amzn-requestid"]
    assert any("handler.py" in frame and "lambda_handler" in frame for frame in failed.json["stackTrace"])
    assert "[ERROR] ValueError: boom" in failed.log
    assert after.json == "fine"
    assert runtime.cold_starts[function.arn] == 1  # the environment survives an exception of the handler


def test_non_serialisable_result_is_a_marshal_error(runtime: LambdaRuntime, deploy: Callable[..., Function]) -> None:
    function = deploy(
        """
        def lambda_handler(event, context):
            return {1, 2}
        """
    )

    answer = _invoke(runtime, function.name)

    assert answer.headers["x-amz-function-error"] == "Unhandled"
    assert answer.json["errorType"] == "Runtime.MarshalError"
    assert answer.json["errorMessage"].startswith("Unable to marshal response: Object of type set")


def test_timeout_kills_the_worker_and_reports_sandbox_timedout(
    runtime: LambdaRuntime, deploy: Callable[..., Function]
) -> None:
    function = deploy(
        """
        import time
        def lambda_handler(event, context):
            if event.get("hang"):
                print("about to hang")
                time.sleep(30)
            return "quick"
        """,
        timeout=1,
    )

    timed_out = _invoke(runtime, function.name, {"hang": True}, **{"X-Amz-Log-Type": "Tail"})
    workers_after_timeout = runtime.live_workers
    after = _invoke(runtime, function.name)

    assert timed_out.status == 200
    assert timed_out.headers["x-amz-function-error"] == "Unhandled"
    assert timed_out.json["errorType"] == "Sandbox.Timedout"
    assert timed_out.json["errorMessage"].endswith("Task timed out after 1.00 seconds")
    assert "about to hang" in timed_out.log
    assert re.search(r"REPORT RequestId: \S+\tDuration: 1\d{3}\.\d\d ms\t.*Status: timeout", timed_out.log)
    assert workers_after_timeout == 0
    assert after.json == "quick"
    assert runtime.cold_starts[function.arn] == 2


def test_crashed_worker_is_reported_and_replaced(runtime: LambdaRuntime, deploy: Callable[..., Function]) -> None:
    function = deploy(
        """
        import os
        def lambda_handler(event, context):
            if event.get("crash"):
                os._exit(3)
            return "alive"
        """
    )

    crashed = _invoke(runtime, function.name, {"crash": True})
    after = _invoke(runtime, function.name)

    assert crashed.headers["x-amz-function-error"] == "Unhandled"
    assert crashed.json["errorType"] == "Runtime.ExitError"
    assert crashed.json["errorMessage"].endswith("Runtime exited with error: exit status 3")
    assert after.json == "alive"
    assert runtime.cold_starts[function.arn] == 2


def test_missing_handler_module_is_an_import_error(runtime: LambdaRuntime, deploy: Callable[..., Function]) -> None:
    function = deploy(ECHO, handler="missing.lambda_handler")

    answer = _invoke(runtime, function.name)

    assert answer.headers["x-amz-function-error"] == "Unhandled"
    assert answer.json["errorType"] == "Runtime.ImportModuleError"
    assert answer.json["errorMessage"] == "Unable to import module 'missing': No module named 'missing'"
    assert runtime.live_workers == 0


CONFIGURED = """
import os
def lambda_handler(event, context):
    return {"pid": os.getpid(), "greeting": os.environ["GREETING"], "code": "v1"}
"""


def test_configuration_change_starts_a_fresh_worker(
    runtime: LambdaRuntime, deploy: Callable[..., Function], aws: Callable[[str], Any]
) -> None:
    function = deploy(CONFIGURED, environment={"GREETING": "hello"})
    before = _invoke(runtime, function.name).json

    aws("lambda").update_function_configuration(
        FunctionName=function.name, Environment={"Variables": {"GREETING": "bonjour"}}
    )
    after = _invoke(runtime, function.name).json

    assert before["greeting"] == "hello"
    assert after["greeting"] == "bonjour"
    assert after["pid"] != before["pid"]
    assert runtime.cold_starts[function.arn] == 2
    assert runtime.live_workers == 1  # the stale worker was stopped, not kept


def test_code_change_starts_a_fresh_worker(
    runtime: LambdaRuntime, deploy: Callable[..., Function], aws: Callable[[str], Any]
) -> None:
    function = deploy(CONFIGURED, environment={"GREETING": "hello"})
    before = _invoke(runtime, function.name).json

    aws("lambda").update_function_code(
        FunctionName=function.name, ZipFile=_zip({"handler.py": CONFIGURED.replace('"v1"', '"v2"')})
    )
    after = _invoke(runtime, function.name).json

    assert (before["code"], after["code"]) == ("v1", "v2")
    assert after["pid"] != before["pid"]
    assert runtime.cold_starts[function.arn] == 2


def test_credentials_close_to_expiry_start_a_fresh_worker(
    runtime: LambdaRuntime, deploy: Callable[..., Function], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lambda_runtime, "CREDENTIALS_DURATION", timedelta(minutes=4))  # inside the 5-minute margin
    function = deploy(PID)

    pids = {_invoke(runtime, function.name).json for _ in range(2)}

    assert len(pids) == 2
    assert runtime.cold_starts[function.arn] == 2


def test_recycle_drops_idle_workers(runtime: LambdaRuntime, deploy: Callable[..., Function]) -> None:
    function = deploy(PID)
    first = _invoke(runtime, function.name).json

    runtime.recycle(function.arn)
    second = _invoke(runtime, function.name).json

    assert first != second
    assert runtime.cold_starts[function.arn] == 2
    assert runtime.live_workers == 1


RENDEZVOUS = """
import os, time
def lambda_handler(event, context):
    # Each invocation checks in, then waits (up to 5 s) until `expected` invocations run at the same time.
    open(os.path.join(event["dir"], str(os.getpid())), "w").close()
    deadline = time.monotonic() + 5
    while len(os.listdir(event["dir"])) < event["expected"] and time.monotonic() < deadline:
        time.sleep(0.01)
    return {"pid": os.getpid(), "met": len(os.listdir(event["dir"])) >= event["expected"]}
"""


def test_concurrent_invocations_use_separate_workers(
    runtime: LambdaRuntime, deploy: Callable[..., Function], tmp_path: Path
) -> None:
    function = deploy(RENDEZVOUS)
    event = {"dir": str(tmp_path), "expected": 2}

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda _: _invoke(runtime, function.name, event).json, range(2)))
    again = _invoke(runtime, function.name, {"dir": str(tmp_path), "expected": 0}).json

    assert all(result["met"] for result in results)
    assert len({result["pid"] for result in results}) == 2
    assert again["pid"] in {result["pid"] for result in results}  # a warm worker was reused
    assert runtime.cold_starts[function.arn] == 2


def test_invocations_beyond_the_worker_limit_wait_for_a_free_worker(
    endpoint: str, tmp_path: Path, deploy: Callable[..., Function]
) -> None:
    function = deploy(PID)
    with LambdaRuntime(endpoint, "", tmp_path / "logs", max_workers_per_function=1) as runtime:
        with ThreadPoolExecutor(4) as pool:
            pids = set(pool.map(lambda _: _invoke(runtime, function.name).json, range(4)))

        assert len(pids) == 1
        assert runtime.cold_starts[function.arn] == 1


def test_log_tail_has_report_line_with_duration(
    runtime: LambdaRuntime, deploy: Callable[..., Function], tmp_path: Path
) -> None:
    function = deploy(
        """
        import logging, time
        print("loading")
        def lambda_handler(event, context):
            print("hello from the handler")
            logging.getLogger().warning("careful")
            time.sleep(0.05)
            return "done"
        """
    )

    cold = _invoke(runtime, function.name, **{"X-Amz-Log-Type": "Tail"})
    warm = _invoke(runtime, function.name, **{"X-Amz-Log-Type": "Tail"})
    untailed = _invoke(runtime, function.name)

    request_id = warm.headers["x-amzn-requestid"]
    lines = warm.log.splitlines()
    assert lines[0] == f"START RequestId: {request_id} Version: $LATEST"
    assert lines[1] == "hello from the handler"
    assert re.fullmatch(rf"\[WARNING\]\t\S+Z\t{request_id}\tcareful", lines[2])
    assert lines[3] == f"END RequestId: {request_id}"
    report = re.fullmatch(
        rf"REPORT RequestId: {request_id}\tDuration: (\d+\.\d\d) ms\tBilled Duration: (\d+) ms\t"
        rf"Memory Size: {MEMORY_MB} MB\tMax Memory Used: \d+ MB\t",
        lines[4],
    )
    assert report, lines[4]
    duration, billed = float(report[1]), int(report[2])
    assert 50 <= duration < 1000
    assert billed == -(-duration // 1)
    assert cold.log.startswith("loading\nSTART RequestId:")
    assert "\tInit Duration: " in cold.log
    assert "x-amz-log-result" not in untailed.headers
    written = (tmp_path / "logs" / f"{function.name}.log").read_text()
    assert cold.log in written and warm.log in written


def test_log_tail_is_the_last_4_kb(runtime: LambdaRuntime, deploy: Callable[..., Function]) -> None:
    function = deploy(
        """
        def lambda_handler(event, context):
            for n in range(1000):
                print(f"line {n}")
        """
    )

    answer = _invoke(runtime, function.name, **{"X-Amz-Log-Type": "Tail"})

    raw = base64.b64decode(answer.headers["x-amz-log-result"])
    assert len(raw) == 4096
    assert raw.decode().rstrip("\t\n").split("\n")[-1].startswith("REPORT RequestId:")
    assert b"\nline 999\n" in raw and b"\nline 0\n" not in raw


def test_handler_print_does_not_corrupt_protocol(runtime: LambdaRuntime, deploy: Callable[..., Function]) -> None:
    function = deploy(
        """
        import os, sys
        def lambda_handler(event, context):
            print('{"ready": true}')
            print('{"requestId": "forged", "result": "1"}', flush=True)
            sys.__stdout__.write("via sys.__stdout__\\n")
            sys.__stdout__.flush()
            os.write(1, b"via fd 1\\n")
            print("via stderr", file=sys.stderr)
            assert sys.stdin.read() == ""
            return {"ok": event["n"]}
        """
    )

    answers = [_invoke(runtime, function.name, {"n": n}, **{"X-Amz-Log-Type": "Tail"}) for n in range(2)]

    assert [answer.json for answer in answers] == [{"ok": 0}, {"ok": 1}]
    for line in ('{"ready": true}', "via sys.__stdout__", "via fd 1", "via stderr"):
        assert line in answers[1].log
    assert runtime.cold_starts[function.arn] == 1


def test_parent_aws_credentials_do_not_leak_into_worker(
    runtime: LambdaRuntime, deploy: Callable[..., Function], monkeypatch: pytest.MonkeyPatch
) -> None:
    function = deploy(
        """
        import os
        def lambda_handler(event, context):
            return dict(os.environ)
        """
    )
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAPARENTLEAKED0000")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "parent-secret")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "parent-token")
    monkeypatch.setenv("AWS_PROFILE", "parent-profile")
    monkeypatch.setenv("PARENT_ONLY_SETTING", "leaked")

    env = _invoke(runtime, function.name).json

    assert "parent-secret" not in json.dumps(env)
    assert "PARENT_ONLY_SETTING" not in env
    assert env["AWS_ACCESS_KEY_ID"].startswith("ASIA")  # the execution role's session, issued by moto's STS
    assert env["AWS_SESSION_TOKEN"] != "parent-token"
    assert {key for key in env if key.startswith("AWS_")} == {
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_EXECUTION_ENV",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_INITIALIZATION_TYPE",
        "AWS_LAMBDA_LOG_GROUP_NAME",
        "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_ENDPOINT_URL",
        "AWS_CONFIG_FILE",
        "AWS_SHARED_CREDENTIALS_FILE",
    }


def test_unknown_function_is_resource_not_found(runtime: LambdaRuntime) -> None:
    by_name = _invoke(runtime, "no-such-function")
    other_account_arn = f"arn:aws:lambda:{REGION}:210987654321:function:no-such-function"
    by_arn = _invoke(runtime, other_account_arn)

    assert by_name.status == 404
    assert by_name.headers["x-amzn-errortype"] == "ResourceNotFoundException"
    assert by_name.json["Message"] == f"Function not found: arn:aws:lambda:{REGION}:{ACCOUNT}:function:no-such-function"
    assert by_arn.status == 404
    assert by_arn.json["Message"] == f"Function not found: {other_account_arn}"


def test_payload_that_is_not_json_is_invalid_request_content(
    runtime: LambdaRuntime, deploy: Callable[..., Function]
) -> None:
    function = deploy(ECHO)

    answer = _invoke(runtime, function.name, b"{not json")

    assert answer.status == 400
    assert answer.headers["x-amzn-errortype"] == "InvalidRequestContentException"
    assert runtime.cold_starts[function.arn] == 0


EVENT_TARGET = """
import os, time
def lambda_handler(event, context):
    if "mark" in event:
        open(event["mark"], "w").close()
        return None
    deadline = time.monotonic() + 5
    while not os.path.exists(event["wait_for"]) and time.monotonic() < deadline:
        time.sleep(0.01)
    return os.path.exists(event["wait_for"])
"""


def test_event_invocation_is_accepted_and_runs_in_the_background(
    runtime: LambdaRuntime, deploy: Callable[..., Function], tmp_path: Path
) -> None:
    function = deploy(EVENT_TARGET)
    mark = str(tmp_path / "event-ran")

    accepted = _invoke(runtime, function.name, {"mark": mark}, **{"X-Amz-Invocation-Type": "Event"})
    seen = _invoke(runtime, function.name, {"wait_for": mark})

    assert (accepted.status, accepted.body) == (202, b"")
    assert accepted.headers["x-amz-executed-version"] == "$LATEST"
    assert seen.json is True


def test_dry_run_checks_the_function_without_running_it(
    runtime: LambdaRuntime, deploy: Callable[..., Function]
) -> None:
    function = deploy(ECHO)

    answer = _invoke(runtime, function.name, **{"X-Amz-Invocation-Type": "DryRun"})
    missing = _invoke(runtime, "no-such-function", **{"X-Amz-Invocation-Type": "DryRun"})

    assert (answer.status, answer.body) == (204, b"")
    assert missing.status == 404
    assert runtime.cold_starts[function.arn] == 0

