"""Each consumer stack (dev: the writer; analytics: the reader), run from its committed stack file, reading its
grant from prod through a StackReference (answered with what the prod program exports, see conftest.py).

Every stack but prod is a consumer: these tests run for each consumer stack file, and a new one needs its line in
EXPECTED below.
"""

from __future__ import annotations

import configparser
import shlex
from dataclasses import dataclass

import pytest

from components.cli_profile import CREDENTIAL_PROCESS_QUERY
from components.settings import ConfigError
from localcloud_pulumi.program import SECRET_SIG, SECRET_SIG_KEY
from tests.program.conftest import (
    ANALYTICS_ACCOUNT,
    CONSUMER_STACKS,
    DEV_ACCOUNT,
    NS,
    PROD_STACK,
    ProgramRun,
    prod_outputs,
    prod_secret_outputs,
    run_stack,
    with_grant,
)

FUNCTION = "aws:lambda/function:Function"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
GROUP_POLICY = "aws:iam/groupPolicy:GroupPolicy"


@dataclass(frozen=True)
class Consumer:
    account: str
    grant: str
    workload: str  # the GrantFunction's name too
    handler: str
    function: str
    execution_role: str
    group: str
    users: tuple[str, ...]
    size_variable: str  # the handler's size limit: the writer's largest body, the reader's largest object
    function_actions: tuple[str, ...]  # what else than AssumeRole its function may do, as its grant allows
    human_actions: tuple[str, ...]  # the same of its group
    session_environment: dict[str, str]  # what its function brings to the session (SESSION_TAGS, SOURCE_IDENTITY)

    @property
    def role_arn(self) -> str:
        return prod_outputs()["grants"][self.grant]["roleArn"]

    @property
    def external_id(self) -> str:
        return prod_outputs()["grantExternalIds"][self.grant]


EXPECTED = {
    "dev": Consumer(DEV_ACCOUNT, "dev-writer", "writer", "lambda_handler.handler.lambda_handler",
                    "cross-account-s3-writer", "cross-account-s3-writer-lambda", "cross-account-s3-prod-writers",
                    ("dev-user",), "MAX_BODY_BYTES",
                    ("sts:TagSession", "sts:SetSourceIdentity"), ("sts:SetSourceIdentity",),
                    {"SESSION_TAGS": '{"function": "cross-account-s3-writer"}',
                     "SOURCE_IDENTITY": "cross-account-s3-writer"}),
    "analytics": Consumer(ANALYTICS_ACCOUNT, "analytics-reader", "reader",
                          "lambda_handler.reader_handler.lambda_handler", "cross-account-s3-reader",
                          "cross-account-s3-reader-lambda", "cross-account-s3-prod-readers", ("analyst",),
                          "MAX_OBJECT_BYTES", ("sts:SetSourceIdentity",), ("sts:SetSourceIdentity",),
                          {"SOURCE_IDENTITY": "cross-account-s3-reader"}),
}


@pytest.fixture(scope="module")
def consumer(consumer_run) -> tuple[Consumer, ProgramRun]:
    stack, run = consumer_run
    assert stack in EXPECTED, f"add the consumer stack {stack} to EXPECTED"
    return EXPECTED[stack], run


def function_of(run: ProgramRun) -> dict:
    return run.cloud.one(FUNCTION).inputs


def one_or_list(values: tuple[str, ...]) -> str | list[str]:
    return values[0] if len(values) == 1 else list(values)


def actions_of(statement: dict) -> tuple[str, ...]:
    return (statement["Action"],) if isinstance(statement["Action"], str) else tuple(statement["Action"])


def assume_statements(run: ProgramRun) -> list[dict]:
    """Every statement of every identity policy the stack declares that allows an sts: action."""
    found = []
    for record in run.cloud.of_type(ROLE_POLICY) + run.cloud.of_type(GROUP_POLICY):
        for statement in record.policy()["Statement"]:
            actions = [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]
            if any(a.startswith("sts:") for a in actions):
                found.append(statement)
    return found


def test_every_consumer_stack_file_is_expected_here():
    assert sorted(EXPECTED) == sorted(CONSUMER_STACKS)


# --- the grant it reads ---------------------------------------------------------------------------------------


def test_stack_reference_names_the_configured_prod_stack(consumer):
    _, run = consumer
    assert run.cloud.one("pulumi:pulumi:StackReference").inputs["name"] == PROD_STACK


