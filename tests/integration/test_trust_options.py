"""The trust options of a grant (README "Trust options"), each allowing what it should and refusing what it should,
and every refusal also checked to have written nothing.

- Session tags (``allowSessionTags``): dev-writer lets its workloads pass the tag key ``function`` only (its people
  none); the writer tags its session with its function name, and a condition on that tag tells it from a person.
- A source identity (``sourceIdentity``): dev-writer's principals may set one; analytics-reader's must, a person
  their own user name; a grant with ``none`` refuses one.
- Revocation (``revokeSessionsIssuedBefore``) and suspension (``suspended``): one role policy each, added and removed
  by a deploy of prod.
- On the consumer side: the principals' own assume permission requires the external ID, and the functions'
  execution roles trust Lambda on behalf of their own account only (aws:SourceAccount).

The organization guard (``principalOrgId``) needs an account outside the organization: test_organization_guard.
Each test undoes what it changes, so none depends on another's order.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Callable, Generator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from lambda_handler.config import session_name
from localcloud.lambda_runtime import ROLE_NOT_ASSUMABLE
from localcloud.principals import RoleSessionInfo
from localcloud_pulumi.workspace import Workspace
from offline.stacks import CONSUMERS, DATA_STACK
from tests.integration.conftest import (
    GRANT_OF,
    READER_STACK,
    WRITER_STACK,
    DeployedGrant,
    assert_denied,
    assume,
    execution_role_credentials,
    function_event,
    invoke,
    invoke_consumer,
    prod_deployed_with,
    recycle_workers,
)
from tests.project import stack_config

pytestmark = pytest.mark.integration

GRANTS = list(GRANT_OF.values())
FUNCTION_TAG = "function"  # the one key dev-writer allows (Pulumi.prod.yaml), components/grant_function.py's


# ---------------------------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------------------------


def session_of(workspace: Workspace, access_key_id: str) -> RoleSessionInfo:
    """What a role session carries (its tags, its source identity), as the cloud recorded it when STS issued it."""
    gate = workspace.cloud.gate
    assert gate is not None
    info = gate.registry.role_session(access_key_id)
    assert info is not None, f"no role session {access_key_id}"
    return info


def function_session(workspace: Workspace, stack: str, grant: DeployedGrant) -> RoleSessionInfo:
    """The session of the grant's role that the consumer's function used last: the one that signed its latest
    request the gate allowed."""
    gate = workspace.cloud.gate
    assert gate is not None
    principal = f":assumed-role/{grant.role_name}/{session_name(workspace.output(stack, 'functionName'))}"
    for decision in reversed(list(gate.decisions)):
        if decision.allowed and decision.principal.endswith(principal) and decision.access_key_id:
            return session_of(workspace, decision.access_key_id)
    raise AssertionError(f"no request of {principal} was allowed")


def readable(prod_s3: Any, bucket: str, grant: DeployedGrant) -> str:
    """A key under the grant's prefix that the prod deployer put there, to read."""
    key = grant.key()
    prod_s3.put_object(Bucket=bucket, Key=key, Body=b"to read")
    return key


def use(s3: Any, bucket: str, grant: DeployedGrant, existing: str) -> Any:
    """What the grant is for, once: write a fresh key under its prefix, or read ``existing``."""
    if grant.writes:
        return s3.put_object(Bucket=bucket, Key=grant.key(), Body=b"x")
    return s3.get_object(Bucket=bucket, Key=existing)["Body"].read()


def s3_of(workspace: Workspace, credentials: dict[str, str]) -> Any:
    return workspace.cloud.client("s3", credentials=credentials)


@contextlib.contextmanager
def inline_policy(iam: Any, kind: str, name: str, document: dict[str, Any]) -> Generator[None]:
    """An inline policy on a role or user (``kind``) for the block, removed afterwards."""
    target = {"RoleName" if kind == "role" else "UserName": name}
    policy_name = f"test-{uuid.uuid4().hex[:8]}"
    getattr(iam, f"put_{kind}_policy")(PolicyName=policy_name, PolicyDocument=json.dumps(document), **target)
    try:
        yield
    finally:
        getattr(iam, f"delete_{kind}_policy")(PolicyName=policy_name, **target)


def policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def trust_of(iam: Any, role_name: str) -> dict[str, Any]:
    document = iam.get_role(RoleName=role_name)["Role"]["AssumeRolePolicyDocument"]
    return json.loads(document) if isinstance(document, str) else document


