"""No grant acts outside its prefix: not under another grant's, not under a sibling that merely starts with the
same letters, not anywhere else, and no listing of the whole bucket. Every denial also checks that nothing was
written.

The committed grants share incoming/ (analytics reads what dev writes), so here prod is deployed, in a cloud of
this module's own, with the reader's grant moved to reports/: each grant then has a prefix the other may not use.
The objects a denied read asks for exist (put by the prod deployer), so a denial is never a missing key.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from tests.integration.conftest import CloudSpec, DeployedGrant, assert_denied, own_cloud, prod_grants

READER_PREFIX = "reports/"
SPLIT = CloudSpec("split-prefixes", (("cross-account-s3:grants", json.dumps(
    [g | {"keyPrefix": READER_PREFIX} if g["access"] == "read" else g for g in prod_grants()])),))

pytestmark = [pytest.mark.integration, own_cloud(SPLIT)]

GRANTS = {g["name"]: g for g in json.loads(dict(SPLIT.prod_config)["cross-account-s3:grants"])}
OUTSIDE = "elsewhere/"


def places(grant: str) -> dict[str, str]:
    """Where the grant's role must not act, by name: each other grant's prefix, a sibling of its own prefix
    (its name with something after it, no slash between), and a prefix no grant has."""
    own = GRANTS[grant]["keyPrefix"]
    found = {f"under {other}": g["keyPrefix"] for other, g in GRANTS.items()
             if other != grant and g["keyPrefix"] != own}
    return found | {"under a sibling of its prefix": f"{own.rstrip('/')}-sibling/", "outside every prefix": OUTSIDE}


def operations(grant: str) -> list[str]:
    access = GRANTS[grant]["access"]
    return [*(["put"] if access != "read" else []), *(["get"] if access != "write" else []), "list"]


CASES = [pytest.param(grant, operation, place, id=f"{grant}-{operation}-{place.replace(' ', '-')}")
         for grant in GRANTS for operation in operations(grant) for place in places(grant)]


def attempt(s3: Any, bucket: str, operation: str, prefix: str, key: str) -> Any:
    """One operation of a grant's session at ``prefix``: put ``key``, get ``key``, or list the prefix."""
    if operation == "put":
        return s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    if operation == "get":
        return s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    return s3.list_objects_v2(Bucket=bucket, Prefix=prefix)


def key_at(prod_s3: Any, bucket: str, operation: str, prefix: str) -> str:
    """A fresh key under ``prefix``; for a get, one the prod deployer has put there."""
    key = f"{prefix}isolation/{uuid.uuid4()}.txt"
    if operation == "get":
        prod_s3.put_object(Bucket=bucket, Key=key, Body=b"there")
    return key


def test_prod_deployed_the_grants_with_different_prefixes(grant):
    assert {name: grant(name).key_prefix for name in GRANTS} == {name: g["keyPrefix"] for name, g in GRANTS.items()}
    assert len({g["keyPrefix"] for g in GRANTS.values()}) == len(GRANTS)


@pytest.mark.parametrize(("name", "operation"),
                         [(name, operation) for name in GRANTS for operation in operations(name)])
def test_each_grant_does_what_it_may_under_its_own_prefix(grant, role_session, prod_s3, bucket, name, operation):
    """The control: the same session and operation that the denials below use works where the grant points."""
    own: DeployedGrant = grant(name)
    key = key_at(prod_s3, bucket, operation, own.key_prefix)
    attempt(role_session(own), bucket, operation, own.key_prefix, key)


@pytest.mark.parametrize(("name", "operation", "place"), CASES)
def test_no_grant_acts_outside_its_prefix(grant, role_session, prod_s3, bucket, bucket_unchanged, name, operation,
                                          place):
    s3 = role_session(grant(name))
    prefix = places(name)[place]
    key = key_at(prod_s3, bucket, operation, prefix)
    with bucket_unchanged():
        assert_denied(lambda: attempt(s3, bucket, operation, prefix, key))


@pytest.mark.parametrize("name", list(GRANTS))
def test_no_grant_lists_the_whole_bucket(grant, role_session, bucket, bucket_unchanged, name):
    s3 = role_session(grant(name))
    with bucket_unchanged():
        assert_denied(lambda: s3.list_objects_v2(Bucket=bucket))
        assert_denied(lambda: s3.list_objects_v2(Bucket=bucket, Prefix=""))
        assert_denied(lambda: s3.list_object_versions(Bucket=bucket, Prefix=grant(name).key_prefix))
