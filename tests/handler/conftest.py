"""Fixtures for the Lambda handlers (writer and reader): two moto accounts, each handler's environment, a
LambdaContext, and ``Function``, each handler described for the specs that hold for both (test_both_functions.py,
through the ``function`` fixture).

How the two accounts are told apart in moto 5 (see moto/core/responses.py get_current_account and
moto/iam/models.py get_account_id_from): a request belongs to MOTO_ACCOUNT_ID when that variable is
set, otherwise to the account that owns the request's access key. So the setup creates resources
with MOTO_ACCOUNT_ID set, then unsets it and gives the "Lambda" the access key of a DEV IAM user
(standing in for the execution role). moto's AssumeRole into a role ARN of the PROD account returns
an ASIA key owned by PROD (moto/sts/models.py _create_access_key), so the handler's S3 calls are
PROD's. MOTO_S3_ALLOW_CROSSACCOUNT_ACCESS=false makes moto refuse S3 calls on a bucket of another
account, so an object can only land in the PROD bucket (or be read from it) if the handler really used the role.

moto evaluates no IAM policy here (neither trust nor permissions): the roles' policies are what the stack grants,
for the reader's, whose s3:ListBucket on the prefix is why a missing key is NoSuchKey rather than AccessDenied.
"""

from __future__ import annotations

import functools
import io
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, ClassVar

import botocore.loaders
import botocore.session
import pytest
from botocore.awsrequest import AWSResponse
from botocore.stub import Stubber
from moto import mock_aws
from moto.core.models import botocore_stubber
from moto.sts.models import sts_backends

from lambda_handler import config, handler, reader_handler
from lambda_handler.config import Target
from lambda_handler.role import RoleS3

if TYPE_CHECKING:
    from _pytest.mark.structures import ParameterSet

PROD_ACCOUNT = "111111111111"
DEV_ACCOUNT = "222222222222"
REGION = "eu-west-1"
BUCKET = f"prod-data-{PROD_ACCOUNT}"
ROLE_NAME = "cross-account-s3-writer"
ROLE_ARN = f"arn:aws:iam::{PROD_ACCOUNT}:role/{ROLE_NAME}"
KEY_PREFIX = "incoming/"
FUNCTION_NAME = "dev-cross-account-writer"
READER_ROLE_NAME = "cross-account-s3-reader"
READER_ROLE_ARN = f"arn:aws:iam::{PROD_ACCOUNT}:role/{READER_ROLE_NAME}"
READER_FUNCTION_NAME = "dev-cross-account-reader"
EVENTS_DIR = Path(__file__).parent / "events"

_SCRUBBED_ENV = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_S3",
    "AWS_ENDPOINT_URL_STS",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "MOTO_ACCOUNT_ID",
    "TARGET_REGION",
    "EXTERNAL_ID",
    "MAX_BODY_BYTES",
    "MAX_OBJECT_BYTES",
)


@dataclass
class LambdaContext:
    """The parts of the Lambda context object the handler (and Powertools) read."""

    function_name: str = FUNCTION_NAME
    memory_limit_in_mb: int = 128
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:{DEV_ACCOUNT}:function:{FUNCTION_NAME}"
    aws_request_id: str = "52fdfc07-2182-454f-963f-5f0f9a621d72"


@dataclass
class Accounts:
    """Handles on the moto world: a PROD-side S3 client for assertions, the DEV identity."""

    prod_s3: Any
    dev_access_key_id: str

    def objects(self) -> list[dict[str, Any]]:
        """Every object version in the PROD bucket (versioning is on, so nothing hides)."""
        return self.prod_s3.list_object_versions(Bucket=BUCKET).get("Versions", [])

    def put(self, relative_key: str, body: bytes, **extra: Any) -> dict[str, Any]:
        """Store an object under the prefix as PROD itself (for the reader to find)."""
        return self.prod_s3.put_object(Bucket=BUCKET, Key=KEY_PREFIX + relative_key, Body=body, **extra)

    @staticmethod
    def sessions_of_prod_role(role_arn: str = ROLE_ARN) -> int:
        """How many times moto's STS handed out credentials for a PROD role (server side)."""
        backend = sts_backends[PROD_ACCOUNT]["aws"]
        return sum(1 for role in backend.assumed_roles if role.role_arn == role_arn)