@contextlib.contextmanager
def trust_replaced(iam: Any, role_name: str, change: Callable[[dict[str, Any]], dict[str, Any]]) -> Generator[None]:
    """The role's trust policy as ``change`` makes it of the deployed one, for the block; then the deployed one."""
    saved = trust_of(iam, role_name)
    iam.update_assume_role_policy(RoleName=role_name, PolicyDocument=json.dumps(change(json.loads(json.dumps(saved)))))
    try:
        yield
    finally:
        iam.update_assume_role_policy(RoleName=role_name, PolicyDocument=json.dumps(saved))


def user_of(workspace: Workspace, stack: str) -> str:
    return workspace.output(stack, "assumeGroupUserArns")[0].split("/")[-1]


def tags(**values: str) -> list[dict[str, str]]:
    return [{"Key": key, "Value": value} for key, value in values.items()]


# ---------------------------------------------------------------------------------------------------------------
# Session tags. id_session-tags.html ("Passing session tags using AssumeRole", "Permissions required to add
# session tags": sts:TagSession in the role's trust and, across accounts, in the caller's policy);
# reference_policies_condition-keys.html#condition-keys-tagkeys and reference_policies_condition-single-vs-multi-
# valued-context-keys.html (ForAllValues: every key passed must be listed).
# ---------------------------------------------------------------------------------------------------------------


def test_the_writer_tags_its_grant_session_with_its_function_name(workspace, dev_writer: DeployedGrant, prod_s3,
                                                                  bucket):
    status, body = invoke_consumer(workspace, WRITER_STACK, function_event(prod_s3, bucket, dev_writer))
    assert status == 200, body
    session = function_session(workspace, WRITER_STACK, dev_writer)
    assert dict(session.tags) == {FUNCTION_TAG: workspace.output(WRITER_STACK, "functionName")}


def test_a_condition_on_the_function_tag_lets_the_writer_write_and_refuses_an_untagged_person(
        workspace, dev_writer: DeployedGrant, role_session, prod_s3, bucket, bucket_unchanged):
    """The tag decides (reference_policies_condition-keys.html#condition-keys-principaltag: a session tag is the
    session's aws:PrincipalTag): with a Deny on the grant's role for sessions whose `function` tag is not the
    writer's, the writer still writes and a session of the same grant without the tag writes nothing."""
    function = workspace.output(WRITER_STACK, "functionName")
    only_the_writer = policy({"Effect": "Deny", "Action": "s3:PutObject", "Resource": "*",
                              "Condition": {"StringNotEquals": {f"aws:PrincipalTag/{FUNCTION_TAG}": function}}})
    person = role_session(dev_writer)  # no tags
    with inline_policy(workspace.cloud.client("iam", DATA_STACK), "role", dev_writer.role_name, only_the_writer):
        with bucket_unchanged():
            assert_denied(lambda: person.put_object(Bucket=bucket, Key=dev_writer.key(), Body=b"x"))
        status, body = invoke_consumer(workspace, WRITER_STACK, {"key": f"tests/{uuid.uuid4()}.txt", "body": "x"})
        assert status == 200, body
        assert prod_s3.get_object(Bucket=bucket, Key=body["key"])["Body"].read() == b"x"


def tagging_allowed(role_arn: str) -> dict[str, Any]:
    """An identity policy letting a person tag sessions of ``role_arn``, as their administrator might add it."""
    return policy({"Effect": "Allow", "Action": "sts:TagSession", "Resource": role_arn})


@pytest.mark.parametrize("passed", [tags(team="data"), tags(function="dev-user", team="data")],
                         ids=["unlisted-key", "listed-and-unlisted-keys"])
def test_the_writer_passing_a_tag_key_the_grant_does_not_list_is_refused(
        workspace, dev_writer: DeployedGrant, bucket_unchanged, passed):
    # The function's execution role may tag its sessions (its own policy allows sts:TagSession): the trust refuses.
    credentials = execution_role_credentials(workspace, WRITER_STACK)
    with bucket_unchanged():
        denied = assert_denied(lambda: assume(workspace, credentials, dev_writer, Tags=passed))
    assert "sts:TagSession" in denied.response["Error"]["Message"]
    tagged = assume(workspace, credentials, dev_writer, Tags=tags(function="cross-account-s3-writer"))
    assert dict(session_of(workspace, tagged["AccessKeyId"]).tags) == {FUNCTION_TAG: "cross-account-s3-writer"}


