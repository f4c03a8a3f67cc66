"""Where the integration tests run: a fresh localcloud with every committed stack deployed (prod first, then the
consumers), or, with `pytest -m live`, the stacks deployed in real AWS.

The tests taking `deployment` talk to either with plain boto3 clients; only the set-up (and the admin changes a
denial case makes and undoes, offline only) knows which it is.

Offline, one cloud serves the whole package (deploying is most of the suite's time). A module that needs a cloud
of its own (prod deployed with other grants, or one its tests break on purpose) marks itself
`own_cloud(CloudSpec(...))`: pytest then tears the shared cloud down and starts that module's (moto's state is one
per process, so there is one cloud at a time), and starts the shared one again for the next module that needs it.

Live (`pytest -m live`), the interface is the environment (.github/workflows/integration.yml sets it):

    LIVE_PROD_OUTPUTS      path to `pulumi stack output --json --show-secrets` of prod
    LIVE_PROD_PROFILE      an AWS profile of prod that may read, list and delete under the writer's prefix
    LIVE_<STACK>_OUTPUTS   the same of each consumer stack: LIVE_DEV_OUTPUTS, LIVE_ANALYTICS_OUTPUTS
    LIVE_<STACK>_PROFILE   an AWS profile of that consumer's account that may invoke its function

<STACK> is the stack's name upper-cased, anything but a letter or digit as "_". Without prod's two every live
test is skipped; without a consumer's two, only the tests that use that consumer are, naming what is missing.
"""

from __future__ import annotations

import configparser
import contextlib
import json
import os
import re
import time
import uuid
from collections.abc import Callable, Generator, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import boto3
import pytest
from botocore.exceptions import ClientError

from localcloud_pulumi.workspace import Workspace
from offline import stacks
from offline.profiles import write_project_profiles
from offline.stacks import CONSUMERS, DATA_STACK
from tests.project import stack_config

T = TypeVar("T")


def live_variables(stack: str) -> tuple[str, str]:
    """The two variables that describe one deployed stack in live mode: its outputs file and a profile."""
    name = re.sub(r"[^A-Za-z0-9]", "_", stack).upper()
    return f"LIVE_{name}_OUTPUTS", f"LIVE_{name}_PROFILE"


LIVE_VARIABLES = tuple(variable for stack in (DATA_STACK, *CONSUMERS) for variable in live_variables(stack))
# Which grant each consumer stack uses, from its committed config (prod decides what the grant is).
GRANT_OF = {stack: stack_config(stack)["cross-account-s3:grant"] for stack in CONSUMERS}
WRITER_STACK, READER_STACK = "dev", "analytics"


# ---------------------------------------------------------------------------------------------------------------
# The deployment, offline or live
# ---------------------------------------------------------------------------------------------------------------


@dataclass
class Deployment:
    """The stacks' outputs; a prod identity that may read, list and delete objects, and per consumer an identity
    of its account that may invoke its function."""

    prod: Mapping[str, Any]
    consumers: Mapping[str, Mapping[str, Any]]  # stack -> outputs, for the consumers this deployment has
    sessions: Mapping[str, boto3.Session]  # DATA_STACK and each consumer in `consumers`
    missing: Mapping[str, str] = field(default_factory=dict)  # consumer -> why it is not here (live mode)
    client_args: Mapping[str, Any] = field(default_factory=dict)  # endpoint and CA bundle for localcloud
    # Real IAM is eventually consistent: retry a denied first call a few times there, never offline.
    retry_delays: tuple[float, ...] = ()

    def consumer(self, stack: str) -> Mapping[str, Any]:
        """A consumer's outputs; the test is skipped when this deployment has no such consumer."""
        if stack not in self.consumers:
            pytest.skip(self.missing.get(stack, f"no consumer stack {stack!r} in this deployment"))
        return self.consumers[stack]

    def grant(self, stack: str) -> Mapping[str, Any]:
        """The grant a consumer uses, as prod exports it (roleArn, keyPrefix, access, ...)."""
        return self.prod["grants"][self.consumer(stack)["grant"]]

    def lambda_client(self, stack: str) -> Any:
        self.consumer(stack)
        return self.sessions[stack].client("lambda", **self.client_args)

    def s3(self) -> Any:
        return self.sessions[DATA_STACK].client("s3", **self.client_args)

    def invoke(self, stack: str, event: Any) -> tuple[dict[str, Any], str | None]:
        """The consumer's function invoked with ``event``; retried while IAM settles (live only)."""
        client = self.lambda_client(stack)
        return self.eventually(lambda: invoke(client, self.consumer(stack)["functionName"], event),
                               lambda outcome: outcome[0].get("statusCode") != 403)

    def eventually(self, attempt: Callable[[], T], done: Callable[[T], bool]) -> T:
        result = attempt()
        for delay in self.retry_delays:
            if done(result):
                break
            time.sleep(delay)
            result = attempt()
        return result