def test_each_principal_may_assume_exactly_its_grants_role_and_nothing_else(consumer):
    expected, run = consumer
    statements = assume_statements(run)
    assumes = [s for s in statements if "sts:AssumeRole" in actions_of(s)]
    assert len(assumes) == 2  # the function's execution role and the group of humans
    for statement in statements:
        assert statement["Effect"] == "Allow"
        assert set(actions_of(statement)) <= {"sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"}
        assert statement["Resource"] == expected.role_arn
    for statement in assumes:
        assert actions_of(statement) == ("sts:AssumeRole",)
        # Only with the grant's external ID: a principal pointed at the role without it gets nothing.
        assert statement["Condition"]["StringEquals"] == {"sts:ExternalId": expected.external_id}
    assert expected.role_arn.endswith(f":role/cross-account-s3-{expected.grant}")


def test_execution_role_may_assume_its_grants_role(consumer):
    expected, run = consumer
    policy = run.cloud.one(ROLE_POLICY, f"{expected.workload}-assume-grant-role").policy()
    assert policy["Statement"] == [
        {"Sid": "AssumeGrantRole", "Effect": "Allow", "Action": "sts:AssumeRole", "Resource": expected.role_arn,
         "Condition": {"StringEquals": {"sts:ExternalId": expected.external_id}}},
        {"Sid": "TagOrIdentifyGrantSession", "Effect": "Allow", "Action": one_or_list(expected.function_actions),
         "Resource": expected.role_arn},
    ]


def test_a_consumer_uses_its_own_grant_of_several():
    other = "arn:aws:iam::111111111111:role/cross-account-s3-someone-else"
    prod = with_grant(prod_outputs(), "someone-else", **prod_outputs()["grants"]["dev-writer"] | {"roleArn": other})
    run = run_stack("dev", prod=prod)
    assert {s["Resource"] for s in assume_statements(run)} == {prod["grants"]["dev-writer"]["roleArn"]}


def test_assume_permission_follows_the_grants_role_in_prod():
    moved = "arn:aws:iam::111111111111:role/cross-account-s3-dev-writer-v2"
    run = run_stack("dev", prod=with_grant(prod_outputs(), "dev-writer", roleArn=moved))
    assert {s["Resource"] for s in assume_statements(run)} == {moved}
    assert run.export("roleArn") == moved


# --- the function ---------------------------------------------------------------------------------------------


def test_execution_role_is_named_deterministically_and_trusts_lambda(consumer):
    expected, run = consumer
    role = run.cloud.one(ROLE)
    assert role.inputs["name"] == expected.execution_role
    (statement,) = role.policy("assumeRolePolicy")["Statement"]
    assert statement["Principal"] == {"Service": "lambda.amazonaws.com"}


def test_execution_role_writes_only_its_own_log_group(consumer):
    expected, run = consumer
    (statement,) = run.cloud.one(ROLE_POLICY, f"{expected.workload}-write-logs").policy()["Statement"]
    assert statement["Resource"] == \
        f"arn:aws:logs:eu-west-1:{expected.account}:log-group:/aws/lambda/{expected.function}:*"


def test_log_group_has_retention(consumer):
    expected, run = consumer
    log_group = run.cloud.one("aws:cloudwatch/logGroup:LogGroup").inputs
    assert log_group["name"] == f"/aws/lambda/{expected.function}"
    assert log_group["retentionInDays"] == 14


def test_function_runtime_handler_and_limits(consumer):
    expected, run = consumer
    function = function_of(run)
    assert function["name"] == expected.function
    assert function["runtime"] == "python3.12"
    assert function["handler"] == expected.handler
    assert function["timeout"] == 30
    assert function["memorySize"] == 256
    assert function["role"] == f"arn:aws:iam::{expected.account}:role/{expected.execution_role}"


def test_writer_runs_the_writer_handler_and_reader_the_reader_handler():
    assert function_of(run_stack("dev"))["handler"] == "lambda_handler.handler.lambda_handler"
    assert function_of(run_stack("analytics"))["handler"] == "lambda_handler.reader_handler.lambda_handler"


def test_function_environment_carries_its_grants_target(consumer):
    expected, run = consumer
    assert function_of(run)["environment"]["variables"] == {
        "TARGET_ROLE_ARN": expected.role_arn,
        "TARGET_BUCKET": prod_outputs()["bucketName"],
        "TARGET_KEY_PREFIX": "incoming/",
        "TARGET_REGION": "eu-west-1",
        "EXTERNAL_ID": expected.external_id,
        expected.size_variable: "262144",
        **expected.session_environment,
    }


def test_the_environment_is_secret_because_it_carries_the_external_id(consumer):
    _, run = consumer
    assert is_secret(run.cloud.one(FUNCTION).raw_inputs["environment"])


def test_the_fake_prod_is_what_prod_exports_with_its_external_ids_secret():
    assert prod_secret_outputs() == ["grantExternalIds"]
    assert set(prod_outputs()) == {"grants", "grantExternalIds", "bucketName", "bucketArn", "region", "encryption", "kmsKeyArn"}
    assert set(prod_outputs()["grants"]) == {"dev-writer", "analytics-reader"}