def test_a_person_cannot_tag_their_session_as_the_function_even_when_their_account_allows_it(
        workspace, dev_writer: DeployedGrant, user_credentials, bucket_unchanged):
    """Only the grant's workloads may pass session tags: a person tagging their session function=<the writer>
    would pass every condition on aws:PrincipalTag/function (components/policies.py trust_policy_for)."""
    person = user_of(workspace, WRITER_STACK)
    with inline_policy(workspace.cloud.client("iam", WRITER_STACK), "user", person,
                       tagging_allowed(dev_writer.role_arn)), bucket_unchanged():
        denied = assert_denied(lambda: assume(workspace, user_credentials(WRITER_STACK), dev_writer,
                                              Tags=tags(function=workspace.output(WRITER_STACK, "functionName"))))
    assert "sts:TagSession" in denied.response["Error"]["Message"]
    assume(workspace, user_credentials(WRITER_STACK), dev_writer)  # without tags: the same call works


def test_a_grant_without_session_tags_refuses_any_even_when_the_callers_account_allows_them(
        workspace, analytics_reader: DeployedGrant, user_credentials, bucket_unchanged):
    analyst = user_of(workspace, READER_STACK)
    with inline_policy(workspace.cloud.client("iam", READER_STACK), "user", analyst,
                       tagging_allowed(analytics_reader.role_arn)), \
            bucket_unchanged():
        denied = assert_denied(lambda: assume(workspace, user_credentials(READER_STACK), analytics_reader,
                                              Tags=tags(function="analyst")))
    assert "sts:TagSession" in denied.response["Error"]["Message"]
    assume(workspace, user_credentials(READER_STACK), analytics_reader)  # without tags: the same call works


# ---------------------------------------------------------------------------------------------------------------
# A source identity. id_credentials_temp_control-access_monitor.html ("Permissions required to set source
# identity": sts:SetSourceIdentity in the role's trust and, across accounts, in the caller's policy; the
# sts:SourceIdentity key, compared here with ${aws:username}: reference_policies_variables.html).
# ---------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("source_identity", [None, "bob"], ids=["none", "another-users-name"])
def test_a_person_of_a_grant_requiring_a_source_identity_is_refused_without_their_own_name(
        workspace, analytics_reader: DeployedGrant, user_credentials, bucket_unchanged, source_identity):
    assert analytics_reader.source_identity == "required"
    with bucket_unchanged():
        assert_denied(lambda: assume(workspace, user_credentials(READER_STACK), analytics_reader,
                                     source_identity=source_identity))


def test_a_person_of_a_grant_requiring_a_source_identity_may_set_their_own_name(
        workspace, analytics_reader: DeployedGrant, user_credentials, prod_s3, bucket):
    analyst = user_of(workspace, READER_STACK)
    credentials = assume(workspace, user_credentials(READER_STACK), analytics_reader, source_identity=analyst)
    assert session_of(workspace, credentials["AccessKeyId"]).source_identity == analyst
    key = readable(prod_s3, bucket, analytics_reader)
    assert s3_of(workspace, credentials).get_object(Bucket=bucket, Key=key)["Body"].read() == b"to read"


def test_the_reader_sets_its_function_name_as_source_identity(workspace, analytics_reader: DeployedGrant, prod_s3,
                                                             bucket):
    status, body = invoke_consumer(workspace, READER_STACK, function_event(prod_s3, bucket, analytics_reader))
    assert status == 200, body
    session = function_session(workspace, READER_STACK, analytics_reader)
    assert session.source_identity == workspace.output(READER_STACK, "functionName")


def test_the_profile_up_writes_for_a_grant_requiring_a_source_identity_names_its_user(
        workspace, aws_cli_environment, analytics_reader: DeployedGrant, prod_s3, bucket):
    """`aws --profile prod-analytics-reader ...` after `. .localcloud/env.sh`: a credential_process
    (cli-configure-sourcing-external.html) that assumes the role with the user's own name as source identity."""
    session = boto3.Session(profile_name=f"prod-{analytics_reader.name}")
    credentials = session.get_credentials()
    assert credentials is not None
    assert session_of(workspace, credentials.access_key).source_identity == user_of(workspace, READER_STACK)
    key = readable(prod_s3, bucket, analytics_reader)
    assert session.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read() == b"to read"