@pytest.fixture(scope="module", params=["localcloud", pytest.param("live", marks=pytest.mark.live)])
def deployment(request: pytest.FixtureRequest) -> Deployment:
    if request.param == "live":
        return _live_deployment()
    workspace: Workspace = request.getfixturevalue("workspace")
    outputs = {stack: {name: out.value for name, out in workspace.outputs[stack].items()}
               for stack in workspace.outputs}
    args = {"endpoint_url": workspace.cloud.endpoint, "verify": str(workspace.cloud.ca_bundle)}
    return Deployment(outputs[DATA_STACK], {stack: outputs[stack] for stack in CONSUMERS},
                      {stack: workspace.cloud.session(stack) for stack in (DATA_STACK, *CONSUMERS)},
                      client_args=args)


def _live_deployment() -> Deployment:
    outputs_variable, profile_variable = live_variables(DATA_STACK)
    missing = [name for name in (outputs_variable, profile_variable) if not os.environ.get(name)]
    if missing:
        pytest.skip(f"live mode targets real AWS and needs {outputs_variable} and {profile_variable}, and per "
                    f"consumer LIVE_<STACK>_OUTPUTS and LIVE_<STACK>_PROFILE (missing: {', '.join(missing)}); "
                    "see tests/integration/conftest.py and docs/ci.md")
    consumers: dict[str, Mapping[str, Any]] = {}
    sessions = {DATA_STACK: boto3.Session(profile_name=os.environ[profile_variable])}
    absent: dict[str, str] = {}
    for stack in CONSUMERS:
        names = live_variables(stack)
        lacking = [name for name in names if not os.environ.get(name)]
        if lacking:
            absent[stack] = (f"live mode needs {' and '.join(names)} for the {stack} stack "
                             f"(missing: {', '.join(lacking)})")
            continue
        consumers[stack] = json.loads(Path(os.environ[names[0]]).read_text())
        sessions[stack] = boto3.Session(profile_name=os.environ[names[1]])
    return Deployment(json.loads(Path(os.environ[outputs_variable]).read_text()), consumers, sessions, absent,
                      retry_delays=(2, 4, 8, 16))


# ---------------------------------------------------------------------------------------------------------------
# The offline cloud
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CloudSpec:
    """A cloud of a module's own: the committed stacks, prod first, with ``prod_config`` over Pulumi.prod.yaml's;
    the accounts of the stacks named in ``outside_organization`` are not in the cloud's organization (every other
    committed account is: offline.stacks.ORGANIZATION_ID)."""

    name: str
    prod_config: tuple[tuple[str, str], ...] = ()
    outside_organization: tuple[str, ...] = ()

    def config(self, stack: str) -> dict[str, str] | None:
        if stack != DATA_STACK or not self.prod_config:
            return None
        return stack_config(DATA_STACK) | dict(self.prod_config)


COMMITTED = CloudSpec("committed")


def own_cloud(spec: CloudSpec) -> pytest.MarkDecorator:
    """Mark a module (pytestmark) or test to run in a cloud of its own, deployed as ``spec`` says."""
    return pytest.mark.parametrize("workspace", [pytest.param(spec, id=spec.name)], indirect=True)


def prod_grants() -> list[dict[str, Any]]:
    """The grants of the committed Pulumi.prod.yaml, as plain data to change for a CloudSpec or a redeploy."""
    return json.loads(stack_config(DATA_STACK)["cross-account-s3:grants"])