def is_secret(value: object) -> bool:
    return isinstance(value, dict) and value.get(SECRET_SIG_KEY) == SECRET_SIG


def without_external_id(grant: str) -> dict:
    prod = with_grant(prod_outputs(), grant, externalIdRequired=False)
    del prod["grantExternalIds"][grant]
    return prod


def test_were_grants_secret_every_consumer_would_hide_its_role_arn():
    # Why prod exports the external IDs apart from grants (test_prod_stack.py): a secret grants output makes the
    # consumer's assume-role policy, its roleArn export and its access secret too, unreadable in every preview.
    prod = without_external_id("dev-writer")
    plain = run_stack("dev", prod=prod)
    hidden = run_stack("dev", prod=prod, prod_secrets=["grants", "grantExternalIds"])
    name = "writer-assume-grant-role"
    assert not is_secret(plain.cloud.one(ROLE_POLICY, name).raw_inputs["policy"])
    assert is_secret(hidden.cloud.one(ROLE_POLICY, name).raw_inputs["policy"])
    assert (plain.exports["roleArn"].secret, hidden.exports["roleArn"].secret) == (False, True)


def test_an_external_id_makes_the_assume_policies_secret_but_not_the_role_arn(consumer):
    # The price of requiring the grant's external ID in the identity policy too (it is a secret output of prod):
    # a preview shows the assume policies as [secret]; the role they point at stays readable in roleArn.
    _, run = consumer
    for record in run.cloud.of_type(ROLE_POLICY) + run.cloud.of_type(GROUP_POLICY):
        if record.name.endswith("assume-grant-role"):
            assert is_secret(record.raw_inputs["policy"]), record.name
    assert run.exports["roleArn"].secret is False


def test_writer_is_told_its_largest_body_and_reader_its_largest_object(dev_config, analytics_config):
    writer = function_of(run_stack("dev", dev_config | {f"{NS}maxBodyBytes": "1000",
                                                       f"{NS}maxObjectBytes": "2000"}))["environment"]["variables"]
    reader = function_of(run_stack("analytics", analytics_config | {f"{NS}maxBodyBytes": "1000",
                                                                   f"{NS}maxObjectBytes": "2000"}))
    assert (writer["MAX_BODY_BYTES"], "MAX_OBJECT_BYTES" in writer) == ("1000", False)
    variables = reader["environment"]["variables"]
    assert (variables["MAX_OBJECT_BYTES"], "MAX_BODY_BYTES" in variables) == ("2000", False)


def test_function_environment_has_no_external_id_when_its_grant_has_none():
    prod = prod_outputs()
    del prod["grantExternalIds"]["dev-writer"]
    env = function_of(run_stack("dev", prod=with_grant(prod, "dev-writer", externalIdRequired=False)))
    assert "EXTERNAL_ID" not in env["environment"]["variables"]


def test_function_code_is_only_the_handler_package_with_its_handler(consumer):
    expected, run = consumer
    code = function_of(run)["code"]
    module = expected.handler.rsplit(".", 1)[0].replace(".", "/") + ".py"
    assert {"lambda_handler/__init__.py", module} <= set(code.assets)
    assert all(name.startswith("lambda_handler/") and name.endswith(".py") for name in code.assets)


# --- the humans -------------------------------------------------------------------------------------------------


def test_group_members_may_assume_the_role_with_mfa(consumer):
    expected, run = consumer
    statement, extras = run.cloud.one(GROUP_POLICY).policy()["Statement"]
    assert statement["Resource"] == extras["Resource"] == expected.role_arn
    assert actions_of(extras) == expected.human_actions
    assert statement["Condition"] == {"Bool": {"aws:MultiFactorAuthPresent": "true"},
                                      "StringEquals": {"sts:ExternalId": expected.external_id}}
    assert run.cloud.one("aws:iam/group:Group").inputs["name"] == expected.group
    assert run.cloud.one("aws:iam/groupMembership:GroupMembership").inputs["users"] == list(expected.users)
    assert [u.inputs["name"] for u in run.cloud.of_type("aws:iam/user:User")] == list(expected.users)


def test_group_policy_has_no_mfa_condition_when_the_grant_does_not_require_it():
    run = run_stack("analytics", prod=with_grant(without_external_id("analytics-reader"), "analytics-reader",
                                                 mfaRequired=False))
    statement = run.cloud.one(GROUP_POLICY).policy()["Statement"][0]
    assert "Condition" not in statement


# --- exports and the CLI profile ---------------------------------------------------------------------------------