@pytest.mark.parametrize("source_identity", [None, "dev-user"], ids=["without", "with"])
def test_a_person_of_a_grant_allowing_a_source_identity_may_set_one_or_not(
        workspace, dev_writer: DeployedGrant, user_credentials, bucket, source_identity):
    assert dev_writer.source_identity == "allowed"
    credentials = assume(workspace, user_credentials(WRITER_STACK), dev_writer, source_identity=source_identity)
    assert session_of(workspace, credentials["AccessKeyId"]).source_identity == source_identity
    s3_of(workspace, credentials).put_object(Bucket=bucket, Key=dev_writer.key(), Body=b"x")


def test_the_writer_sets_its_function_name_as_source_identity_where_allowed(workspace, dev_writer: DeployedGrant,
                                                                           prod_s3, bucket):
    status, body = invoke_consumer(workspace, WRITER_STACK, function_event(prod_s3, bucket, dev_writer))
    assert status == 200, body
    session = function_session(workspace, WRITER_STACK, dev_writer)
    assert session.source_identity == workspace.output(WRITER_STACK, "functionName")


def test_a_grant_without_source_identity_refuses_one_even_when_the_callers_account_allows_it(
        workspace, dev_writer: DeployedGrant, user_credentials, bucket_unchanged):
    with prod_deployed_with(workspace, dev_writer.name, sourceIdentity="none") as changes:
        assert changes == [f"~ update aws:iam/role:Role {dev_writer.name}-role"]  # its trust, in place
        # dev is not redeployed: its group's policy still allows sts:SetSourceIdentity on the role.
        group = workspace.output(WRITER_STACK, "assumeGroupName")
        allowed = workspace.cloud.client("iam", WRITER_STACK).get_group_policy(
            GroupName=group, PolicyName="assume-grant-role")["PolicyDocument"]
        assert "sts:SetSourceIdentity" in json.dumps(allowed)
        with bucket_unchanged():
            denied = assert_denied(lambda: assume(workspace, user_credentials(WRITER_STACK), dev_writer,
                                                  source_identity="dev-user"))
        assert "sts:SetSourceIdentity" in denied.response["Error"]["Message"]
        assume(workspace, user_credentials(WRITER_STACK), dev_writer, source_identity=None)  # without one: works


# ---------------------------------------------------------------------------------------------------------------
# Revocation and suspension: role policies that deny, evaluated at each request of every session of the role
# (id_roles_use_revoke-sessions.html; reference_policies_evaluation-logic.html: an explicit Deny beats every Allow).
# ---------------------------------------------------------------------------------------------------------------


def test_revoking_a_grants_sessions_denies_those_issued_before_the_time_and_not_later_ones(
        workspace, dev_writer: DeployedGrant, role_session, prod_s3, bucket, bucket_unchanged, monkeypatch):
    gate = workspace.cloud.gate
    assert gate is not None
    # Before: the writer is warm and holds a session of the grant's role; a person holds one too.
    assert invoke_consumer(workspace, WRITER_STACK, function_event(prod_s3, bucket, dev_writer))[0] == 200
    person = role_session(dev_writer)
    person.put_object(Bucket=bucket, Key=dev_writer.key(), Body=b"x")
    now = datetime.now(UTC)  # after both sessions were issued; the program rounds it up to a whole second
    revoked_before = (now + timedelta(microseconds=999_999)).strftime("%Y-%m-%dT%H:%M:%SZ")

    with prod_deployed_with(workspace, dev_writer.name, revokeSessionsIssuedBefore=now.isoformat()) as changes:
        assert changes == [f"+ create aws:iam/rolePolicy:RolePolicy {dev_writer.name}-revoke-older-sessions"]
        deployed = workspace.cloud.client("iam", DATA_STACK).get_role_policy(
            RoleName=dev_writer.role_name, PolicyName="revoke-older-sessions")["PolicyDocument"]
        assert revoked_before in json.dumps(deployed)
        assume_calls = gate.calls["sts:AssumeRole"]
        with bucket_unchanged():
            assert_denied(lambda: person.put_object(Bucket=bucket, Key=dev_writer.key(), Body=b"x"))
            status, body = invoke_consumer(workspace, WRITER_STACK, {"key": f"tests/{uuid.uuid4()}.txt", "body": "x"})
            # The warm writer is refused with the session it holds, and does not assume again on a denial
            # (lambda_handler/role.py: only an expired token makes it); its answer says so.
            assert (status, body["error"]) == (403, "AccessDenied"), body
            assert gate.calls["sts:AssumeRole"] == assume_calls

        # aws:TokenIssueTime has whole seconds: rather than wait for the next one, the cloud's clock runs a second
        # ahead, so the sessions issued from here on are issued at or after the revocation time.
        real_clock = gate.clock
        monkeypatch.setattr(gate, "clock", lambda: real_clock() + timedelta(seconds=1))
        role_session(dev_writer).put_object(Bucket=bucket, Key=dev_writer.key(), Body=b"x")
        recycle_workers(workspace, WRITER_STACK)  # a fresh worker, which assumes the role anew
        status, body = invoke_consumer(workspace, WRITER_STACK, {"key": f"tests/{uuid.uuid4()}.txt", "body": "x"})
        assert status == 200, body