def prod_config_with(grant: str, **changes: Any) -> dict[str, str]:
    """Pulumi.prod.yaml's config with grant ``grant``'s settings changed as ``changes`` says (None: that setting
    removed)."""
    grants = [{key: value for key, value in (g | changes).items() if value is not None} if g["name"] == grant else g
              for g in prod_grants()]
    return stack_config(DATA_STACK) | {"cross-account-s3:grants": json.dumps(grants)}


@contextlib.contextmanager
def prod_deployed_with(workspace: Workspace, grant: str, **changes: Any) -> Generator[list[str]]:
    """prod deployed with one grant's settings changed (the changes made), then with its committed config again and
    fresh function workers: the sessions issued meanwhile go with the workers that hold them. The warm workers are
    left alone on the way in, so a test sees what the change does to sessions already issued."""
    try:
        yield workspace.deploy(DATA_STACK, prod_config_with(grant, **changes))
    finally:
        workspace.deploy(DATA_STACK, stack_config(DATA_STACK))
        for stack in CONSUMERS:
            recycle_workers(workspace, stack)


# Package scope (not session): localcloud's own tests start clouds of their own. A module marked own_cloud(spec)
# parametrizes this fixture, so pytest finishes the cloud of another spec before starting this one.
@pytest.fixture(scope="package")
def workspace(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    spec: CloudSpec = getattr(request, "param", COMMITTED)
    state_dir: Path = tmp_path_factory.mktemp(f"localcloud-{spec.name}")
    # No back-off between the function's botocore retries: test_faults throttles on purpose, and its assertions
    # are about attempts and writes, never time (the wait would be up to seconds per test, at random).
    with stacks.start(state_dir, retry_backoff=False, outside_organization=spec.outside_organization) as running:
        for stack in stacks.committed_stacks(running.project_dir):
            running.deploy(stack, spec.config(stack))
        write_project_profiles(running)
        yield running


@dataclass(frozen=True)
class DeployedGrant:
    """One grant as prod deployed it, and the consumer stack that uses it."""

    name: str
    consumer: str
    role_arn: str
    role_name: str
    account_id: str
    key_prefix: str
    access: str  # write, read or read-write
    external_id: str | None
    mfa_required: bool
    source_identity: str = "none"  # none, allowed or required
    user: str | None = None  # the first member of its consumer's group

    @property
    def writes(self) -> bool:
        return self.access != "read"

    @property
    def reads(self) -> bool:
        return self.access != "write"

    def key(self, relative: str = "") -> str:
        """A key under the grant's prefix that no other test uses."""
        return f"{self.key_prefix}{relative or f'tests/{uuid.uuid4()}.txt'}"


@pytest.fixture(scope="package")
def grant(workspace: Workspace) -> Callable[[str], DeployedGrant]:
    """``grant(name)``: that grant of the deployed prod stack, with its external ID."""
    grants = workspace.output(DATA_STACK, "grants")
    external_ids = workspace.output(DATA_STACK, "grantExternalIds") or {}
    consumer_of = {name: stack for stack, name in GRANT_OF.items()}

    def deployed(name: str) -> DeployedGrant:
        g = grants[name]
        consumer = consumer_of.get(name, "")
        users = json.loads(stack_config(consumer).get("cross-account-s3:groupUsers", "[]")) if consumer else []
        return DeployedGrant(name, consumer, g["roleArn"], g["roleName"], g["accountId"], g["keyPrefix"],
                             g["access"], external_ids.get(name), bool(g["mfaRequired"]),
                             g.get("sourceIdentity") or "none", users[0] if users else None)

    return deployed


@pytest.fixture(scope="package")
def dev_writer(grant: Callable[[str], DeployedGrant]) -> DeployedGrant:
    """The grant dev's writer uses (write)."""
    return grant(GRANT_OF[WRITER_STACK])


@pytest.fixture(scope="package")
def analytics_reader(grant: Callable[[str], DeployedGrant]) -> DeployedGrant:
    """The grant analytics' reader uses (read)."""
    return grant(GRANT_OF[READER_STACK])


@pytest.fixture(scope="package")
def bucket(workspace: Workspace) -> str:
    return workspace.output(DATA_STACK, "bucketName")


@pytest.fixture(scope="package")
def prod_s3(workspace: Workspace) -> Any:
    """The prod deployer's S3 client: how tests put objects in place and check what is (not) in the bucket."""
    return workspace.cloud.client("s3", DATA_STACK)


@pytest.fixture(scope="package")
def dev_lambda(workspace: Workspace) -> Any:
    return workspace.cloud.client("lambda", WRITER_STACK)


@pytest.fixture
def object_key(dev_writer: DeployedGrant) -> str:
    """A key under the writer's prefix that no other test writes."""
    return dev_writer.key()


@pytest.fixture(scope="package")
def user_credentials(workspace: Workspace) -> Callable[[str], dict[str, str]]:
    """``user_credentials(stack)``: the ``<stack>-user`` profile's keys as `up` wrote them (MFA-backed session
    credentials of the consumer's user when its grant requires MFA)."""
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(workspace.state_dir / "aws" / "credentials")
    return lambda stack: dict(parser[f"{stack}-user"])


UNSET: Any = object()


def assume(workspace: Workspace, credentials: Mapping[str, str], grant: DeployedGrant, *,
           external_id: str | None = UNSET, source_identity: str | None = UNSET, **params: Any) -> dict[str, str]:
    """Credentials of the grant's role assumed with ``credentials`` as its consumer's user does: with the grant's
    external ID, and its user's name as source identity when the grant requires one, unless told otherwise
    (``None``: none); ``params``: more AssumeRole parameters (Tags, ...)."""
    sent = grant.external_id if external_id is UNSET else external_id
    identity = (grant.user if grant.source_identity == "required" else None) if source_identity is UNSET \
        else source_identity
    sts = workspace.cloud.client("sts", credentials=credentials)
    return sts.assume_role(RoleArn=grant.role_arn, RoleSessionName=f"test-{uuid.uuid4().hex[:8]}",
                           **({"ExternalId": sent} if sent else {}),
                           **({"SourceIdentity": identity} if identity else {}), **params)["Credentials"]


@pytest.fixture
def role_session(workspace: Workspace, user_credentials: Callable[[str], dict[str, str]]) -> Callable[..., Any]:
    """``role_session(grant, service="s3")``: a client of a session of the grant's role, assumed the documented way,
    by its consumer's user (MFA session) with the external ID."""

    def session(grant: DeployedGrant, service: str = "s3") -> Any:
        credentials = assume(workspace, user_credentials(grant.consumer), grant)
        return workspace.cloud.client(service, credentials=credentials)

    return session


# ---------------------------------------------------------------------------------------------------------------
# Principals of the consumers, as tests call as them
# ---------------------------------------------------------------------------------------------------------------


def role_statement(principal_account: str, principal_arn: str) -> dict[str, Any]:
    return {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{principal_account}:root"},
            "Action": "sts:AssumeRole", "Condition": {"ArnEquals": {"aws:PrincipalArn": principal_arn}}}


@contextlib.contextmanager
def trust_also_names(workspace: Workspace, account: str, role_name: str, principal_arn: str) -> Generator[None]:
    """The role's trust policy, in ``account``, with one more statement naming ``principal_arn``; then restored."""
    iam = workspace.cloud.client("iam", account)
    saved = iam.get_role(RoleName=role_name)["Role"]["AssumeRolePolicyDocument"]
    document = json.loads(saved) if isinstance(saved, str) else saved
    widened = {**document, "Statement": [*document["Statement"],
                                         role_statement(principal_arn.split(":")[4], principal_arn)]}
    iam.update_assume_role_policy(RoleName=role_name, PolicyDocument=json.dumps(widened))
    try:
        yield
    finally:
        iam.update_assume_role_policy(RoleName=role_name, PolicyDocument=json.dumps(document))


def execution_role_credentials(workspace: Workspace, stack: str) -> dict[str, str]:
    """A session of the consumer function's execution role, as the function holds one. Its trust names Lambda
    only, so it is widened for the moment of the assume to the account's deployer (and restored): the session
    then has exactly the execution role's permissions."""
    role_arn = workspace.output(stack, "executionRoleArn")
    deployer = workspace.cloud.client("sts", stack).get_caller_identity()["Arn"]
    with trust_also_names(workspace, stack, role_arn.split("/")[-1], deployer):
        return workspace.cloud.client("sts", stack).assume_role(
            RoleArn=role_arn, RoleSessionName=workspace.output(stack, "functionName"))["Credentials"]


# ---------------------------------------------------------------------------------------------------------------
# Checks
# ---------------------------------------------------------------------------------------------------------------


def keys_in(s3: Any, bucket: str, prefix: str = "") -> set[str]:
    return {key for key, _ in versions_in(s3, bucket, prefix)}


def versions_in(s3: Any, bucket: str, prefix: str = "") -> set[tuple[str, str]]:
    """Every (key, version) in the bucket under ``prefix``, delete markers included: what a write would change."""
    pages = s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix)
    return {(v["Key"], v["VersionId"])
            for page in pages for v in page.get("Versions", []) + page.get("DeleteMarkers", [])}