@dataclass
class StsCalls:
    """AssumeRole calls really made by botocore clients, with their parameters and results.

    Watches every botocore session created while active, so it also sees an STS client the
    handler might (wrongly) create afresh on each invocation.
    """

    params: list[dict[str, Any]] = field(default_factory=list)
    credentials: list[dict[str, Any]] = field(default_factory=list)

    def watch_session(self, session: botocore.session.Session) -> None:
        # Clients copy their session's handlers when created.
        session.register("before-parameter-build.sts.AssumeRole", self._on_call)
        session.register("after-call.sts.AssumeRole", self._on_response)

    def _on_call(self, params: dict[str, Any], **_: Any) -> None:
        self.params.append(dict(params))

    def _on_response(self, parsed: dict[str, Any], **_: Any) -> None:
        if "Credentials" in parsed:
            self.credentials.append(parsed["Credentials"])


# Parsing the S3 model and endpoint rules is most of the cost of creating a client. A container
# pays it once per cold start; sharing one caching loader keeps the tests from paying it per test.
_SHARED_LOADER = botocore.loaders.create_loader()
_RealSession = botocore.session.Session


class _TestSession(_RealSession):
    """What ``botocore.session.Session`` is during a test: shared model loader, watchable."""

    watchers: ClassVar[list[Callable[[botocore.session.Session], None]]] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.register_component("data_loader", _SHARED_LOADER)
        for watch in self.watchers:
            watch(self)


@functools.cache
def _client(service: str, access_key_id: str = "testing", secret: str = "testing") -> Any:
    """A client for the tests' own setup and assertions, with explicit credentials.

    Explicit keys, because a default session would cache the first credentials it saw. Cached per service and
    key, as creating a client is most of a test's setup: a client holds no state of its own (moto's world is
    what each test's mock_aws() starts afresh), and the session predates none of moto's patching.
    """
    return _setup_session().create_client(
        service,
        region_name=REGION,
        aws_access_key_id=access_key_id,
        aws_secret_access_key=secret,
    )


@functools.cache
def _setup_session() -> botocore.session.Session:
    session = _RealSession()
    session.register_component("data_loader", _SHARED_LOADER)
    return session