@pytest.mark.parametrize("name", GRANTS)
def test_a_suspended_grant_refuses_its_function_and_its_people_until_it_is_resumed(
        workspace, grant, role_session, prod_s3, bucket, bucket_unchanged, name):
    suspended: DeployedGrant = grant(name)
    existing = readable(prod_s3, bucket, suspended)
    # Each invocation its own event (the writer never overwrites a key), made before the checks (a reader's puts
    # the object it reads).
    warm, held, fresh, resumed = (function_event(prod_s3, bucket, suspended) for _ in range(4))
    assert invoke_consumer(workspace, suspended.consumer, warm)[0] == 200  # warm, with a session
    person = role_session(suspended)
    use(person, bucket, suspended, existing)

    with prod_deployed_with(workspace, name, suspended=True) as changes:
        assert changes == [f"+ create aws:iam/rolePolicy:RolePolicy {name}-suspended"]
        with bucket_unchanged():
            status, body = invoke_consumer(workspace, suspended.consumer, held)  # the session it holds
            assert (status, body["error"]) == (403, "AccessDenied"), body
            recycle_workers(workspace, suspended.consumer)
            status, body = invoke_consumer(workspace, suspended.consumer, fresh)  # a session issued now
            assert (status, body["error"]) == (403, "AccessDenied"), body
            assert_denied(lambda: use(person, bucket, suspended, existing))
            new_session = role_session(suspended)  # the role may still be assumed; the session may do nothing
            assert_denied(lambda: use(new_session, bucket, suspended, existing))

        assert workspace.deploy(DATA_STACK, stack_config(DATA_STACK)) == [
            f"- delete aws:iam/rolePolicy:RolePolicy {name}-suspended"]
        assert invoke_consumer(workspace, suspended.consumer, resumed)[0] == 200
        use(person, bucket, suspended, existing)  # the session issued before the suspension, too


# ---------------------------------------------------------------------------------------------------------------
# The external ID on the consumer side: the consumer's own assume permission requires it too
# (id_roles_common-scenarios_third-party.html, id_roles_create_for-user_externalid.html; the sts:ExternalId key in
# reference_policies_iam-condition-keys.html). With the grant's trust widened not to require it, the consumer's own
# policy alone refuses an assume without it; the controls show the widened trust would take it.
# ---------------------------------------------------------------------------------------------------------------


def without_external_id(trust: dict[str, Any]) -> dict[str, Any]:
    """The trust policy, no statement requiring sts:ExternalId."""
    for statement in trust["Statement"]:
        for keys in statement.get("Condition", {}).values():
            keys.pop("sts:ExternalId", None)
    return trust


def assume_allowed_without_external_id(role_arn: str) -> dict[str, Any]:
    return policy({"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": role_arn})


@pytest.fixture(params=CONSUMERS)
def consumer_grant(request: pytest.FixtureRequest, grant: Callable[[str], DeployedGrant]) -> DeployedGrant:
    return grant(GRANT_OF[request.param])


@pytest.fixture
def trust_without_external_id(workspace: Workspace, consumer_grant: DeployedGrant) -> Generator[None]:
    """The grant's trust policy, for the test, not requiring the external ID."""
    assert consumer_grant.external_id is not None
    with trust_replaced(workspace.cloud.client("iam", DATA_STACK), consumer_grant.role_name, without_external_id):
        yield


