"""LocalCloud: moto's server, behind the gate, as an offline multi-account AWS on 127.0.0.1.

    cloud = LocalCloud({"prod": "111111111111", "dev": "222222222222"}, "eu-west-1", Path(".localcloud"))
    cloud.start()
    s3 = cloud.client("s3", "dev")          # signed as dev's "deployer" user, over HTTPS, trusting the local CA
    ...
    cloud.stop()

Two listeners serve the same gate: HTTPS (``endpoint``, certificate from ``localcloud.tls``) and plain HTTP
(``http_endpoint``, where ``aws:SecureTransport`` is "false"). Each account starts with one IAM user, "deployer",
with an access key and an inline AdministratorAccess policy (Allow * on *), created directly in moto's backends the
way a CI deploy identity would administer its account.

Accounts stand alone unless ``organization`` (a ``localcloud.organizations.Organization``) puts some of them in an
AWS Organizations organization: their principals then carry aws:PrincipalOrgID and aws:PrincipalOrgPaths, and
DescribeOrganization answers them. No organization is the default because it is what an AWS account is until it
creates or joins one, and because an invented organization ID would be one no policy can name; an organization is
given explicitly, with the ID the policies name.

moto keeps its state in module globals, so one process runs one LocalCloud at a time; ``start`` resets moto's state
(as ``POST /moto-api/reset`` does) so every LocalCloud begins empty.
"""

from __future__ import annotations

import logging
import re
import socket
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import boto3
from botocore.config import Config
from werkzeug.serving import BaseWSGIServer, make_server

from localcloud import moto_adapter
from localcloud.gate import Gate, Invoker
from localcloud.organizations import Organization
from localcloud.principals import SessionRegistry
from localcloud.sdk import LOADER_LOCK
from localcloud.sdk import session as sdk_session
from localcloud.tls import CertificatePaths, ensure_certificates

log = logging.getLogger("localcloud.server")

HOST = "127.0.0.1"
DEPLOYER_USER = "deployer"
ADMINISTRATOR_POLICY_NAME = "AdministratorAccess"
ADMINISTRATOR_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}
_ACCOUNT_ID = re.compile(r"^\d{12}$")



class LocalCloudError(Exception):
    """LocalCloud cannot do what was asked (bad accounts, already running, not started)."""


def _request_handler() -> type:
    base: Any = moto_adapter.request_handler_class()

    class QuietHandler(base):
        """moto's handler (keeps underscores in S3 metadata headers), logging requests at DEBUG only."""

        def log_request(self, code: Any = "-", size: Any = "-") -> None:
            log.debug('%s "%s" %s %s', self.address_string(), self.requestline, code, size)

        def log(self, type: str, message: str, *args: Any) -> None:  # noqa: A002 - werkzeug's signature
            getattr(log, "error" if type == "error" else "debug")(message, *args)

    return QuietHandler


