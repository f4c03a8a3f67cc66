"""The reader's AWS boundary: an S3 client signed with refreshable credentials of the target role (role.py),
built once per container, that reads one object of at most MAX_OBJECT_BYTES."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from .config import ReaderConfig
from .errors import GetObjectFailed, NoSuchKey, ObjectTooLarge, describe_sdk_error, error_code
from .events import GetRequest
from .role import RoleSession


@dataclass(frozen=True)
class ObjectRead:
    """One object as S3 returned it, and how the read got there."""

    bucket: str
    key: str  # the full key, prefix included
    size: int
    content_type: str | None
    version_id: str | None  # None when the bucket has never had versioning
    data: bytes
    credentials_refreshed: bool = False  # S3 said ExpiredToken; the role was assumed again

    def response_body(self, encoding: str, body: str) -> dict[str, Any]:
        """The 200 response's body, with ``body`` the object's bytes in ``encoding`` ("utf-8" or "base64")."""
        return {
            "bucket": self.bucket,
            "key": self.key,
            "size": self.size,
            "contentType": self.content_type,
            "versionId": self.version_id,
            "encoding": encoding,
            "body": body,
        }


def _is_missing_key(exc: ClientError) -> bool:
    """S3 said NoSuchKey, or answered 404 with an error document botocore could not parse, whose code botocore
    then gives as "404": the NoSuchKey document names the key, and one holding a character XML 1.0 cannot
    (U+FFFE, say, which S3 keys may contain) does not parse. NoSuchBucket names only the bucket, so it parses."""
    code = error_code(exc)
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return code == "NoSuchKey" or (code == "404" and status == 404)


class RoleReader:
    """An S3 client in the target region signed with refreshable credentials of the target role.

    Built once per container. ``sts_client`` and ``clock`` go to its ``RoleSession``, so tests
    can inject them. Serves one invocation at a time, as a Lambda execution environment does.
    """

    def __init__(
        self,
        config: ReaderConfig,
        *,
        sts_client: Any = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.config = config
        self.role = RoleSession(config, sts_client=sts_client, clock=clock)
        self.sts = self.role.sts
        self.s3 = self.role.client("s3")

    def get(self, request: GetRequest) -> ObjectRead:
        """Read the object, or raise AssumeRoleFailed, NoSuchKey, ObjectTooLarge or GetObjectFailed.

        The size is checked on GetObject's Content-Length, before the body: an object over the
        limit is never read, its stream is closed unread (so the connection is dropped rather than
        drained). A body within the limit is read whole, which botocore checks against that length.
        """
        where = f"s3://{self.config.bucket}/{request.key}"
        try:
            # An ExpiredToken answer assumes the role again and sends the GET once more (role.py).
            response = self.role.call(self.s3.get_object, Bucket=self.config.bucket, Key=request.key)
        except ClientError as exc:
            if _is_missing_key(exc):
                raise NoSuchKey(f"{where} does not exist (NoSuchKey)") from exc
            raise self._get_failed(where, exc) from exc
        except BotoCoreError as exc:
            raise self._get_failed(where, exc) from exc
        refreshed = self.role.last_call_refreshed
        stream = response["Body"]
        size = int(response["ContentLength"])
        limit = self.config.max_object_bytes
        try:
            if size > limit:
                raise ObjectTooLarge(
                    f"{where} is {size} bytes; the limit is {limit} bytes (MAX_OBJECT_BYTES)", size
                )
            data = stream.read()
        except BotoCoreError as exc:  # the connection failed mid-body, or it was cut short
            raise self._get_failed(where, exc) from exc
        finally:
            stream.close()
        return ObjectRead(
            bucket=self.config.bucket,
            key=request.key,
            size=size,
            content_type=response.get("ContentType"),
            version_id=response.get("VersionId"),
            data=data,
            credentials_refreshed=refreshed,
        )

    @staticmethod
    def _get_failed(where: str, exc: BotoCoreError | ClientError) -> GetObjectFailed:
        code, denied = describe_sdk_error(exc)
        message = f"could not read {where} ({code})"
        if denied:
            message += (
                "; S3 also answers AccessDenied for a key that does not exist when the role may not "
                "list it (s3:ListBucket on the prefix)"
            )
        return GetObjectFailed(message, code, denied)
