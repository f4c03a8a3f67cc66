"""The reader's AWS boundary: an S3 client signed with refreshable credentials of the target role (role.py),
built once per container, that reads one object of at most MAX_OBJECT_BYTES."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from .config import ReaderConfig
from .errors import GetObjectFailed, NoSuchKey, ObjectTooLarge, describe_sdk_error, error_code
from .events import GetRequest
from .role import RoleS3


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


class RoleReader(RoleS3[ReaderConfig]):
    """Reads one object as the target role (``RoleS3``: the client, and what tests may inject)."""

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
            failed = self._get_failed(where, exc)
            if failed.access_denied and self._listed_absent(request.key):
                raise NoSuchKey(f"{where} does not exist (S3 answered AccessDenied, as it does for a missing key "
                                "when the role's s3:ListBucket is limited by s3:prefix; listing the key shows "
                                "none)") from exc
            raise failed from exc
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

    def _listed_absent(self, key: str) -> bool:
        """Whether listing the key's own prefix (which a grant's role may: s3:ListBucket under its prefix) shows
        no object of exactly that key. S3 answers GetObject of a missing key with 403 to a caller whose
        s3:ListBucket does not cover the request (API_GetObject.html, "Permissions"); a GetObject carries no
        s3:prefix, so a listing limited by s3:prefix never covers it. Only asked after a 403: a read that works
        costs nothing more. False when the listing fails too: then the 403 stands."""
        try:
            listed = self.s3.list_objects_v2(Bucket=self.config.bucket, Prefix=key, MaxKeys=1)
        except (ClientError, BotoCoreError):
            return False
        # Keys come back in UTF-8 binary order, so the key itself, if it exists, is the first with that prefix.
        return not any(item.get("Key") == key for item in listed.get("Contents", []))

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
