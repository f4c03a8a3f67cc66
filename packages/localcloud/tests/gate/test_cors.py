"""S3 CORS preflight: an unauthenticated OPTIONS is answered from the bucket's CORS configuration (S3 User Guide,
cors.html, "How does Amazon S3 evaluate the CORS configuration on a bucket?"; API_PutBucketCors.html)."""

from __future__ import annotations

import http.client
from collections.abc import Mapping

from localcloud.server import LocalCloud
from localcloud_testing.builders import Builder


def preflight(cloud: LocalCloud, path: str, headers: Mapping[str, str]) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", cloud.http_port, timeout=10)
    try:
        connection.request("OPTIONS", path, headers=dict(headers))
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def cors_bucket(cloud: LocalCloud, build: Builder) -> str:
    bucket = build.bucket("dev")
    cloud.client("s3", "dev").put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [{
        "AllowedOrigins": ["https://*.example.com"], "AllowedMethods": ["GET", "PUT"],
        "AllowedHeaders": ["content-type", "x-amz-*"], "ExposeHeaders": ["ETag"], "MaxAgeSeconds": 600,
    }]})
    return bucket


def test_a_preflight_the_rules_allow_gets_the_cors_headers(cloud: LocalCloud, build: Builder) -> None:
    bucket = cors_bucket(cloud, build)
    status, headers, _ = preflight(cloud, f"/{bucket}/photo.jpg", {
        "Origin": "https://app.example.com", "Access-Control-Request-Method": "PUT",
        "Access-Control-Request-Headers": "Content-Type, X-Amz-Meta-Owner"})
    assert status == 200
    assert headers["access-control-allow-origin"] == "https://app.example.com"
    assert headers["access-control-allow-methods"] == "GET, PUT"
    assert headers["access-control-allow-headers"] == "Content-Type, X-Amz-Meta-Owner"
    assert headers["access-control-expose-headers"] == "ETag"
    assert headers["access-control-max-age"] == "600"


def test_a_preflight_from_another_origin_or_for_another_method_is_forbidden(cloud: LocalCloud, build: Builder) -> None:
    bucket = cors_bucket(cloud, build)
    for origin, method in (("https://evil.test", "GET"), ("https://app.example.com", "DELETE")):
        status, _, body = preflight(cloud, f"/{bucket}/photo.jpg", {"Origin": origin,
                                                                   "Access-Control-Request-Method": method})
        assert status == 403 and b"<Code>AccessForbidden</Code>" in body


def test_a_preflight_to_a_bucket_without_cors_is_forbidden(cloud: LocalCloud, build: Builder) -> None:
    bucket = build.bucket("dev")
    status, _, body = preflight(cloud, f"/{bucket}/k", {"Origin": "https://a.example.com",
                                                       "Access-Control-Request-Method": "GET"})
    assert status == 403 and b"CORS is not enabled for this bucket" in body


def test_a_preflight_without_origin_is_a_bad_request(cloud: LocalCloud, build: Builder) -> None:
    status, _, body = preflight(cloud, f"/{cors_bucket(cloud, build)}/k", {"Access-Control-Request-Method": "GET"})
    assert status == 400 and b"<Code>BadRequest</Code>" in body