@contextlib.contextmanager
def unchanged(s3: Any, bucket: str, prefix: str = "") -> Generator[None]:
    """The block writes nothing in the bucket (under ``prefix``: all a live test's prod profile may list): its
    object versions are the same before and after."""
    before = versions_in(s3, bucket, prefix)
    yield
    after = versions_in(s3, bucket, prefix)
    assert after == before, f"written: {sorted(after - before)}, gone: {sorted(before - after)}"


@pytest.fixture
def bucket_unchanged(prod_s3: Any, bucket: str) -> Callable[[], contextlib.AbstractContextManager[None]]:
    """``with bucket_unchanged(): ...``: the block writes nothing in the prod bucket."""
    return lambda: unchanged(prod_s3, bucket)


def assert_denied(call: Callable[[], Any], code: str = "AccessDenied") -> ClientError:
    with pytest.raises(ClientError) as caught:
        call()
    assert caught.value.response["Error"]["Code"] == code, caught.value.response["Error"]
    return caught.value


def use_grant(s3: Any, prod_s3: Any, bucket: str, grant: DeployedGrant) -> Any:
    """What the grant is for, once: write a fresh key under its prefix, or read one the prod deployer put there."""
    key = grant.key()
    if grant.writes:
        return s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    prod_s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    return s3.get_object(Bucket=bucket, Key=key)["Body"].read()


