"""A key that does not exist, as S3 tells it: 404 NoSuchKey to a caller who may list the bucket, 403 AccessDenied
to anyone else (API_GetObject.html and API_HeadObject.html, "Permissions": "If the object you request doesn't
exist, the error that Amazon S3 returns depends on whether you also have the s3:ListBucket permission").

s3:ListBucket is evaluated with the GetObject request's own context, in which s3:prefix is absent, so a listing
permission limited by s3:prefix does not turn the 403 into a 404.
"""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from localcloud_testing.builders import Builder, allow


def reader(build: Builder, bucket: str, *extra: dict[str, Any]) -> Any:
    _, credentials = build.user("dev", [allow("s3:GetObject", f"arn:aws:s3:::{bucket}/*"), *extra])
    return build.cloud.client("s3", credentials=credentials)


def status_of(call: Any, **kwargs: Any) -> tuple[int, str]:
    with pytest.raises(ClientError) as raised:
        call(**kwargs)
    error = raised.value.response
    return error["ResponseMetadata"]["HTTPStatusCode"], str(error["Error"]["Code"])


@pytest.fixture
def bucket(build: Builder) -> str:
    name = build.bucket("dev")
    build.cloud.client("s3", "dev").put_object(Bucket=name, Key="present.txt", Body=b"here")
    return name


def test_without_list_bucket_a_missing_key_is_access_denied(build: Builder, bucket: str):
    s3 = reader(build, bucket)

    assert status_of(s3.get_object, Bucket=bucket, Key="absent.txt") == (403, "AccessDenied")
    assert status_of(s3.head_object, Bucket=bucket, Key="absent.txt") == (403, "403")
    assert s3.get_object(Bucket=bucket, Key="present.txt")["Body"].read() == b"here"


def test_with_list_bucket_a_missing_key_is_no_such_key(build: Builder, bucket: str):
    s3 = reader(build, bucket, allow("s3:ListBucket", f"arn:aws:s3:::{bucket}"))

    assert status_of(s3.get_object, Bucket=bucket, Key="absent.txt") == (404, "NoSuchKey")
    assert status_of(s3.head_object, Bucket=bucket, Key="absent.txt") == (404, "404")


def test_list_bucket_limited_by_prefix_does_not_reveal_a_missing_key(build: Builder, bucket: str):
    by_prefix = allow("s3:ListBucket", f"arn:aws:s3:::{bucket}", Condition={"StringLike": {"s3:prefix": "a*"}})
    s3 = reader(build, bucket, by_prefix)

    assert status_of(s3.get_object, Bucket=bucket, Key="absent.txt") == (403, "AccessDenied")
    assert s3.list_objects_v2(Bucket=bucket, Prefix="a")["KeyCount"] == 0  # the listing itself is allowed


def test_the_bucket_owner_gets_no_such_key(build: Builder, bucket: str):
    s3 = build.cloud.client("s3", "dev")

    assert status_of(s3.get_object, Bucket=bucket, Key="absent.txt") == (404, "NoSuchKey")