def test_exports_name_the_grant_its_role_the_function_and_the_group(consumer):
    expected, run = consumer
    assert run.export("grant") == expected.grant
    assert run.export("access") == {"writer": "write", "reader": "read"}[expected.workload]
    assert run.export("roleArn") == expected.role_arn
    assert run.export("functionName") == expected.function
    assert run.export("functionArn") == f"arn:aws:lambda:eu-west-1:{expected.account}:function:{expected.function}"
    assert run.export("executionRoleArn") == f"arn:aws:iam::{expected.account}:role/{expected.execution_role}"
    assert run.export("assumeGroupName") == expected.group
    assert run.export("assumeGroupUserArns") == [f"arn:aws:iam::{expected.account}:user/{u}" for u in expected.users]


def cli_profile(run: ProgramRun, grant: str) -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(run.export("cliProfile"))
    assert parser.sections() == [f"profile prod-{grant}"]
    return parser[f"profile prod-{grant}"]


def test_cli_profile_is_a_ready_to_paste_assume_role_profile_for_its_grant(consumer_run):
    stack, run = consumer_run
    expected = EXPECTED[stack]
    assert run.exports["cliProfile"].secret is True  # it carries the external ID, a secret output of prod
    if prod_outputs()["grants"][expected.grant]["sourceIdentity"] == "required":
        pytest.skip("a grant that requires a source identity gets a credential_process profile (tested below)")
    profile = cli_profile(run, expected.grant)
    assert dict(profile) == {
        "role_arn": expected.role_arn,
        "source_profile": stack,
        "role_session_name": f"prod-{expected.grant}-cli",
        "duration_seconds": "3600",
        "external_id": expected.external_id,
        "mfa_serial": f"arn:aws:iam::{expected.account}:mfa/<YOUR_MFA_DEVICE_NAME>",
    }


def test_cli_profile_sets_the_users_own_name_as_source_identity_when_the_grant_requires_one():
    # The CLI's config has no source identity setting (boto/botocore#2486): the profile runs `aws sts assume-role`.
    run = run_stack("analytics")
    profile = cli_profile(run, "analytics-reader")
    expected = EXPECTED["analytics"]
    assert set(profile) == {"credential_process"}
    words = shlex.split(profile["credential_process"])
    assert words[:3] == ["aws", "sts", "assume-role"]
    options = dict(zip(words[3::2], words[4::2]))
    assert options == {
        "--profile": "analytics", "--role-arn": expected.role_arn, "--role-session-name": "<YOUR_IAM_USER_NAME>-cli",
        "--source-identity": "<YOUR_IAM_USER_NAME>", "--duration-seconds": "3600",
        "--external-id": expected.external_id, "--output": "json", "--query": CREDENTIAL_PROCESS_QUERY}


def test_cli_profile_follows_the_grants_session_length_and_mfa():
    run = run_stack("dev", prod=with_grant(prod_outputs(), "dev-writer", maxSessionDuration=7200, mfaRequired=False))
    profile = cli_profile(run, "dev-writer")
    assert profile["duration_seconds"] == "7200"
    assert "mfa_serial" not in profile


# --- any other stack, any workload --------------------------------------------------------------------------------


def test_any_stack_name_but_prod_is_a_consumer(analytics_config):
    run = run_stack("staging", analytics_config)
    assert function_of(run)["handler"] == "lambda_handler.reader_handler.lambda_handler"
    assert not run.cloud.of_type("aws:s3/bucket:Bucket")
    assert "--profile staging " in cli_profile(run, "analytics-reader")["credential_process"]


def test_a_consumer_without_a_workload_creates_only_the_group(dev_config):
    run = run_stack("dev", dev_config | {f"{NS}workload": "none"})
    types = {r.typ for r in run.cloud.resources}
    assert not types & {FUNCTION, ROLE, "aws:cloudwatch/logGroup:LogGroup", ROLE_POLICY}
    assert {"functionName", "functionArn", "executionRoleArn"}.isdisjoint(run.exports)
    assert {s["Resource"] for s in assume_statements(run)} == {prod_outputs()["grants"]["dev-writer"]["roleArn"]}
    assert run.export("roleArn") == prod_outputs()["grants"]["dev-writer"]["roleArn"]


def test_every_consumer_resource_is_inside_a_component(consumer):
    expected, run = consumer
    top = {r.typ for r in run.cloud.resources if r.parent is None}
    assert top == {"pulumi:pulumi:StackReference", "cross-account-s3:compute:GrantFunction",
                   "cross-account-s3:access:AssumeGroup"}
    assert run.cloud.one("cross-account-s3:compute:GrantFunction").name == expected.workload


def test_bad_config_fails_the_program_naming_the_key(dev_config):
    with pytest.raises(ConfigError, match="cross-account-s3:lambdaTimeout: expected seconds from 1 to 900"):
        run_stack("dev", dev_config | {f"{NS}lambdaTimeout": "0"})
