"""The dev program, run from the committed Pulumi.dev.yaml, reading prod through a StackReference."""

import configparser

import pytest

from components.settings import ConfigError
from tests.program.conftest import DEV_ACCOUNT, PROD_STACK_OUTPUTS, run_stack

ROLE_ARN = PROD_STACK_OUTPUTS["roleArn"]


def test_stack_reference_names_the_configured_prod_stack(dev_run):
    ref = dev_run.cloud.one("pulumi:pulumi:StackReference")
    assert ref.inputs["name"] == "organization/cross-account-s3/prod"


def test_execution_role_may_assume_exactly_the_role_from_the_stack_reference(dev_run):
    policy = dev_run.cloud.one("aws:iam/rolePolicy:RolePolicy", "writer-assume-prod-role").policy()
    assert policy["Statement"] == [{"Sid": "AssumeProdWriterRole", "Effect": "Allow",
                                    "Action": "sts:AssumeRole", "Resource": ROLE_ARN}]


def test_assume_permission_follows_a_different_prod_role(dev_config):
    other = "arn:aws:iam::333333333333:role/elsewhere"
    run = run_stack("dev", prod_outputs=PROD_STACK_OUTPUTS | {"roleArn": other})
    policy = run.cloud.one("aws:iam/rolePolicy:RolePolicy", "writer-assume-prod-role").policy()
    assert policy["Statement"][0]["Resource"] == other


def test_execution_role_is_named_deterministically_and_trusts_lambda(dev_run):
    role = dev_run.cloud.one("aws:iam/role:Role")
    assert role.inputs["name"] == "cross-account-s3-writer-lambda"
    (statement,) = role.policy("assumeRolePolicy")["Statement"]
    assert statement["Principal"] == {"Service": "lambda.amazonaws.com"}


def test_execution_role_writes_only_its_own_log_group(dev_run):
    policy = dev_run.cloud.one("aws:iam/rolePolicy:RolePolicy", "writer-write-logs").policy()
    (statement,) = policy["Statement"]
    assert statement["Resource"] == \
        f"arn:aws:logs:eu-west-1:{DEV_ACCOUNT}:log-group:/aws/lambda/cross-account-s3-writer:*"


def test_log_group_has_retention(dev_run):
    log_group = dev_run.cloud.one("aws:cloudwatch/logGroup:LogGroup").inputs
    assert log_group["name"] == "/aws/lambda/cross-account-s3-writer"
    assert log_group["retentionInDays"] == 14


def test_function_runtime_handler_and_limits(dev_run):
    function = dev_run.cloud.one("aws:lambda/function:Function").inputs
    assert function["runtime"] == "python3.12"
    assert function["handler"] == "lambda_handler.handler.lambda_handler"
    assert function["timeout"] == 30
    assert function["memorySize"] == 256
    assert function["role"] == f"arn:aws:iam::{DEV_ACCOUNT}:role/cross-account-s3-writer-lambda"


def test_function_environment_carries_the_prod_target(dev_run):
    env = dev_run.cloud.one("aws:lambda/function:Function").inputs["environment"]["variables"]
    assert env == {
        "TARGET_ROLE_ARN": ROLE_ARN,
        "TARGET_BUCKET": PROD_STACK_OUTPUTS["bucketName"],
        "TARGET_KEY_PREFIX": "incoming/",
        "TARGET_REGION": "eu-west-1",
        "EXTERNAL_ID": "cross-account-s3-dev-writer",
        "MAX_BODY_BYTES": "262144",
    }


def test_function_environment_has_no_external_id_when_prod_has_none():
    outputs = {k: v for k, v in PROD_STACK_OUTPUTS.items() if k != "externalId"}
    env = run_stack("dev", prod_outputs=outputs).cloud.one("aws:lambda/function:Function").inputs["environment"]
    assert "EXTERNAL_ID" not in env["variables"]


def test_function_code_is_only_the_handler_package(dev_run):
    code = dev_run.cloud.one("aws:lambda/function:Function").inputs["code"]
    assert {"lambda_handler/__init__.py", "lambda_handler/handler.py"} <= set(code.assets)
    assert all(name.startswith("lambda_handler/") and name.endswith(".py") for name in code.assets)


def test_group_members_may_assume_the_role_with_mfa(dev_run):
    policy = dev_run.cloud.one("aws:iam/groupPolicy:GroupPolicy").policy()
    (statement,) = policy["Statement"]
    assert statement["Resource"] == ROLE_ARN
    assert statement["Condition"] == {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
    membership = dev_run.cloud.one("aws:iam/groupMembership:GroupMembership").inputs
    assert membership["users"] == ["dev-user"]


def test_group_policy_has_no_mfa_condition_when_prod_does_not_require_it():
    run = run_stack("dev", prod_outputs=PROD_STACK_OUTPUTS | {"mfaRequired": False})
    (statement,) = run.cloud.one("aws:iam/groupPolicy:GroupPolicy").policy()["Statement"]
    assert "Condition" not in statement


def test_exports(dev_run):
    assert dev_run.export("functionName") == "cross-account-s3-writer"
    assert dev_run.export("functionArn").endswith(":function:cross-account-s3-writer")
    assert dev_run.export("executionRoleArn") == f"arn:aws:iam::{DEV_ACCOUNT}:role/cross-account-s3-writer-lambda"
    assert dev_run.export("assumeGroupName") == "cross-account-s3-prod-writers"


def test_cli_profile_is_a_ready_to_paste_assume_role_profile(dev_run):
    snippet = dev_run.exports["cliProfile"]
    assert snippet.secret is True  # it carries the external ID, a secret output of prod
    parser = configparser.ConfigParser()
    parser.read_string(snippet.value)
    profile = parser["profile prod-writer"]
    assert profile["role_arn"] == ROLE_ARN
    assert profile["source_profile"] == "dev"
    assert profile["external_id"] == "cross-account-s3-dev-writer"
    assert profile["mfa_serial"].startswith(f"arn:aws:iam::{DEV_ACCOUNT}:mfa/")


def test_bad_config_fails_the_program_naming_the_key(dev_config):
    with pytest.raises(ConfigError, match="cross-account-s3:lambdaTimeout: expected seconds from 1 to 900"):
        run_stack("dev", dev_config | {"cross-account-s3:lambdaTimeout": "0"})
