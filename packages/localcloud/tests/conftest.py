"""Fixtures for localcloud's tests: one LocalCloud per test module, in two accounts (localcloud_testing.builders has
the names and builders). A module that needs other accounts, or an organization, overrides ``cloud_accounts`` or
``cloud_organization`` (module-scoped fixtures of the same name in the test module) and still gets its cloud from
``cloud``: one LocalCloud per process at a time."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from localcloud.organizations import Organization
from localcloud.server import LocalCloud
from localcloud_testing.builders import DEV, PROD, REGION, Builder


@pytest.fixture(scope="module")
def cloud_accounts() -> dict[str, str]:
    return {"prod": PROD, "dev": DEV}


@pytest.fixture(scope="module")
def cloud_organization() -> Organization | None:
    """No organization: the accounts stand alone, as LocalCloud's default has them."""
    return None


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory, cloud_accounts: dict[str, str],
          cloud_organization: Organization | None) -> Iterator[LocalCloud]:
    state_dir: Path = tmp_path_factory.mktemp("localcloud")
    with LocalCloud(cloud_accounts, REGION, state_dir, organization=cloud_organization) as running:
        yield running


@pytest.fixture
def build(cloud: LocalCloud) -> Builder:
    return Builder(cloud)
