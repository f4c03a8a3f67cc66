"""The AWS boundary: an S3 client signed with refreshable credentials of the target role, built once per
container, that writes each object exactly once."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import botocore.session
from botocore.config import Config as BotocoreConfig
from botocore.credentials import (
    CredentialProvider,
    CredentialResolver,
    Credentials,
    DeferredRefreshableCredentials,
)
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
)

from .config import Config, session_name
from .errors import (
    EXPIRED_TOKEN_CODES,
    AssumeRoleFailed,
    ObjectAlreadyExists,
    PutObjectFailed,
    describe_sdk_error,
    error_code,
)
from .events import PutRequest

# Role chaining (a Lambda execution role session assuming another role) is capped at 1 hour.
SESSION_DURATION_SECONDS = 3600
# 503 from S3 is SlowDown: the request was refused, so it stored nothing.
_REFUSED_STATUS = 503

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


@dataclass(frozen=True)
class Written:
    """Where the object is, and how the write got there."""

    location: dict[str, Any]
    credentials_refreshed: bool = False  # S3 said ExpiredToken; the role was assumed again
    lost_response_recovered: bool = False  # a retried PUT found the write whose answer was lost


class RoleWriter:
    """An S3 client in the target region signed with refreshable credentials of the target role.

    Built once per container. ``sts_client`` (default: one built from the execution role's own
    credentials) and ``clock`` (for botocore's expiry checks) exist so tests can inject them.
    Serves one invocation at a time, as a Lambda execution environment does.
    """

    def __init__(
        self,
        config: Config,
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
        session = botocore.session.Session()
        session.register_component(
            "credential_provider", CredentialResolver([_FixedCredentialProvider(self.credentials)])
        )
        self.s3 = session.create_client("s3", region_name=config.region, config=CLIENT_CONFIG)
        self.s3.meta.events.register("needs-retry.s3.PutObject", self._note_attempt)
        self._unanswered_puts = 0

    def _assume_role(self) -> dict[str, str]:
        params: dict[str, Any] = {
            "RoleArn": self.config.role_arn,
            "RoleSessionName": session_name(self.config.function_name),
            "DurationSeconds": SESSION_DURATION_SECONDS,
        }
        if self.config.external_id is not None:
            params["ExternalId"] = self.config.external_id
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

    def _note_attempt(
        self, response: Any = None, caught_exception: Exception | None = None, **_: Any
    ) -> None:
        """botocore's needs-retry hook, called after every PutObject attempt: count the attempts
        S3 may have carried out without us hearing so (no HTTP answer after the connection was
        made, or a 5xx other than SlowDown). Returns None: the retry decision stays botocore's."""
        if caught_exception is not None:
            if not isinstance(caught_exception, (EndpointConnectionError, ConnectTimeoutError)):
                self._unanswered_puts += 1  # sent, perhaps stored, answer lost
        elif response is not None and response[0].status_code >= 500:
            self._unanswered_puts += response[0].status_code != _REFUSED_STATUS

    def put(self, request: PutRequest) -> Written:
        """Write the object exactly once, or raise AssumeRoleFailed, PutObjectFailed or
        ObjectAlreadyExists.

        Exactly once, although botocore retries: the PUT is conditional (``If-None-Match: *``), so
        no attempt can replace an object or add a version, and it carries ``Content-MD5``, so S3
        stores our exact bytes or nothing (a corrupted or cut-short body fails with BadDigest or
        IncompleteBody). A 412 PreconditionFailed then means the key already holds an object.
        It is this invocation's own write only if an earlier attempt may have been stored with
        its answer lost (``_note_attempt``), and then the stored ETag, which for a single-part
        PUT to an SSE-S3 bucket is the MD5 of the body, must be our MD5 too; S3 guaranteed that
        match when it accepted our Content-MD5. The check lists the exact key with the role's
        prefix-scoped s3:ListBucket: no s3:GetObject needed, the role stays write-only. A 412
        otherwise (a caller-chosen key that exists) is a 409: keys are write-once. The one case
        this cannot tell apart, an identical object already there before an attempt whose
        answer was lost, leaves the bucket exactly as a successful write would.
        """
        self._unanswered_puts = 0
        md5 = hashlib.md5(request.body)  # noqa: S324 - S3's integrity check and ETag, not security
        params = {
            "Bucket": self.config.bucket,
            "Key": request.key,
            "Body": request.body,
            "ContentType": request.content_type,
            "ContentMD5": base64.b64encode(md5.digest()).decode(),
            "IfNoneMatch": "*",
        }
        refreshed = False
        try:
            try:
                response = self.s3.put_object(**params)
            except ClientError as exc:
                if error_code(exc) not in EXPIRED_TOKEN_CODES:
                    raise
                # The session expired before botocore expected it to (revoked, or the clock
                # is off): botocore refreshes on its own clock only, and standard retries do
                # not retry ExpiredToken (nor would a retry help: it re-signs with the same
                # session). So assume the role again and send the PUT once more, once.
                self.credentials.expire()
                refreshed = True
                response = self.s3.put_object(**params)
        except ClientError as exc:
            if error_code(exc) == "PreconditionFailed":
                return self._own_write_or_conflict(request, md5.hexdigest(), refreshed)
            raise self._put_failed(request, exc) from exc
        except BotoCoreError as exc:
            raise self._put_failed(request, exc) from exc
        location = self._location(request, response.get("ETag"), response.get("VersionId"))
        return Written(location, credentials_refreshed=refreshed)

    def _own_write_or_conflict(
        self, request: PutRequest, md5_hex: str, refreshed: bool
    ) -> Written:
        where = f"s3://{self.config.bucket}/{request.key}"
        if self._unanswered_puts:
            try:
                listed = self.s3.list_objects_v2(
                    Bucket=self.config.bucket, Prefix=request.key, MaxKeys=1
                ).get("Contents", [])
            except (BotoCoreError, ClientError) as exc:
                code, denied = describe_sdk_error(exc)
                raise PutObjectFailed(
                    f"{where} exists after a write whose answer was lost, and listing it to check "
                    f"whether it is this write failed ({code})", code, denied,
                ) from exc
            # The key itself sorts first among the keys it prefixes.
            found = listed[0] if listed and listed[0]["Key"] == request.key else None
            if found is not None and found["ETag"].strip('"') == md5_hex:
                # Its version id was in the lost answer; reading it back would need more rights.
                return Written(
                    self._location(request, found["ETag"], None),
                    credentials_refreshed=refreshed,
                    lost_response_recovered=True,
                )
        raise ObjectAlreadyExists(
            f"{where} already exists and was not written by this invocation; nothing was written "
            f"(keys are write-once: choose another key, or omit it for a fresh one)"
        )

    def _put_failed(self, request: PutRequest, exc: BotoCoreError | ClientError) -> PutObjectFailed:
        code, denied = describe_sdk_error(exc)
        message = f"could not write s3://{self.config.bucket}/{request.key} ({code})"
        if self._unanswered_puts:
            message += "; an attempt's answer was lost, so S3 may have stored the object"
        return PutObjectFailed(message, code, denied)

    def _location(
        self, request: PutRequest, etag: str | None, version_id: str | None
    ) -> dict[str, Any]:
        return {
            "bucket": self.config.bucket,
            "key": request.key,
            "etag": etag,
            "versionId": version_id,
        }