def _create_prod(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setenv("MOTO_ACCOUNT_ID", PROD_ACCOUNT)
    s3 = _client("s3")
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_ownership_controls(
        Bucket=BUCKET,
        OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
    )
    iam = _client("iam")
    _create_role(iam, ROLE_NAME, "write-prefix", [
        {"Effect": "Allow", "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{BUCKET}/{KEY_PREFIX}*"},
    ])
    # The reader's role: read objects under the prefix, and list only the prefix (so a missing key is NoSuchKey).
    _create_role(iam, READER_ROLE_NAME, "read-prefix", [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{BUCKET}/{KEY_PREFIX}*"},
        {
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": f"arn:aws:s3:::{BUCKET}",
            "Condition": {"StringLike": {"s3:prefix": [f"{KEY_PREFIX}*"]}},
        },
    ])
    # An identity inside PROD, only for the tests' own assertions on the bucket.
    iam.create_user(UserName="test-inspector")
    key = iam.create_access_key(UserName="test-inspector")["AccessKey"]
    return {"id": key["AccessKeyId"], "secret": key["SecretAccessKey"]}


def _create_role(iam: Any, name: str, policy_name: str, statements: list[dict[str, Any]]) -> None:
    """A PROD role DEV may assume, with one inline policy of ``statements``."""
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{DEV_ACCOUNT}:root"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))
    policy = {"Version": "2012-10-17", "Statement": statements}
    iam.put_role_policy(RoleName=name, PolicyName=policy_name, PolicyDocument=json.dumps(policy))


def _create_dev(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setenv("MOTO_ACCOUNT_ID", DEV_ACCOUNT)
    iam = _client("iam")
    # Stands in for the Lambda execution role: Lambda exports its credentials as env vars.
    iam.create_user(UserName="lambda-execution")
    key = iam.create_access_key(UserName="lambda-execution")["AccessKey"]
    return {"id": key["AccessKeyId"], "secret": key["SecretAccessKey"]}


@pytest.fixture
def accounts(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Accounts]:
    """PROD (bucket + role) and DEV (the Lambda's identity) in moto, no network."""
    for name in _SCRUBBED_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("MOTO_S3_ALLOW_CROSSACCOUNT_ACCESS", "false")
    with mock_aws():
        inspector = _create_prod(monkeypatch)
        dev = _create_dev(monkeypatch)
        monkeypatch.delenv("MOTO_ACCOUNT_ID")
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", dev["id"])
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", dev["secret"])
        prod_s3 = _client("s3", inspector["id"], inspector["secret"])
        yield Accounts(prod_s3=prod_s3, dev_access_key_id=dev["id"])


# --- the two functions -------------------------------------------------------------------------------

# What the event of ``Function.valid_event`` writes, or finds to read.
CONTENT = "the object's own text"


class Function:
    """One of the two Lambdas, as the specs that hold for both see it (the ``function`` fixture): its module and
    client, its environment, role and S3 operation, and a valid event with a way to check what it did.

    ``Writer`` and ``Reader`` fill it in: the attributes below in their class statement, the events in methods.
    One is made per test, on that test's moto accounts.
    """

    name: ClassVar[str]
    module: ClassVar[ModuleType]  # the entry point: lambda_handler, _get_config, _reset_for_tests
    client_class: ClassVar[type[RoleS3[Any]]]  # the client the module builds on first use ...
    config_class: ClassVar[type[Target]]  # ... from this configuration
    cached_client: ClassVar[str]  # the module-level name of that client
    role_arn: ClassVar[str]
    function_name: ClassVar[str]  # AWS_LAMBDA_FUNCTION_NAME, and so the role session's name
    fallback_session_name: ClassVar[str]  # the session's name without one
    operation: ClassVar[str]  # the S3 operation an invocation makes, as botocore's events name it
    limit_variable: ClassVar[str]  # the variable of its own size limit

    def __init_subclass__(cls, **description: Any) -> None:
        super().__init_subclass__()
        if set(description) != set(Function.__annotations__):
            raise TypeError(f"{cls.__name__} must give exactly {sorted(Function.__annotations__)}")
        for attribute, value in description.items():
            setattr(cls, attribute, value)

    def __init__(self, accounts: Accounts) -> None:
        self.accounts = accounts

    def __repr__(self) -> str:
        return self.name

    @classmethod
    def environment(cls, monkeypatch: pytest.MonkeyPatch) -> None:
        """The environment Lambda and the stack give the function."""
        monkeypatch.setenv("AWS_REGION", REGION)
        monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", cls.function_name)
        monkeypatch.setenv("TARGET_ROLE_ARN", cls.role_arn)
        monkeypatch.setenv("TARGET_BUCKET", BUCKET)
        monkeypatch.setenv("TARGET_KEY_PREFIX", KEY_PREFIX)

    @classmethod
    def invoke(cls, event: Any, context: object) -> tuple[int, dict[str, Any]]:
        """The status and decoded body of one invocation (any context: the handler getattr()s it)."""
        response = cls.module.lambda_handler(event, context)
        assert set(response) == {"statusCode", "body"}
        return response["statusCode"], json.loads(response["body"])

    def install(self, **injected: Any) -> Any:
        """Rebuild the handler's client from the current environment, with optional injections (``sts_client``,
        ``clock``): for tests that change the environment after the fixtures ran, or inject. Without injections
        this is exactly what the first invocation would build."""
        client = self.client_class(self.config_class.from_env(), **injected)
        self.module._reset_for_tests(client)
        return client

    def client(self) -> Any:
        """The handler's client, built on first use (as an invocation would)."""
        return getattr(self.module, f"_get_{self.name}")()  # _get_writer, _get_reader

    def event(self, key: str) -> dict[str, Any]:
        """A valid event for ``key`` (relative to the prefix)."""
        raise NotImplementedError

    def arrange(self, full_key: str) -> None:
        """Put in the bucket what the event for ``full_key`` needs to succeed."""

    def valid_event(self, key: str = "a.txt") -> dict[str, Any]:
        """A valid event for ``key`` that succeeds: what it needs in the bucket is put there first."""
        self.arrange(KEY_PREFIX + key)
        return self.event(key)

    def refused_event(self, key: str = "refused.txt") -> tuple[dict[str, Any], int, str]:
        """A valid event S3 turns down through no fault of the role, and the status and error that say so."""
        raise NotImplementedError

    def assert_succeeded(self, body: dict[str, Any], full_key: str) -> None:
        """``body``, a 200's, is the valid event's for ``full_key``, and the bucket shows it."""
        assert body["bucket"] == BUCKET
        assert body["key"] == full_key


class Writer(Function, name="writer", module=handler, client_class=handler.RoleWriter,
             config_class=handler.Config, cached_client="_WRITER", role_arn=ROLE_ARN, function_name=FUNCTION_NAME,
             fallback_session_name=config.FALLBACK_SESSION_NAME, operation="PutObject",
             limit_variable="MAX_BODY_BYTES"):
    """The writer: its valid event writes ``CONTENT`` at the key."""

    def event(self, key: str) -> dict[str, Any]:
        return {"key": key, "body": CONTENT}

    def refused_event(self, key: str = "refused.txt") -> tuple[dict[str, Any], int, str]:
        """The key already holds an object (someone else's): keys are write-once."""
        self.accounts.put(key, b"theirs")
        return self.event(key), 409, "ObjectAlreadyExists"

    def assert_succeeded(self, body: dict[str, Any], full_key: str) -> None:
        """The object was stored once, with the event's bytes."""
        super().assert_succeeded(body, full_key)
        [version] = [v for v in self.accounts.objects() if v["Key"] == full_key]
        assert body["versionId"] == version["VersionId"]
        stored = self.accounts.prod_s3.get_object(Bucket=BUCKET, Key=full_key)["Body"].read()
        assert stored == CONTENT.encode()


class Reader(Function, name="reader", module=reader_handler, client_class=reader_handler.RoleReader,
             config_class=reader_handler.ReaderConfig, cached_client="_READER", role_arn=READER_ROLE_ARN,
             function_name=READER_FUNCTION_NAME, fallback_session_name=config.READER_FALLBACK_SESSION_NAME,
             operation="GetObject", limit_variable="MAX_OBJECT_BYTES"):
    """The reader: its valid event reads ``CONTENT``, which PROD stores at the key first."""

    def event(self, key: str) -> dict[str, Any]:
        return {"key": key}

    def arrange(self, full_key: str) -> None:
        self.accounts.prod_s3.put_object(Bucket=BUCKET, Key=full_key, Body=CONTENT.encode())

    def refused_event(self, key: str = "refused.txt") -> tuple[dict[str, Any], int, str]:
        """The key holds no object."""
        return self.event(key), 404, "NoSuchKey"

    def assert_succeeded(self, body: dict[str, Any], full_key: str) -> None:
        """The object's text came back."""
        super().assert_succeeded(body, full_key)
        assert (body["encoding"], body["body"]) == ("utf-8", CONTENT)


FUNCTIONS: dict[str, type[Function]] = {"writer": Writer, "reader": Reader}


def per_function(
    both: Sequence[ParameterSet],
    *,
    writer: Sequence[ParameterSet] = (),
    reader: Sequence[ParameterSet] = (),
) -> list[ParameterSet]:
    """The cases of a spec parametrized over ``function`` (indirectly, as its first value) and the cases' own
    values: each of ``both`` for each function, the others for one; ids say which, e.g. ``writer-key-empty``."""
    return [
        pytest.param(name, *case.values, id=f"{name}-{case.id}", marks=case.marks)
        for name, own in (("writer", writer), ("reader", reader))
        for case in [*both, *own]
    ]


@pytest.fixture
def lambda_env(accounts: Accounts, monkeypatch: pytest.MonkeyPatch) -> Accounts:
    """The environment Lambda and the stack give the writer."""
    Writer.environment(monkeypatch)
    return accounts


@pytest.fixture
def reader_env(lambda_env: Accounts, monkeypatch: pytest.MonkeyPatch) -> Accounts:
    """The environment Lambda and the stack give the reader: the writer's, with the reader's role and name."""
    Reader.environment(monkeypatch)
    return lambda_env


@pytest.fixture(params=list(FUNCTIONS))
def function(request: pytest.FixtureRequest, lambda_env: Accounts, monkeypatch: pytest.MonkeyPatch) -> Function:
    """Each of the two Lambdas in turn, in its environment: for the specs that hold for both."""
    kind = FUNCTIONS[request.param]
    kind.environment(monkeypatch)
    return kind(lambda_env)


@pytest.fixture(autouse=True)
def test_sessions(monkeypatch: pytest.MonkeyPatch) -> None:
    """Sessions the handler creates share the model loader and can be watched (see StsCalls)."""
    monkeypatch.setattr(botocore.session, "Session", _TestSession)


@pytest.fixture(autouse=True)
def fresh_handler_state() -> Iterator[None]:
    """Every test starts from a cold container: no cached configuration, clients or credentials."""
    handler._reset_for_tests()
    reader_handler._reset_for_tests()
    yield
    handler._reset_for_tests()
    reader_handler._reset_for_tests()


@pytest.fixture
def sts_calls(lambda_env: Accounts, monkeypatch: pytest.MonkeyPatch) -> StsCalls:
    """Record every AssumeRole call made from here on, by any client the test or handler makes."""
    calls = StsCalls()
    monkeypatch.setattr(_TestSession, "watchers", [calls.watch_session])
    return calls


@pytest.fixture
def install_writer(lambda_env: Accounts) -> Callable[..., handler.RoleWriter]:
    """``Function.install`` of the writer."""
    return Writer(lambda_env).install


@pytest.fixture
def install_reader(reader_env: Accounts) -> Callable[..., reader_handler.RoleReader]:
    """``Function.install`` of the reader."""
    return Reader(reader_env).install


@pytest.fixture
def context() -> LambdaContext:
    return LambdaContext()


def load_event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS_DIR / name).read_text())


