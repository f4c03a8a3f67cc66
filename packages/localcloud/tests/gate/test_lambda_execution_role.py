"""Requests a function makes with its execution role's credentials, through the gate: they carry
``lambda:SourceFunctionArn`` (the function's ARN), which identity-based policies can decide on and resource-based
policies cannot (Lambda Developer Guide, permissions-source-function-arn.html).

The functions run in localcloud's Lambda runtime, given the cloud's session registry and installed as the gate's
invoker for each test; their boto3 calls go back to the same gate.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from localcloud.lambda_runtime import LambdaRuntime
from localcloud.server import LocalCloud
from localcloud_testing.builders import DEV, REGION, Builder, allow, policy, trust, unique

# Puts event["key"] into event["bucket"] with the execution role's credentials; answers "put" or the error code.
PUT_OBJECT = """
import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

def handler(event, context):
    s3 = boto3.client("s3", config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))
    try:
        s3.put_object(Bucket=event["bucket"], Key=event["key"], Body=b"x")
    except ClientError as error:
        return error.response["Error"]["Code"]
    return "put"
"""


@pytest.fixture
def runtime(cloud: LocalCloud, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LambdaRuntime]:
    assert cloud.gate is not None
    with LambdaRuntime(cloud.endpoint, str(cloud.ca_bundle), tmp_path / "logs", registry=cloud.registry) as runtime:
        monkeypatch.setattr(cloud.gate, "invoker", runtime.invoke)
        yield runtime


def function_arn(name: str) -> str:
    return f"arn:aws:lambda:{REGION}:{DEV}:function:{name}"


def create_function(cloud: LocalCloud, name: str, role_arn: str) -> None:
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("handler.py", PUT_OBJECT)
    cloud.client("lambda", "dev").create_function(FunctionName=name, Runtime="python3.12", Role=role_arn,
                                                  Handler="handler.handler", Code={"ZipFile": code.getvalue()},
                                                  Timeout=30)


def put_from(cloud: LocalCloud, name: str, bucket: str, key: str) -> Any:
    answer = cloud.client("lambda", "dev").invoke(FunctionName=name, Payload=json.dumps({"bucket": bucket, "key": key}))
    assert "FunctionError" not in answer, answer["Payload"].read()
    return json.loads(answer["Payload"].read())


def execution_role(build: Builder, permissions: list[Mapping[str, Any]]) -> str:
    return build.role("dev", [trust({"Service": "lambda.amazonaws.com"})], permissions=permissions)


def test_an_identity_policy_condition_on_the_source_function_arn_admits_only_that_function(
    cloud: LocalCloud, build: Builder, runtime: LambdaRuntime
) -> None:
    """permissions-source-function-arn.html, "Example policy granting a specific Lambda function access to an Amazon
    S3 resource": ArnEquals lambda:SourceFunctionArn allows the one function, "even if a different function or
    entity makes an s3:PutObject call with the same execution role" it does not."""
    bucket = build.bucket("dev")
    chosen, other = unique("fn"), unique("fn")
    role_arn = execution_role(build, [allow("s3:PutObject", f"arn:aws:s3:::{bucket}/*", Condition={
        "ArnEquals": {"lambda:SourceFunctionArn": function_arn(chosen)}})])
    create_function(cloud, chosen, role_arn)
    create_function(cloud, other, role_arn)

    assert put_from(cloud, chosen, bucket, "by-chosen") == "put"
    assert put_from(cloud, other, bucket, "by-other") == "AccessDenied"


def test_the_source_function_arn_does_not_reach_a_resource_based_policy(
    cloud: LocalCloud, build: Builder, runtime: LambdaRuntime
) -> None:
    """permissions-source-function-arn.html: "You cannot use the lambda:SourceFunctionArn condition key in
    resource-based policies." A bucket policy naming the execution role grants its sessions in the same account
    (reference_policies_evaluation-logic.html), but not under a condition on the function: there the key is
    missing."""
    name = unique("fn")
    role_arn = execution_role(build, [])
    bucket = build.bucket("dev")
    on_function = {"ArnEquals": {"lambda:SourceFunctionArn": function_arn(name)}}
    cloud.client("s3", "dev").put_bucket_policy(Bucket=bucket, Policy=policy(
        allow("s3:PutObject", f"arn:aws:s3:::{bucket}/open/*", Principal={"AWS": role_arn}),
        allow("s3:PutObject", f"arn:aws:s3:::{bucket}/pinned/*", Principal={"AWS": role_arn}, Condition=on_function)))
    create_function(cloud, name, role_arn)

    assert put_from(cloud, name, bucket, "open/a") == "put"
    assert put_from(cloud, name, bucket, "pinned/a") == "AccessDenied"