def function_event(prod_s3: Any, bucket: str, grant: DeployedGrant) -> dict[str, str]:
    """An event the grant's consumer function answers with 200 while the grant is intact: a write of a fresh
    key, or a read of one the prod deployer put there."""
    relative = f"tests/{uuid.uuid4()}.txt"
    if grant.writes:
        return {"key": relative, "body": "must not land"}
    prod_s3.put_object(Bucket=bucket, Key=grant.key_prefix + relative, Body=b"must not be read")
    return {"key": relative}


def invoke(lambda_client: Any, function: str, event: Any) -> tuple[dict[str, Any], str | None]:
    """The handler's response and Lambda's function-error type, if any."""
    response = lambda_client.invoke(FunctionName=function, Payload=json.dumps(event).encode())
    return json.loads(response["Payload"].read()), response.get("FunctionError")


def invoke_consumer(workspace: Workspace, stack: str, event: Any) -> tuple[int, dict[str, Any]]:
    """A consumer's function invoked as its account's deployer: the status and the decoded body."""
    result, error = invoke(workspace.cloud.client("lambda", stack), workspace.output(stack, "functionName"), event)
    assert error is None, result
    return result["statusCode"], json.loads(result["body"])


def recycle_workers(workspace: Workspace, stack: str) -> None:
    """A configuration change, as an operator would make it, so the consumer's next invocation starts a fresh
    worker (warm workers keep the role credentials they already hold, as on AWS)."""
    workspace.cloud.client("lambda", stack).update_function_configuration(
        FunctionName=workspace.output(stack, "functionName"), Description=f"recycled {uuid.uuid4()}")


@pytest.fixture
def aws_cli_environment(workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    """What `. .localcloud/env.sh` does: the written config files and the endpoint, no other credentials."""
    for line in (workspace.state_dir / "env.sh").read_text().splitlines():
        if line.startswith("export "):
            name, _, value = line[len("export "):].partition("=")
            monkeypatch.setenv(name, value.strip("'"))
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
