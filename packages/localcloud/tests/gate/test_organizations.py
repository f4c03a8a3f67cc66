"""AWS Organizations membership as IAM sees it, through the gate: an organization's ID and paths in the requests of
its members' principals, trust policies that guard on them, and DescribeOrganization.

The cloud of this module: prod is the management account (directly under the root), dev is in the OU
ou-a1b2-teamdata1 under ou-a1b2-workloads, and other is an account of the cloud outside the organization.

Pages: IAM User Guide reference_policies_condition-keys.html (aws:PrincipalOrgID, aws:PrincipalOrgPaths, and
their availability: only for principals of member accounts); reference_policies_multi-value-conditions.html
(ForAnyValue); Organizations API reference API_DescribeOrganization.html (the answer, AccessDeniedException,
AWSOrganizationsNotInUseException).
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from localcloud import evaluator, moto_adapter
from localcloud.lambda_runtime import ROLE_NOT_ASSUMABLE, LambdaRuntime
from localcloud.organizations import Organization
from localcloud.server import LocalCloud
from localcloud_testing.builders import DEV, OTHER, PROD, Builder, allow, trust, unique

ORG = "o-a1b2c3d4e5"
ROOT = "r-a1b2"
WORKLOADS = "ou-a1b2-workloads"
TEAM = "ou-a1b2-teamdata1"
DEV_PATH = f"{ORG}/{ROOT}/{WORKLOADS}/{TEAM}/"
PROD_PATH = f"{ORG}/{ROOT}/"
ASSUME_ANY_ROLE = allow("sts:AssumeRole", "*")


@pytest.fixture(scope="module")
def cloud_accounts() -> dict[str, str]:
    return {"prod": PROD, "dev": DEV, "other": OTHER}


@pytest.fixture(scope="module")
def cloud_organization() -> Organization:
    return Organization(ORG, PROD, {DEV: (WORKLOADS, TEAM)})


def error_of(raised: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int]:
    error = raised.value.response["Error"]
    status = raised.value.response["ResponseMetadata"]["HTTPStatusCode"]
    return str(error["Code"]), str(error.get("Message", "")), status


def sessions_of(role_arn: str) -> int:
    return sum(1 for _, arn in moto_adapter.assumed_role_sessions() if arn == role_arn)


def guarded_role(build: Builder, condition: Mapping[str, Any]) -> str:
    """A prod role whose trust policy lets any principal assume it, under ``condition`` (the usual way to trust
    "every principal of our organization": reference_policies_condition-keys.html, aws:PrincipalOrgID)."""
    return build.role("prod", [trust("*", Condition=condition)])


def assumer(build: Builder, account: str) -> tuple[str, dict[str, str]]:
    """A user of ``account`` whose identity policy allows assuming any role (the trust policy then decides);
    returns its ARN and credentials."""
    name, credentials = build.user(account, [ASSUME_ANY_ROLE])
    return f"arn:aws:iam::{build.cloud.account_id(account)}:user/{name}", credentials


def test_an_org_id_trust_lets_a_member_accounts_user_and_role_session_assume(build: Builder) -> None:
    """reference_policies_condition-keys.html, aws:PrincipalOrgID: a member account's principals carry the ID,
    role sessions as much as users; cross-account, the caller's identity policy allows too
    (reference_policies_evaluation-logic-cross-account.html)."""
    role_arn = guarded_role(build, {"StringEquals": {"aws:PrincipalOrgID": ORG}})
    _, user = assumer(build, "dev")
    dev_role = build.role("dev", [trust({"AWS": f"arn:aws:iam::{DEV}:root"})], permissions=[ASSUME_ANY_ROLE])
    session = build.assume(dev_role, credentials=user)

    build.assume(role_arn, credentials=user)
    build.assume(role_arn, credentials=session)

    assert sessions_of(role_arn) == 2


def test_an_org_id_trust_refuses_an_outsider_accounts_principal_and_records_the_denial(
    cloud: LocalCloud, build: Builder
) -> None:
    """reference_policies_condition-keys.html, aws:PrincipalOrgID: "included in the request context only if the
    principal is a member of an organization"; a missing key makes StringEquals false
    (reference_policies_elements_condition_operators.html), so the trust policy allows nothing."""
    role_arn = guarded_role(build, {"StringEquals": {"aws:PrincipalOrgID": ORG}})
    outsider_arn, outsider = assumer(build, "other")

    with pytest.raises(ClientError) as raised:
        build.assume(role_arn, credentials=outsider)

    assert error_of(raised)[0] == "AccessDenied"
    assert sessions_of(role_arn) == 0
    assert cloud.gate is not None
    decision = cloud.gate.decisions_for("sts:AssumeRole")[-1]
    assert (decision.principal, decision.resource, decision.allowed) == (outsider_arn, role_arn, False)


def test_org_paths_with_for_any_value_string_like_decide_by_ou(build: Builder) -> None:
    """reference_policies_condition-keys.html, aws:PrincipalOrgPaths: ``o-ID/r-ID/ou-ID/*`` with
    ForAnyValue:StringLike matches accounts in that OU or any OU under it; the management account, directly under
    the root, is not in it; an outsider has no path at all."""
    in_workloads = [f"{ORG}/{ROOT}/{WORKLOADS}/*"]
    role_arn = guarded_role(build, {"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": in_workloads}})
    _, dev_user = assumer(build, "dev")

    build.assume(role_arn, credentials=dev_user)
    for account in ("prod", "other"):
        with pytest.raises(ClientError) as raised:
            build.assume(role_arn, credentials=assumer(build, account)[1])
        assert error_of(raised)[0] == "AccessDenied", account
    assert sessions_of(role_arn) == 1


def test_an_org_path_ends_in_a_slash_after_the_accounts_own_parent(build: Builder) -> None:
    """reference_policies_condition-keys.html, aws:PrincipalOrgPaths: ForAnyValue:StringEquals on
    ``o-ID/r-ID/ou-.../ou-ID/`` matches accounts attached directly to that OU, not to its children; the
    management account's path is the root's, ``o-ID/r-ID/``."""
    exact = {"ForAnyValue:StringEquals": {"aws:PrincipalOrgPaths": [DEV_PATH]}}
    root_only = {"ForAnyValue:StringEquals": {"aws:PrincipalOrgPaths": [PROD_PATH]}}
    parent_only = {"ForAnyValue:StringEquals": {"aws:PrincipalOrgPaths": [f"{ORG}/{ROOT}/{WORKLOADS}/"]}}
    dev_role, prod_role, parent_role = (guarded_role(build, c) for c in (exact, root_only, parent_only))
    _, dev_user = assumer(build, "dev")
    _, prod_user = assumer(build, "prod")

    build.assume(dev_role, credentials=dev_user)
    build.assume(prod_role, credentials=prod_user)
    for role_arn, credentials in ((dev_role, prod_user), (prod_role, dev_user), (parent_role, dev_user)):
        with pytest.raises(ClientError):
            build.assume(role_arn, credentials=credentials)


def test_describe_organization_answers_a_member_with_the_clouds_organization(cloud: LocalCloud) -> None:
    """API_DescribeOrganization.html: "You can call this operation from any account in a organization"; the
    Organization structure as botocore's model has it (boto3 parses it)."""
    expected = {
        "Id": ORG,
        "Arn": f"arn:aws:organizations::{PROD}:organization/{ORG}",
        "FeatureSet": "ALL",
        "MasterAccountArn": f"arn:aws:organizations::{PROD}:account/{ORG}/{PROD}",
        "MasterAccountId": PROD,
        "MasterAccountEmail": f"{PROD}@example.com",
        "AvailablePolicyTypes": [],
    }
    for account in ("dev", "prod"):
        assert cloud.client("organizations", account).describe_organization()["Organization"] == expected


def test_describe_organization_answers_an_outsider_not_in_use(cloud: LocalCloud) -> None:
    """API_DescribeOrganization.html, Errors: AWSOrganizationsNotInUseException, "Your account is not a member of
    an organization." (HTTP 400), for a caller whose identity policy allows the call."""
    client = cloud.client("organizations", "other")
    with pytest.raises(client.exceptions.AWSOrganizationsNotInUseException) as raised:
        client.describe_organization()
    assert error_of(raised) == ("AWSOrganizationsNotInUseException",
                                "Your account is not a member of an organization.", 400)


def test_describe_organization_needs_an_identity_allow(cloud: LocalCloud, build: Builder) -> None:
    """API_DescribeOrganization.html, Errors: AccessDeniedException; the gate authorizes
    organizations:DescribeOrganization on "*" (Service Authorization Reference, AWS Organizations: the action has
    no resource type) like any other request, and records the denial."""
    name, credentials = build.user("dev", [allow("s3:ListAllMyBuckets", "*")])
    user_arn = f"arn:aws:iam::{DEV}:user/{name}"

    with pytest.raises(ClientError) as raised:
        cloud.client("organizations", credentials=credentials).describe_organization()

    assert error_of(raised) == ("AccessDeniedException", f"User: {user_arn} is not authorized to perform: "
                                "organizations:DescribeOrganization on resource: * because no identity-based policy "
                                "allows the organizations:DescribeOrganization action", 400)
    assert cloud.gate is not None
    decision = cloud.gate.decisions_for("organizations:DescribeOrganization")[-1]
    assert (decision.principal, decision.allowed) == (user_arn, False)


@pytest.mark.parametrize(("account", "operation", "kwargs"), [
    ("dev", "list_accounts", {}),
    ("other", "create_organization", {"FeatureSet": "ALL"}),
])
def test_other_organizations_operations_are_refused_by_name(
    cloud: LocalCloud, account: str, operation: str, kwargs: dict[str, Any]
) -> None:
    """localcloud answers only DescribeOrganization: moto's own Organizations backend would answer for an
    organization other than the cloud's (or create one that no aws:PrincipalOrgID reflects)."""
    client = cloud.client("organizations", account)
    with pytest.raises(ClientError) as raised:
        getattr(client, operation)(**kwargs)

    code, message, status = error_of(raised)
    assert (code, status) == ("NotImplemented", 501)
    assert client.meta.method_to_api_mapping[operation] in message
    other = cloud.client("organizations", "other")
    with pytest.raises(other.exceptions.AWSOrganizationsNotInUseException):
        other.describe_organization()  # still outside: nothing was created


# --- a service principal -----------------------------------------------------------------------------------------

DESCRIBE_ORGANIZATION_HANDLER = """
import boto3

def handler(event, context):
    return boto3.client("organizations").describe_organization()["Organization"]["Id"]
"""


Asked = list[evaluator.AccessRequest]  # what Lambda's assumptions of execution roles asked the evaluator


@pytest.fixture
def asked(cloud: LocalCloud, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Asked]:
    """A Lambda runtime as the cloud's invoker (the module's cloud has none), recording what its assumption of each
    execution role asks the evaluator."""
    asked: Asked = []

    def recording(request: evaluator.AccessRequest) -> evaluator.Decision:
        asked.append(request)
        return evaluator.evaluate(request)

    assert cloud.gate is not None
    with LambdaRuntime(cloud.endpoint, str(cloud.ca_bundle), tmp_path / "logs", evaluate=recording) as running:
        monkeypatch.setattr(cloud.gate, "invoker", running.invoke)
        yield asked


def _function(cloud: LocalCloud, build: Builder, trust_condition: Mapping[str, Any]) -> str:
    role_arn = build.role("dev", [trust({"Service": "lambda.amazonaws.com"}, Condition=trust_condition)],
                          permissions=[allow("organizations:DescribeOrganization", "*")])
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("handler.py", DESCRIBE_ORGANIZATION_HANDLER)
    name = unique("fn")
    cloud.client("lambda", "dev").create_function(FunctionName=name, Runtime="python3.12", Role=role_arn,
                                                  Handler="handler.handler", Code={"ZipFile": code.getvalue()})
    return name


def test_lambda_assuming_an_execution_role_carries_no_org_keys_but_the_session_does(
    cloud: LocalCloud, build: Builder, asked: Asked
) -> None:
    """reference_policies_condition-keys.html, aws:PrincipalOrgID: only a member account's principals carry it;
    lambda.amazonaws.com, a service principal, is no account's (reference_policies_elements_principal.html,
    "AWS service principals"), so a ``Null: true`` guard holds when Lambda assumes the role. The session it gets
    is the dev role's, a member's principal: its DescribeOrganization call sees the organization."""
    name = _function(cloud, build, {"Null": {"aws:PrincipalOrgID": "true", "aws:PrincipalOrgPaths": "true"}})

    answer = cloud.client("lambda", "dev").invoke(FunctionName=name, Payload=b"{}")

    assert "FunctionError" not in answer, answer["Payload"].read()
    assert json.loads(answer["Payload"].read()) == ORG
    [request] = asked
    assert request.caller.kind == "service"
    assert not {key.lower() for key in request.context} & {"aws:principalorgid", "aws:principalorgpaths"}


def test_an_org_id_guard_on_a_service_trust_keeps_lambda_out(cloud: LocalCloud, build: Builder, asked: Asked) -> None:
    """The other side of the same rule: StringEquals aws:PrincipalOrgID is false for a service principal (the key
    is missing), so Lambda cannot assume the role (API_Invoke.html: InvalidParameterValueException)."""
    name = _function(cloud, build, {"StringEquals": {"aws:PrincipalOrgID": ORG}})

    with pytest.raises(ClientError) as raised:
        cloud.client("lambda", "dev").invoke(FunctionName=name, Payload=b"{}")

    assert error_of(raised)[:2] == ("InvalidParameterValueException", ROLE_NOT_ASSUMABLE)
    assert [request.caller.kind for request in asked] == ["service"]