def test_a_consumers_user_is_refused_without_the_external_id_by_their_own_policy(
        workspace, consumer_grant: DeployedGrant, user_credentials, trust_without_external_id, bucket_unchanged):
    credentials = user_credentials(consumer_grant.consumer)
    with bucket_unchanged():
        assert_denied(lambda: assume(workspace, credentials, consumer_grant, external_id=None))
    assume(workspace, credentials, consumer_grant)  # with the ID: works
    user = user_of(workspace, consumer_grant.consumer)
    with inline_policy(workspace.cloud.client("iam", consumer_grant.consumer), "user", user,
                       assume_allowed_without_external_id(consumer_grant.role_arn)):
        assume(workspace, credentials, consumer_grant, external_id=None)  # the widened trust takes it


@contextlib.contextmanager
def function_without_external_id(workspace: Workspace, stack: str) -> Generator[None]:
    """The consumer's function configured without the grant's external ID (fresh workers), then as deployed."""
    lam = workspace.cloud.client("lambda", stack)
    function = workspace.output(stack, "functionName")
    saved = lam.get_function_configuration(FunctionName=function)["Environment"]["Variables"]
    lam.update_function_configuration(FunctionName=function, Environment={"Variables": {
        name: value for name, value in saved.items() if name != "EXTERNAL_ID"}})
    try:
        yield
    finally:
        lam.update_function_configuration(FunctionName=function, Environment={"Variables": saved})


def test_a_consumers_function_is_refused_without_the_external_id_by_its_own_policy(
        workspace, consumer_grant: DeployedGrant, trust_without_external_id, prod_s3, bucket, bucket_unchanged):
    stack = consumer_grant.consumer
    event = function_event(prod_s3, bucket, consumer_grant)
    with function_without_external_id(workspace, stack):
        with bucket_unchanged():
            status, body = invoke_consumer(workspace, stack, event)
        assert (status, body["error"]) == (403, "AccessDenied"), body
        assert consumer_grant.role_arn in body["message"]  # refused at the assume
        execution_role = workspace.output(stack, "executionRoleArn").split("/")[-1]
        with inline_policy(workspace.cloud.client("iam", stack), "role", execution_role,
                           assume_allowed_without_external_id(consumer_grant.role_arn)):
            recycle_workers(workspace, stack)
            status, body = invoke_consumer(workspace, stack, event)  # the widened trust takes it
            assert status == 200, body


# ---------------------------------------------------------------------------------------------------------------
# The execution role trusts Lambda on behalf of the consumer's own account only (confused-deputy.html,
# "Cross-service confused deputy prevention"; lambda-intro-execution-role.html).
# ---------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", CONSUMERS)
def test_a_functions_execution_role_trusts_lambda_on_behalf_of_its_own_account_only(workspace, grant, prod_s3,
                                                                                    bucket, stack):
    iam = workspace.cloud.client("iam", stack)
    [statement] = trust_of(iam, workspace.output(stack, "executionRoleArn").split("/")[-1])["Statement"]
    assert statement["Principal"] == {"Service": "lambda.amazonaws.com"}
    assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": workspace.cloud.account_id(stack)}}
    status, body = invoke_consumer(workspace, stack, function_event(prod_s3, bucket, grant(GRANT_OF[stack])))
    assert status == 200, body


def on_behalf_of(account: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def change(trust: dict[str, Any]) -> dict[str, Any]:
        for statement in trust["Statement"]:
            statement["Condition"]["StringEquals"]["aws:SourceAccount"] = account
        return trust
    return change


@pytest.mark.parametrize("stack", CONSUMERS)
def test_a_function_whose_execution_role_trusts_lambda_for_another_account_does_not_start(
        workspace, grant, prod_s3, bucket, bucket_unchanged, stack):
    iam = workspace.cloud.client("iam", stack)
    execution_role = workspace.output(stack, "executionRoleArn").split("/")[-1]
    function = workspace.output(stack, "functionName")
    event = function_event(prod_s3, bucket, grant(GRANT_OF[stack]))
    try:
        with trust_replaced(iam, execution_role, on_behalf_of(workspace.cloud.account_id(DATA_STACK))):
            recycle_workers(workspace, stack)  # a cold start: Lambda assumes the execution role
            with bucket_unchanged():
                refused = assert_denied(lambda: invoke(workspace.cloud.client("lambda", stack), function, event),
                                        code="InvalidParameterValueException")
            assert refused.response["Error"]["Message"] == ROLE_NOT_ASSUMABLE
    finally:
        recycle_workers(workspace, stack)
    assert invoke_consumer(workspace, stack, event)[0] == 200  # its own account again