# --- helpers both handlers' tests use ------------------------------------------------------------


def log_lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line]


def stubbed_sts(error_code: str, status: int) -> Any:
    """A real botocore STS client whose AssumeRole answers with the given error, offline."""
    sts = botocore.session.Session().create_client("sts", region_name=REGION)
    stubber = Stubber(sts)
    stubber.add_client_error(
        "assume_role",
        service_error_code=error_code,
        service_message=f"User: arn:aws:sts::{DEV_ACCOUNT}:assumed-role/x/y is not authorized",
        http_status_code=status,
    )
    stubber.activate()
    return sts


def role_of_another_account(role_arn: str) -> str:
    """The same role name in a third account, whose requests moto refuses on PROD's bucket."""
    return role_arn.replace(f":{PROD_ACCOUNT}:", ":333333333333:")


def signing_keys(client: Any, operation: str) -> list[str]:
    """Record the access key id that signs each ``operation`` sent by the writer's (or reader's) S3 client."""
    keys: list[str] = []

    def on_send(request: Any, **_: Any) -> None:
        authorization = request.headers["Authorization"]
        authorization = authorization.decode() if isinstance(authorization, bytes) else authorization
        keys.append(authorization.split("Credential=", 1)[1].split("/", 1)[0])

    client.s3.meta.events.register(f"before-send.s3.{operation}", on_send)
    return keys


