"""Fixtures for the Lambda handlers (writer and reader): two moto accounts, each handler's environment, a
LambdaContext.

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
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, ClassVar

import botocore.loaders
import botocore.session
import pytest
from botocore.awsrequest import AWSResponse
from botocore.stub import Stubber
from moto import mock_aws
from moto.sts.models import sts_backends

from lambda_handler import handler, reader_handler

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
    iam.create_role(RoleName=ROLE_NAME, AssumeRolePolicyDocument=json.dumps(trust))
    iam.put_role_policy(
        RoleName=ROLE_NAME,
        PolicyName="write-prefix",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": "s3:PutObject",
                        "Resource": f"arn:aws:s3:::{BUCKET}/{KEY_PREFIX}*",
                    }
                ],
            }
        ),
    )
    # The reader's role: read objects under the prefix, and list only the prefix (so a missing key is NoSuchKey).
    iam.create_role(RoleName=READER_ROLE_NAME, AssumeRolePolicyDocument=json.dumps(trust))
    iam.put_role_policy(
        RoleName=READER_ROLE_NAME,
        PolicyName="read-prefix",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": "s3:GetObject",
                        "Resource": f"arn:aws:s3:::{BUCKET}/{KEY_PREFIX}*",
                    },
                    {
                        "Effect": "Allow",
                        "Action": "s3:ListBucket",
                        "Resource": f"arn:aws:s3:::{BUCKET}",
                        "Condition": {"StringLike": {"s3:prefix": [f"{KEY_PREFIX}*"]}},
                    },
                ],
            }
        ),
    )
    # An identity inside PROD, only for the tests' own assertions on the bucket.
    iam.create_user(UserName="test-inspector")
    key = iam.create_access_key(UserName="test-inspector")["AccessKey"]
    return {"id": key["AccessKeyId"], "secret": key["SecretAccessKey"]}


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


@pytest.fixture
def lambda_env(accounts: Accounts, monkeypatch: pytest.MonkeyPatch) -> Accounts:
    """The environment Lambda and the stack give the function."""
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", FUNCTION_NAME)
    monkeypatch.setenv("TARGET_ROLE_ARN", ROLE_ARN)
    monkeypatch.setenv("TARGET_BUCKET", BUCKET)
    monkeypatch.setenv("TARGET_KEY_PREFIX", KEY_PREFIX)
    return accounts


@pytest.fixture
def reader_env(lambda_env: Accounts, monkeypatch: pytest.MonkeyPatch) -> Accounts:
    """The environment Lambda and the stack give the reader: the writer's, with the reader's role and name."""
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", READER_FUNCTION_NAME)
    monkeypatch.setenv("TARGET_ROLE_ARN", READER_ROLE_ARN)
    return lambda_env


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
    """Rebuild the handler's writer from the current environment, with optional injections.

    For tests that change the environment after the fixtures ran, or inject an STS client or
    a clock. Without injections this is exactly what the first invocation would build.
    """

    def install(**injected: Any) -> handler.RoleWriter:
        writer = handler.RoleWriter(handler.Config.from_env(), **injected)
        handler._reset_for_tests(writer)
        return writer

    return install


@pytest.fixture
def install_reader(reader_env: Accounts) -> Callable[..., reader_handler.RoleReader]:
    """Rebuild the reader handler's reader from the current environment, with optional injections
    (as ``install_writer`` does for the writer)."""

    def install(**injected: Any) -> reader_handler.RoleReader:
        reader = reader_handler.RoleReader(reader_handler.ReaderConfig.from_env(), **injected)
        reader_handler._reset_for_tests(reader)
        return reader

    return install


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


def signing_keys(function: Any, operation: str = "PutObject") -> list[str]:
    """Record the access key id that signs each ``operation`` sent by the writer's (or reader's) S3 client."""
    keys: list[str] = []

    def on_send(request: Any, **_: Any) -> None:
        authorization = request.headers["Authorization"]
        authorization = authorization.decode() if isinstance(authorization, bytes) else authorization
        keys.append(authorization.split("Credential=", 1)[1].split("/", 1)[0])

    function.s3.meta.events.register(f"before-send.s3.{operation}", on_send)
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
