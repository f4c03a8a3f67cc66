"""The organization model (localcloud.organizations): IDs as AWS Organizations writes them, paths as
aws:PrincipalOrgPaths carries them, what DescribeOrganization answers, cloud.json, and the command line's --org.

Pages: IAM User Guide reference_policies_condition-keys.html (aws:PrincipalOrgID, aws:PrincipalOrgPaths);
Organizations API reference API_Organization.html, API_Root.html, API_OrganizationalUnit.html (ID formats);
Organizations User Guide orgs_reference_limits.html (five levels of OUs under the root).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from localcloud.cli import UsageError, add_organization_arguments, main, organization_from_args
from localcloud.organizations import Organization, OrganizationError
from localcloud.running import CloudFile
from localcloud.server import LocalCloud, LocalCloudError
from localcloud_testing.builders import DEV, OTHER, PROD

ORG = "o-a1b2c3d4e5"
WORKLOADS = "ou-a1b2-workloads"
TEAM = "ou-a1b2-teamdata1"


def nested() -> Organization:
    return Organization(ORG, PROD, {DEV: (WORKLOADS, TEAM)})


def problems_of(**kwargs: object) -> str:
    arguments = {"id": ORG, "management_account": PROD, **kwargs}
    with pytest.raises(OrganizationError) as raised:
        Organization(**arguments)  # type: ignore[arg-type]  # the tests pass wrong values on purpose
    return str(raised.value)


# --- membership and the context keys -------------------------------------------------------------------------


def test_a_members_path_names_the_organization_root_and_ous_down_to_its_own_with_a_trailing_slash() -> None:
    """reference_policies_condition-keys.html, aws:PrincipalOrgPaths: ``o-a1b2c3d4e5/r-f6g7h8i9j0example/
    ou-ghi0-awsccccc/ou-jkl0-awsddddd/`` is the path of an account attached directly to ou-jkl0-awsddddd."""
    organization = nested()
    assert organization.root_id == "r-a1b2"
    assert organization.path_of(DEV) == f"{ORG}/r-a1b2/{WORKLOADS}/{TEAM}/"
    assert organization.path_of(PROD) == f"{ORG}/r-a1b2/"  # the management account: a member, under the root
    assert organization.path_of(OTHER) is None


def test_only_members_principals_get_the_org_keys_and_the_paths_key_is_multivalued() -> None:
    """reference_policies_condition-keys.html: both keys are "included in the request context only if the
    principal is a member of an organization" (the management account too); aws:PrincipalOrgPaths is a
    multivalued key."""
    organization = nested()
    assert organization.principal_context(DEV) == {"aws:PrincipalOrgID": ORG,
                                                   "aws:PrincipalOrgPaths": [f"{ORG}/r-a1b2/{WORKLOADS}/{TEAM}/"]}
    assert organization.principal_context(PROD)["aws:PrincipalOrgID"] == ORG
    assert organization.principal_context(OTHER) == {}
    assert organization.principal_context(None) == {}


def test_a_given_root_id_is_used_and_the_management_email_can_be_given() -> None:
    """API_Root.html, Id: r- and 4 to 32 lowercase letters or digits."""
    organization = Organization(ORG, PROD, {DEV: ("ou-f6g7h8i9j0-awsccccc",)}, root_id="r-f6g7h8i9j0",
                                management_email="billing@example.org")
    assert organization.path_of(DEV) == f"{ORG}/r-f6g7h8i9j0/ou-f6g7h8i9j0-awsccccc/"
    assert organization.describe()["MasterAccountEmail"] == "billing@example.org"


def test_every_account_directly_under_the_root() -> None:
    organization = Organization.of_accounts(ORG, [PROD, DEV], DEV)
    assert organization.management_account == DEV
    assert {organization.path_of(account) for account in (PROD, DEV)} == {f"{ORG}/r-a1b2/"}


def test_describe_is_the_organization_structure_of_describe_organization() -> None:
    """API_Organization.html: Id, Arn (arn:aws:organizations::MANAGEMENT:organization/o-ID), FeatureSet,
    MasterAccountArn (...:account/o-ID/ACCOUNT), MasterAccountId, MasterAccountEmail, AvailablePolicyTypes."""
    assert nested().describe() == {
        "Id": ORG,
        "Arn": f"arn:aws:organizations::{PROD}:organization/{ORG}",
        "FeatureSet": "ALL",
        "MasterAccountArn": f"arn:aws:organizations::{PROD}:account/{ORG}/{PROD}",
        "MasterAccountId": PROD,
        "MasterAccountEmail": f"{PROD}@example.com",
        "AvailablePolicyTypes": [],
    }


# --- validation ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("kwargs", "expected"), [
    ({"id": "o-abc"}, "'o-abc' is not an organization ID: an organization ID is o- followed by 10 to 32 lowercase "
                      "letters or digits"),
    ({"id": "o-A1B2C3D4E5"}, "'o-A1B2C3D4E5' is not an organization ID"),
    ({"root_id": "r-ab"}, "'r-ab' is not a root ID: a root ID is r- followed by 4 to 32 lowercase letters or digits"),
    ({"management_account": "1111"}, "the management account '1111' is not an account ID (12 digits)"),
    ({"members": {"22222222222x": ()}}, "member '22222222222x' is not an account ID (12 digits)"),
    ({"members": {DEV: ("workloads",)}}, "'workloads' (in account 222222222222's OU path) is not an OU ID: an OU ID "
                                         "is ou-, its root's ID without r-, a dash, and 8 to 32 lowercase letters or "
                                         "digits"),
    ({"members": {DEV: ("ou-zz99-workloads",)}}, "OU ou-zz99-workloads is not in root r-a1b2: its ID would start "
                                                 "ou-a1b2-"),
    ({"members": {DEV: (WORKLOADS, WORKLOADS)}}, f"account {DEV}'s OU path names an OU twice"),
    ({"members": {DEV: (WORKLOADS, TEAM), OTHER: (TEAM,)}},
     f"OU {TEAM} has two parents: {WORKLOADS} and r-a1b2 (an OU has exactly one)"),
    ({"members": {DEV: tuple(f"ou-a1b2-level000{n}" for n in range(6))}},
     f"account {DEV}'s OU path is 6 OUs deep; OUs nest at most 5 levels under the root"),
])
def test_an_organization_aws_could_not_have_is_refused_naming_the_problem(kwargs: dict[str, object],
                                                                         expected: str) -> None:
    """The ID formats of API_Organization.html, API_Root.html, API_OrganizationalUnit.html (an OU's ID carries its
    root's); an OU has one parent; orgs_reference_limits.html: OUs nest five levels deep under the root."""
    assert expected in problems_of(**kwargs)


def test_every_problem_is_named_at_once() -> None:
    message = problems_of(id="o-short", management_account="x", members={DEV: ("bad",)})
    assert message.startswith("Invalid organization: ")
    assert "'o-short' is not an organization ID" in message
    assert "'bad' (in account 222222222222's OU path) is not an OU ID" in message
    assert "the management account 'x' is not an account ID" in message
    assert "root ID" not in message  # the root is derived from the ID: its problem is the ID's


def test_the_members_cannot_be_changed_afterwards() -> None:
    organization = nested()
    with pytest.raises(TypeError):
        organization.members[OTHER] = ()  # type: ignore[index]  # a read-only mapping


# --- the cloud, cloud.json ------------------------------------------------------------------------------------


def test_a_cloud_has_no_organization_unless_given_one(tmp_path: Path) -> None:
    """The default: accounts stand alone, as AWS accounts do until they create or join an organization."""
    assert LocalCloud({"prod": PROD}, state_dir=tmp_path).organization is None


def test_an_organization_naming_an_account_the_cloud_lacks_is_refused(tmp_path: Path) -> None:
    with pytest.raises(LocalCloudError, match=f"names account\\(s\\) {OTHER} that the cloud does not have"):
        LocalCloud({"prod": PROD, "dev": DEV}, state_dir=tmp_path,
                   organization=Organization(ORG, PROD, {OTHER: ()}))


def test_cloud_json_keeps_the_organization(tmp_path: Path) -> None:
    written = CloudFile("https://127.0.0.1:1", "http://127.0.0.1:2", "/ca.pem", {"prod": PROD, "dev": DEV},
                        {PROD: {"aws_access_key_id": "AKIA", "aws_secret_access_key": "secret"}}, nested())
    written.write(tmp_path)
    assert CloudFile.read(tmp_path) == written
    assert CloudFile.read(tmp_path).organization == nested()


def test_cloud_json_without_an_organization_reads_as_none(tmp_path: Path) -> None:
    CloudFile("https://127.0.0.1:1", "http://127.0.0.1:2", "/ca.pem", {"prod": PROD}, {}).write(tmp_path)
    assert CloudFile.read(tmp_path).organization is None


# --- the command line ------------------------------------------------------------------------------------------


def organization_arguments(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="serve")
    add_organization_arguments(parser)
    return parser.parse_args(list(argv))


ACCOUNTS = {"prod": PROD, "dev": DEV}


def test_org_makes_every_account_a_member_and_the_first_the_management_account() -> None:
    organization = organization_from_args(organization_arguments("--org", ORG), ACCOUNTS)
    assert organization == Organization.of_accounts(ORG, [PROD, DEV], PROD)


@pytest.mark.parametrize("management", ["dev", DEV])
def test_org_management_names_the_management_account_by_name_or_id(management: str) -> None:
    organization = organization_from_args(organization_arguments("--org", ORG, "--org-management", management),
                                          ACCOUNTS)
    assert organization is not None and organization.management_account == DEV
    assert set(organization.members) == {PROD, DEV}


def test_no_org_means_no_organization() -> None:
    assert organization_from_args(organization_arguments(), ACCOUNTS) is None


def test_a_malformed_org_id_is_named_by_argparse(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        organization_arguments("--org", "o-ABC")
    assert exited.value.code == 2
    assert ("argument --org: 'o-ABC' is not an organization ID: an organization ID is o- followed by 10 to 32 "
            "lowercase letters or digits") in capsys.readouterr().err


def test_org_management_naming_no_account_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="--org-management 'staging' is none of the cloud's accounts: "
                                         f"prod={PROD}, dev={DEV}"):
        organization_from_args(organization_arguments("--org", ORG, "--org-management", "staging"), ACCOUNTS)


def test_serve_refuses_org_management_without_org_before_starting_anything(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["--state-dir", str(tmp_path), "serve", "--accounts", f"prod={PROD},dev={DEV}",
                 "--org-management", "dev"])
    assert code == 2
    assert "localcloud: --org-management needs --org, the organization's ID (o-...)" in capsys.readouterr().err
    assert not (tmp_path / "cloud.json").exists()
