"""Lambda runtimes as Lambda accepts them: an identifier it does not know is a validation error, and a deprecated
runtime is refused from its "Block function create" date for new functions and from its "Block function update" date
for updates (lambda-runtimes.html, "Deprecated runtimes"; the dates: localcloud.lambda_lifecycle). The gate checks
before moto runs, so nothing is created or changed. Each test pins the date, so none depends on when it runs."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime, timezone
from typing import Any

import pytest
from botocore.exceptions import ClientError

from localcloud import lambda_lifecycle
from localcloud.server import LocalCloud
from localcloud_testing.builders import Builder, trust, unique
from localcloud_testing.clock import SetNow

BEFORE_PYTHON39_BLOCKS = datetime(2026, 12, 2, 12, tzinfo=timezone.utc)  # python3.7 create-blocked, 3.9 not yet
PYTHON39_CREATE_BLOCK = datetime(2027, 2, 1, 0, 0, 1, tzinfo=timezone.utc)
PYTHON39_UPDATE_BLOCK = datetime(2027, 3, 3, 0, 0, 1, tzinfo=timezone.utc)


def _zip(answer: str = "event") -> bytes:
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("handler.py", f"def handler(event, context):\n    return {answer}\n")
    return code.getvalue()


def _create(cloud: LocalCloud, build: Builder, runtime: str, name: str | None = None, **extra: Any) -> str:
    name = name or unique("fn")
    cloud.client("lambda", "dev").create_function(
        FunctionName=name, Runtime=runtime, Role=build.role("dev", [trust({"Service": "lambda.amazonaws.com"})]),
        Handler="handler.handler", Code={"ZipFile": _zip()}, **extra)
    return name


def _error(raised: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int]:
    error = raised.value.response["Error"]
    return error["Code"], error.get("Message", ""), raised.value.response["ResponseMetadata"]["HTTPStatusCode"]


def _exists(cloud: LocalCloud, name: str) -> bool:
    try:
        cloud.client("lambda", "dev").get_function(FunctionName=name)
    except ClientError as error:
        assert error.response["Error"]["Code"] == "ResourceNotFoundException"
        return False
    return True


def test_creating_a_function_with_a_runtime_past_its_create_block_is_refused(
    cloud: LocalCloud, build: Builder, at: SetNow
) -> None:
    """lambda-runtimes.html, "Deprecated runtimes": python3.7's "Block function create" is 9 January 2024; Lambda
    answers InvalidParameterValueException naming the runtime and the one to use instead."""
    at(BEFORE_PYTHON39_BLOCKS)
    for runtime, instead in (("python3.7", "python3.14"), ("python2.7", "python3.14"), ("nodejs12.x", "nodejs24.x"),
                             ("go1.x", "provided.al2023")):
        name = unique("fn")
        with pytest.raises(ClientError) as raised:
            _create(cloud, build, runtime, name)
        assert _error(raised) == (
            "InvalidParameterValueException",
            f"The runtime parameter of {runtime} is no longer supported for creating or updating AWS Lambda "
            f"functions. We recommend you use the new runtime ({instead}) while creating or updating functions.", 400)
        assert not _exists(cloud, name)


def test_a_deprecated_runtime_creates_functions_until_its_create_block(
    cloud: LocalCloud, build: Builder, at: SetNow
) -> None:
    """lambda-runtimes.html: python3.9 is deprecated since 15 December 2025, but functions can be created with it
    until its "Block function create" date, 1 February 2027."""
    at(BEFORE_PYTHON39_BLOCKS)
    created = _create(cloud, build, "python3.9")
    assert cloud.client("lambda", "dev").get_function(FunctionName=created)["Configuration"]["Runtime"] == "python3.9"

    at(PYTHON39_CREATE_BLOCK)
    refused = unique("fn")
    with pytest.raises(ClientError) as raised:
        _create(cloud, build, "python3.9", refused)
    assert _error(raised)[0::2] == ("InvalidParameterValueException", 400)
    assert "The runtime parameter of python3.9 is no longer supported" in _error(raised)[1]
    assert not _exists(cloud, refused)


def test_after_the_update_block_a_function_s_code_and_runtime_cannot_be_updated(
    cloud: LocalCloud, build: Builder, at: SetNow
) -> None:
    """lambda-runtimes.html: from "Block function update" (python3.9: 3 March 2027) UpdateFunctionCode fails, and
    so does UpdateFunctionConfiguration naming the runtime; a configuration update that does not name it still
    succeeds, and so does moving the function to a supported runtime."""
    lam = cloud.client("lambda", "dev")
    at(BEFORE_PYTHON39_BLOCKS)
    name = _create(cloud, build, "python3.9")
    before = lam.get_function_configuration(FunctionName=name)

    at(PYTHON39_UPDATE_BLOCK)
    with pytest.raises(ClientError) as raised:
        lam.update_function_configuration(FunctionName=name, Runtime="python3.9", MemorySize=512)
    assert _error(raised)[0::2] == ("InvalidParameterValueException", 400)
    with pytest.raises(ClientError) as raised:
        lam.update_function_code(FunctionName=name, ZipFile=_zip("None"))
    assert "The runtime parameter of python3.9 is no longer supported" in _error(raised)[1]
    unchanged = lam.get_function_configuration(FunctionName=name)
    assert (unchanged["MemorySize"], unchanged["CodeSha256"]) == (before["MemorySize"], before["CodeSha256"])

    assert lam.update_function_configuration(FunctionName=name, MemorySize=256)["MemorySize"] == 256
    assert lam.update_function_configuration(FunctionName=name, Runtime="python3.13")["Runtime"] == "python3.13"
    assert lam.update_function_code(FunctionName=name, ZipFile=_zip("None"))["CodeSha256"] != before["CodeSha256"]


def test_before_the_update_block_a_function_may_still_be_changed_to_a_deprecated_runtime(
    cloud: LocalCloud, build: Builder, at: SetNow
) -> None:
    """lambda-runtimes.html: "When function update is blocked, you can't revert to a deprecated runtime"; before
    then (python3.7: 3 March 2027) an existing function may still be updated to it, though none can be created."""
    at(BEFORE_PYTHON39_BLOCKS)
    lam = cloud.client("lambda", "dev")
    name = _create(cloud, build, "python3.12")
    assert lam.update_function_configuration(FunctionName=name, Runtime="python3.7")["Runtime"] == "python3.7"
    assert lam.update_function_code(FunctionName=name, ZipFile=_zip("None"))["Runtime"] == "python3.7"


def test_a_runtime_lambda_does_not_know_is_a_validation_error_naming_it(
    cloud: LocalCloud, build: Builder, at: SetNow
) -> None:
    """API_CreateFunction.html, Runtime: one of the listed identifiers; Lambda's request validation answers
    ValidationException "Value '...' at 'runtime' failed to satisfy constraint: Member must satisfy enum value set"
    (moto alone would create the function)."""
    at(BEFORE_PYTHON39_BLOCKS)
    lam = cloud.client("lambda", "dev")
    name = unique("fn")
    with pytest.raises(ClientError) as raised:
        _create(cloud, build, "python9", name)
    code, message, status = _error(raised)
    assert (code, status) == ("ValidationException", 400)
    assert message.startswith("1 validation error detected: Value 'python9' at 'runtime' failed to satisfy "
                              "constraint: Member must satisfy enum value set: [nodejs, ")
    assert "python3.12" in message and not _exists(cloud, name)

    existing = _create(cloud, build, "python3.12")
    with pytest.raises(ClientError) as raised:
        lam.update_function_configuration(FunctionName=existing, Runtime="Python3.12")
    assert _error(raised)[0] == "ValidationException" and "Value 'Python3.12' at 'runtime'" in _error(raised)[1]
    assert lam.get_function_configuration(FunctionName=existing)["Runtime"] == "python3.12"


@pytest.mark.parametrize(("runtime", "use", "first_blocked"), [
    ("python3.7", lambda_lifecycle.CREATE, date(2024, 1, 9)),
    ("python3.7", lambda_lifecycle.UPDATE, date(2027, 3, 3)),
    ("python3.9", lambda_lifecycle.CREATE, date(2027, 2, 1)),
    ("nodejs16.x", lambda_lifecycle.CREATE, date(2027, 2, 1)),
    ("python3.12", lambda_lifecycle.CREATE, date(2028, 11, 30)),
])
def test_a_runtime_is_blocked_from_its_block_date_on(runtime: str, use: str, first_blocked: date) -> None:
    """lambda-runtimes.html: the block dates are the first days the operation fails."""
    assert lambda_lifecycle.blocked(runtime, use, date.fromordinal(first_blocked.toordinal() - 1)) is None
    assert lambda_lifecycle.blocked(runtime, use, first_blocked) is not None
    assert lambda_lifecycle.blocked("python3.15", use, date(2100, 1, 1)) is None  # no dates known: allowed


def test_a_family_s_newest_runtime_recommends_a_supported_one() -> None:
    """The newest runtime of a family has no successor yet; Lambda's other wording names none."""
    assert lambda_lifecycle.blocked("python3.14", lambda_lifecycle.CREATE, date(2029, 8, 1)) == (
        "The runtime parameter of python3.14 is no longer supported for creating or updating AWS Lambda functions. "
        "We recommend you use a supported runtime while creating or updating functions.")
