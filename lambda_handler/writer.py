"""The writer's AWS boundary: an S3 client signed with refreshable credentials of the target role (role.py),
built once per container, that writes each object exactly once."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
)

from .config import Config
from .errors import (
    ObjectAlreadyExists,
    PutObjectFailed,
    describe_sdk_error,
    error_code,
)
from .events import PutRequest
from .role import RoleS3

# 503 from S3 is SlowDown: the request was refused, so it stored nothing.
_REFUSED_STATUS = 503


@dataclass(frozen=True)
class Written:
    """Where the object is, and how the write got there."""

    location: dict[str, Any]
    credentials_refreshed: bool = False  # S3 said ExpiredToken; the role was assumed again
    lost_response_recovered: bool = False  # a retried PUT found the write whose answer was lost


class RoleWriter(RoleS3[Config]):
    """Writes each object exactly once as the target role (``RoleS3``: the client, and what tests may
    inject), counting the PutObject attempts whose answer was lost (``_note_attempt``)."""

    def __init__(self, config: Config, **injected: Any) -> None:
        """``injected``: ``RoleS3``'s ``sts_client`` and ``clock``."""
        super().__init__(config, **injected)
        self.s3.meta.events.register("needs-retry.s3.PutObject", self._note_attempt)
        self._unanswered_puts = 0

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
        try:
            # An ExpiredToken answer assumes the role again and sends the PUT once more (role.py).
            response = self.role.call(self.s3.put_object, **params)
        except ClientError as exc:
            if error_code(exc) == "PreconditionFailed":
                refreshed = self.role.last_call_refreshed
                return self._own_write_or_conflict(request, md5.hexdigest(), refreshed)
            raise self._put_failed(request, exc) from exc
        except BotoCoreError as exc:
            raise self._put_failed(request, exc) from exc
        location = self._location(request, response.get("ETag"), response.get("VersionId"))
        return Written(location, credentials_refreshed=self.role.last_call_refreshed)

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