class FakeClock:
    """botocore's time_fetcher for the refreshable credentials: real time plus an offset."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(timezone.utc) + self.offset


class _RawBody(io.BytesIO):
    def stream(self, **_: Any) -> Any:
        yield self.getvalue()


def s3_answer(status: int, code: str, message: str) -> Callable[[Any], AWSResponse]:
    """A scripted attempt: S3 answers with this error document."""
    document = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
        f"<Message>{message}</Message><RequestId>test</RequestId></Error>"
    ).encode()

    def answer(request: Any) -> AWSResponse:
        headers = {"Content-Type": "application/xml"}
        return AWSResponse(request.url, status, headers, _RawBody(document))

    return answer


EXPIRED_TOKEN = s3_answer(400, "ExpiredToken", "The provided token has expired.")


class S3Script:
    """Answers the writer's (or reader's) S3 ``operation`` attempts from a script, in order; moto answers the rest.

    A before-send handler, so it sees every signed attempt botocore sends (retries included)
    and can stand in for S3 or for the network, without stubbing botocore. moto's own handler
    (on "before-send", between our first and last) would carry the request out as well: it is
    switched off for a scripted answer and on again by our last handler.
    """

    def __init__(self, client: Any, operation: str, *attempts: Callable[[Any], Any]) -> None:
        self.event_name = f"before-send.s3.{operation}"
        self.attempts = list(attempts)
        self.headers: list[dict[str, Any]] = []
        client.s3.meta.events.register_first("before-send", self)
        client.s3.meta.events.register_last("before-send", self._moto_on)

    def __call__(self, request: Any, event_name: str, **_: Any) -> Any:
        if event_name != self.event_name:
            return None
        self.headers.append(dict(request.headers))
        if not self.attempts:
            return None
        answer = self.attempts.pop(0)(request)  # raising ends the attempt here, moto unasked
        if answer is not None:
            botocore_stubber.enabled = False  # our answer stands; moto must not carry it out too
        return answer

    def _moto_on(self, **_: Any) -> None:
        botocore_stubber.enabled = True
