"""The assumed role, shared by both functions: botocore refreshable credentials of the target role, held once per
container, clients signed with them, and ``RoleS3``, what the writer's and the reader's S3 boundaries are built on."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Generic, TypeVar

import botocore.session
from botocore.config import Config as BotocoreConfig
from botocore.credentials import (
    CredentialProvider,
    CredentialResolver,
    Credentials,
    DeferredRefreshableCredentials,
)
from botocore.exceptions import BotoCoreError, ClientError

from .config import Target
from .errors import EXPIRED_TOKEN_CODES, AssumeRoleFailed, describe_sdk_error, error_code

ConfigT = TypeVar("ConfigT", bound=Target)

# Role chaining (a Lambda execution role session assuming another role) is capped at 1 hour.
SESSION_DURATION_SECONDS = 3600

CLIENT_CONFIG = BotocoreConfig(
    connect_timeout=2,
    read_timeout=5,
    # botocore's standard mode retries throttling, 5xx and connection errors with jittered
    # exponential back-off. Its "max_attempts" counts *retries* (3 meant 4 attempts);
    # "total_max_attempts" counts attempts: 3, AWS's standard default, keeps a failing call to
    # about 3 s of back-off at most (throttling; 0.15 s otherwise).
    retries={"mode": "standard", "total_max_attempts": 3},
)


class _FixedCredentialProvider(CredentialProvider):
    """Hands a botocore session one credentials object (ours, refreshable)."""

    METHOD = "assume-role"

    def __init__(self, credentials: Credentials) -> None:
        super().__init__()
        self._credentials = credentials

    def load(self) -> Credentials:
        return self._credentials


class _RoleCredentials(DeferredRefreshableCredentials):
    """botocore's deferred refreshable credentials, and a way to drop them when S3 says expired."""

    def expire(self) -> None:
        """Forget the current credentials, as if none had been fetched yet: the next request signed
        with them takes botocore's first-use path, a mandatory refresh, i.e. a new AssumeRole."""
        with self._refresh_lock:
            self._frozen_credentials = None


class RoleSession:
    """Refreshable credentials of ``config.role_arn``, and clients in ``config.region`` signed with them.

    Built once per container. ``sts_client`` (default: one built from the execution role's own
    credentials) and ``clock`` (for botocore's expiry checks) exist so tests can inject them.
    Serves one invocation at a time, as a Lambda execution environment does.
    """

    def __init__(
        self,
        config: Target,
        *,
        sts_client: Any = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.config = config
        if sts_client is None:
            sts_client = botocore.session.Session().create_client(
                "sts", region_name=config.sts_region, config=CLIENT_CONFIG
            )
        self.sts = sts_client
        extra = {"time_fetcher": clock} if clock is not None else {}
        # Deferred: no AssumeRole until the first request is signed; then botocore refreshes
        # (advisory 15 min, mandatory 10 min before expiry) by calling _assume_role again.
        self.credentials = _RoleCredentials(
            refresh_using=self._assume_role, method="assume-role", **extra
        )
        self._session = botocore.session.Session()
        self._session.register_component(
            "credential_provider", CredentialResolver([_FixedCredentialProvider(self.credentials)])
        )
        self.last_call_refreshed = False  # whether the latest call() had to assume the role again

    def client(self, service: str) -> Any:
        """A client of ``service`` in the target region, signed with the role's credentials."""
        return self._session.create_client(service, region_name=self.config.region, config=CLIENT_CONFIG)

    def call(self, operation: Callable[..., Any], **params: Any) -> Any:
        """``operation(**params)``; when the service says the session token expired, assume the role
        again and call once more (``last_call_refreshed`` then says so).

        The session expired before botocore expected it to (revoked, or the clock is off):
        botocore refreshes on its own clock only, and standard retries do not retry ExpiredToken
        (nor would a retry help: it re-signs with the same session). Once, so a second
        ExpiredToken is the caller's to report.
        """
        self.last_call_refreshed = False
        try:
            return operation(**params)
        except ClientError as exc:
            if error_code(exc) not in EXPIRED_TOKEN_CODES:
                raise
        self.credentials.expire()
        self.last_call_refreshed = True
        return operation(**params)

    def _assume_role(self) -> dict[str, str]:
        params: dict[str, Any] = {
            "RoleArn": self.config.role_arn,
            "RoleSessionName": self.config.session_name,
            "DurationSeconds": SESSION_DURATION_SECONDS,
        }
        if self.config.external_id is not None:
            params["ExternalId"] = self.config.external_id
        if self.config.session_tags:
            params["Tags"] = [{"Key": k, "Value": v} for k, v in sorted(self.config.session_tags.items())]
        if self.config.source_identity is not None:
            params["SourceIdentity"] = self.config.source_identity
        try:
            credentials = self.sts.assume_role(**params)["Credentials"]
        except (BotoCoreError, ClientError) as exc:
            code, denied = describe_sdk_error(exc)
            raise AssumeRoleFailed(
                f"could not assume role {self.config.role_arn} ({code})", code, denied
            ) from exc
        expiration = credentials["Expiration"]
        return {
            "access_key": credentials["AccessKeyId"],
            "secret_key": credentials["SecretAccessKey"],
            "token": credentials["SessionToken"],
            "expiry_time": expiration.isoformat()
            if isinstance(expiration, datetime)
            else str(expiration),
        }


class RoleS3(Generic[ConfigT]):
    """An S3 client in the target region signed with refreshable credentials of the target role: what
    ``RoleWriter`` and ``RoleReader`` are built on (``config``, its ``role`` session, ``sts`` and ``s3``).

    Built once per container. ``sts_client`` and ``clock`` go to its ``RoleSession``, so tests
    can inject them. Serves one invocation at a time, as a Lambda execution environment does.
    """

    def __init__(
        self,
        config: ConfigT,
        *,
        sts_client: Any = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.config = config
        self.role = RoleSession(config, sts_client=sts_client, clock=clock)
        self.sts = self.role.sts
        self.s3 = self.role.client("s3")