class LocalCloud:
    """An offline AWS of several accounts: moto behind ``localcloud.gate.Gate``, on 127.0.0.1."""

    _running: ClassVar[LocalCloud | None] = None
    _running_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(
        self,
        accounts: Mapping[str, str],
        region: str = "eu-west-1",
        state_dir: Path | str = ".localcloud",
        *,
        invoker: Invoker | None = None,
        organization: Organization | None = None,
    ) -> None:
        """``organization``: the organization some or all of ``accounts`` are members of (default None: every
        account stands alone, as AWS accounts do until they join one); its accounts must be the cloud's."""
        if not accounts:
            raise LocalCloudError("LocalCloud needs at least one account, e.g. {'prod': '111111111111'}")
        for name, account_id in accounts.items():
            if not _ACCOUNT_ID.match(str(account_id)):
                raise LocalCloudError(f"Account {name!r} has id {account_id!r}; an account id is 12 digits.")
        if len(set(accounts.values())) != len(accounts):
            raise LocalCloudError("Two account names share one account id.")
        self.accounts: dict[str, str] = {name: str(account_id) for name, account_id in accounts.items()}
        if organization is not None:
            strangers = sorted(set(organization.members) - set(self.accounts.values()))
            if strangers:
                raise LocalCloudError(f"The organization {organization.id} names account(s) {', '.join(strangers)} "
                                      f"that the cloud does not have; its accounts are "
                                      f"{', '.join(f'{n}={a}' for n, a in self.accounts.items())}.")
        self.organization = organization
        self.region = region
        self.state_dir = Path(state_dir)
        self.invoker = invoker
        self.registry = SessionRegistry()
        self.gate: Gate | None = None
        self._certificates: CertificatePaths | None = None
        self._servers: list[BaseWSGIServer] = []
        self._threads: list[threading.Thread] = []
        self._deployer_keys: dict[str, dict[str, str]] = {}
        self._moto_settings = moto_adapter.MotoSettings()

    # --- lifecycle ---------------------------------------------------------------------------------------------

    def start(self, port: int = 0, http_port: int = 0) -> LocalCloud:
        """Reset moto, create the accounts' deployers, and serve HTTPS on ``port`` and HTTP on ``http_port``
        (0: any free port)."""
        with LocalCloud._running_lock:
            if LocalCloud._running is not None:
                raise LocalCloudError(
                    "Another LocalCloud is running in this process; moto's state is process-wide, so stop it first."
                )
            LocalCloud._running = self
        try:
            self._configure_moto()
            self._reset_moto()
            self._create_deployers()
            self._certificates = ensure_certificates(self.state_dir / "tls")
            self._serve(port, http_port)
        except BaseException:
            self.stop()
            raise
        log.info("LocalCloud serving %s and %s for accounts %s", self.endpoint, self.http_endpoint, self.accounts)
        return self

    def stop(self) -> None:
        """Shut both listeners down and wait for their threads. Safe to call twice."""
        # shutdown() waits for the serving loop's next poll: ask both at once rather than wait twice.
        stoppers = [threading.Thread(target=server.shutdown) for server in self._servers]
        for stopper in stoppers:
            stopper.start()
        for stopper, server in zip(stoppers, self._servers):
            stopper.join()
            server.server_close()
        for thread in self._threads:
            thread.join(timeout=10)
        self._servers.clear()
        self._threads.clear()
        self._restore_moto()
        with LocalCloud._running_lock:
            if LocalCloud._running is self:
                LocalCloud._running = None

    def __enter__(self) -> LocalCloud:
        return self if self._servers else self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return bool(self._servers)

    def _configure_moto(self) -> None:
        """Turn moto's own authorization off while this LocalCloud runs: the gate decides, moto only executes."""
        self._moto_settings.configure()

    def _restore_moto(self) -> None:
        self._moto_settings.restore()

    @staticmethod
    def _reset_moto() -> None:
        moto_adapter.reset()

    def _create_deployers(self) -> None:
        self.registry.clear()
        self._deployer_keys.clear()
        for name, account_id in self.accounts.items():
            key_id, secret = moto_adapter.create_user_with_key(
                account_id, self.region, DEPLOYER_USER, ADMINISTRATOR_POLICY_NAME, ADMINISTRATOR_POLICY)
            self._deployer_keys[name] = {"aws_access_key_id": key_id, "aws_secret_access_key": secret}

    def _serve(self, port: int, http_port: int) -> None:
        assert self._certificates is not None
        self.gate = Gate(moto_adapter.backend_app(), invoker=self.invoker, registry=self.registry,
                         organization=self.organization)
        handler = _request_handler()
        secure = make_server(
            HOST, port, self.gate, threaded=True, request_handler=handler,
            ssl_context=self._certificates.server_context(),
        )
        plain = make_server(HOST, http_port, self.gate, threaded=True, request_handler=handler)
        for server, name in ((secure, "https"), (plain, "http")):
            # Accepted sockets inherit this: without it, Nagle's algorithm holds a response's small second
            # write until the client's delayed ACK, about 40 ms on every keep-alive request.
            server.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            thread = threading.Thread(
                target=server.serve_forever, kwargs={"poll_interval": 0.05}, name=f"localcloud-{name}", daemon=True
            )
            self._servers.append(server)
            self._threads.append(thread)
            thread.start()

    # --- where and who -----------------------------------------------------------------------------------------

    def _require_running(self) -> None:
        if not self._servers:
            raise LocalCloudError("LocalCloud is not running; call start() first.")

    @property
    def port(self) -> int:
        self._require_running()
        return self._servers[0].server_port

    @property
    def http_port(self) -> int:
        self._require_running()
        return self._servers[1].server_port

    @property
    def endpoint(self) -> str:
        return f"https://{HOST}:{self.port}"

    @property
    def http_endpoint(self) -> str:
        return f"http://{HOST}:{self.http_port}"

    @property
    def ca_bundle(self) -> Path:
        self._require_running()
        assert self._certificates is not None
        return self._certificates.ca

    def account_id(self, name: str) -> str:
        try:
            return self.accounts[name]
        except KeyError:
            raise LocalCloudError(f"No account {name!r}; accounts are {', '.join(self.accounts)}.") from None

    def deployer_credentials(self, name: str) -> dict[str, str]:
        """The deployer's long-term key in account ``name``: aws_access_key_id, aws_secret_access_key."""
        self.account_id(name)
        self._require_running()
        return dict(self._deployer_keys[name])

    def env(self, account_name: str | None = None) -> dict[str, str]:
        """Environment variables for a process talking to this LocalCloud (with the deployer's key if named)."""
        variables = {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_CA_BUNDLE": str(self.ca_bundle),
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
        }
        if account_name is not None:
            credentials = self.deployer_credentials(account_name)
            variables["AWS_ACCESS_KEY_ID"] = credentials["aws_access_key_id"]
            variables["AWS_SECRET_ACCESS_KEY"] = credentials["aws_secret_access_key"]
        return variables

    # --- clients -----------------------------------------------------------------------------------------------

    def session(
        self, account_name: str | None = None, *, credentials: Mapping[str, str] | None = None
    ) -> boto3.session.Session:
        """A boto3 session as ``account_name``'s deployer, or with ``credentials`` (boto3 keyword names, or the
        ``Credentials`` dict of an STS response)."""
        if credentials is None:
            if account_name is None:
                raise LocalCloudError("session() needs an account name or credentials.")
            credentials = self.deployer_credentials(account_name)
        return sdk_session(region_name=self.region, **_boto3_credentials(credentials))

    def client(
        self,
        service: str,
        account_name: str | None = None,
        *,
        credentials: Mapping[str, str] | None = None,
        secure: bool = True,
        **kwargs: Any,
    ) -> Any:
        """A boto3 client for the HTTPS endpoint (``secure=False``: the plain-HTTP one); keyword arguments go to
        ``Session.client``."""
        if credentials is None:
            if account_name is None:
                raise LocalCloudError("client() needs an account name or credentials.")
            credentials = self.deployer_credentials(account_name)
        session = sdk_session(region_name=self.region)  # the credentials go to the client: one session serves all
        kwargs.update(_boto3_credentials(credentials))
        kwargs.setdefault("region_name", self.region)
        kwargs.setdefault("endpoint_url", self.endpoint if secure else self.http_endpoint)
        kwargs.setdefault("verify", str(self.ca_bundle))
        config = Config(s3={"addressing_style": "path"}, retries={"max_attempts": 2, "mode": "standard"})
        if service == "s3":
            config = config.merge(Config(signature_version="s3v4"))  # presigned URLs too (like `aws s3 presign`)
        kwargs["config"] = config.merge(kwargs["config"]) if "config" in kwargs else config
        with LOADER_LOCK:  # botocore sessions are not safe for concurrent client creation
            return session.client(service, **kwargs)


def _boto3_credentials(credentials: Mapping[str, str]) -> dict[str, str]:
    if "AccessKeyId" in credentials:
        converted = {
            "aws_access_key_id": credentials["AccessKeyId"],
            "aws_secret_access_key": credentials["SecretAccessKey"],
        }
        if credentials.get("SessionToken"):
            converted["aws_session_token"] = credentials["SessionToken"]
        return converted
    return {
        key: value
        for key, value in credentials.items()
        if key in ("aws_access_key_id", "aws_secret_access_key", "aws_session_token") and value
    }
