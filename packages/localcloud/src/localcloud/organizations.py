"""AWS Organizations membership, as far as IAM sees it: which organization an account is in, and where in it.

An ``Organization`` is a value: its ID, its root, its management account and its member accounts, each with the
OUs between the root and the account. From it come the request-context keys of a member account's principals and
what DescribeOrganization answers. An account of the cloud that is not a member stands outside any organization:
its principals carry neither key, and DescribeOrganization answers it AWSOrganizationsNotInUseException.

Sources: IAM User Guide reference_policies_condition-keys.html (aws:PrincipalOrgID, aws:PrincipalOrgPaths: "included
in the request context only if the principal is a member of an organization"; also for the management account);
Organizations API reference API_Organization.html, API_Root.html, API_OrganizationalUnit.html (the ID formats);
Organizations User Guide orgs_reference_limits.html (OUs nest at most five levels deep under the root).

Pure: no moto, no HTTP.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from localcloud import arns

ORGANIZATION_ID = re.compile(r"^o-[a-z0-9]{10,32}$")
ROOT_ID = re.compile(r"^r-[0-9a-z]{4,32}$")
# An OU's ID carries its root's ID without the "r-": ou-ROOT-SUFFIX (API_OrganizationalUnit.html, Id).
OU_ID = re.compile(r"^ou-(?P<root>[0-9a-z]{4,32})-[a-z0-9]{8,32}$")
ACCOUNT_ID = re.compile(r"^\d{12}$")
MAX_OU_DEPTH = 5
FEATURE_SET = "ALL"  # what CreateOrganization enables unless told otherwise (API_CreateOrganization.html, FeatureSet)

ORG_ID_KEY = "aws:PrincipalOrgID"
ORG_PATHS_KEY = "aws:PrincipalOrgPaths"

ORGANIZATION_ID_RULE = "an organization ID is o- followed by 10 to 32 lowercase letters or digits"
ROOT_ID_RULE = "a root ID is r- followed by 4 to 32 lowercase letters or digits"
OU_ID_RULE = "an OU ID is ou-, its root's ID without r-, a dash, and 8 to 32 lowercase letters or digits"


class OrganizationError(ValueError):
    """An organization AWS Organizations could not have; the message lists every problem found."""


@dataclass(frozen=True)
class Organization:
    """An organization of AWS Organizations, with all features enabled.

    ``members`` maps each member account's ID to its OU path: the OU IDs from the root down to the OU the account
    is in (empty: directly under the root). The management account is always a member; left out of ``members``,
    it sits directly under the root. ``root_id`` defaults to ``r-`` and the first four characters of the ID after
    ``o-``; ``management_email`` to ``ACCOUNT@example.com``. Every problem found is raised at once, as an
    ``OrganizationError``.
    """

    id: str
    management_account: str
    # hash=False: a mapping cannot be hashed; the organization's ID already tells two organizations apart.
    members: Mapping[str, Sequence[str]] = field(default_factory=dict, hash=False)
    root_id: str = ""
    management_email: str = ""

    def __post_init__(self) -> None:
        members = {account: tuple(path) for account, path in self.members.items()}
        members.setdefault(self.management_account, ())
        # Frozen: normalized values are set once, here, and the members mapping cannot change afterwards.
        object.__setattr__(self, "members", MappingProxyType(members))
        if not self.root_id and ORGANIZATION_ID.match(self.id):
            object.__setattr__(self, "root_id", f"r-{self.id[2:6]}")
        if not self.management_email:
            object.__setattr__(self, "management_email", f"{self.management_account}@example.com")
        found = problems(self)
        if found:
            raise OrganizationError("Invalid organization: " + "; ".join(found) + ".")

    @classmethod
    def of_accounts(cls, organization_id: str, accounts: Iterable[str], management_account: str) -> Organization:
        """Every one of ``accounts`` a member directly under the root."""
        return cls(organization_id, management_account, {account: () for account in accounts})

    # --- membership --------------------------------------------------------------------------------------------

    def is_member(self, account: str | None) -> bool:
        return account is not None and account in self.members

    def path_of(self, account: str | None) -> str | None:
        """A member's AWS Organizations path, as aws:PrincipalOrgPaths carries it: ``o-ID/r-ID/`` and one
        ``ou-ID/`` per OU down to the account's, ending in a slash (reference_policies_condition-keys.html, the
        examples of aws:PrincipalOrgPaths). None for an account outside the organization."""
        if account is None or account not in self.members:
            return None
        return f"{self.id}/{self.root_id}/" + "".join(f"{ou}/" for ou in self.members[account])

    def principal_context(self, account: str | None) -> dict[str, str | list[str]]:
        """aws:PrincipalOrgID and aws:PrincipalOrgPaths (multivalued: one path, an account has one parent) for a
        principal of ``account``; nothing for an account outside the organization."""
        path = self.path_of(account)
        if path is None:
            return {}
        return {ORG_ID_KEY: self.id, ORG_PATHS_KEY: [path]}

    # --- as AWS Organizations shows it ------------------------------------------------------------------------

    @property
    def arn(self) -> str:
        return arns.organization(self.management_account, self.id)

    @property
    def management_account_arn(self) -> str:
        return arns.organization_account(self.management_account, self.id, self.management_account)

    def describe(self) -> dict[str, Any]:
        """The ``Organization`` structure of DescribeOrganization (botocore's organizations model). Still named
        Master* on the wire. AvailablePolicyTypes is empty: localcloud enables no policy type (SCPs are not
        emulated)."""
        return {
            "Id": self.id,
            "Arn": self.arn,
            "FeatureSet": FEATURE_SET,
            "MasterAccountArn": self.management_account_arn,
            "MasterAccountId": self.management_account,
            "MasterAccountEmail": self.management_email,
            "AvailablePolicyTypes": [],
        }

    # --- cloud.json ---------------------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "rootId": self.root_id,
            "managementAccount": self.management_account,
            "managementEmail": self.management_email,
            "members": {account: list(path) for account, path in self.members.items()},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Organization:
        return cls(data["id"], data["managementAccount"], dict(data.get("members") or {}),
                   root_id=data.get("rootId", ""), management_email=data.get("managementEmail", ""))


def problems(organization: Organization) -> list[str]:
    """Everything AWS Organizations would not accept in ``organization``, each naming the value and the rule."""
    found: list[str] = []
    if not ORGANIZATION_ID.match(organization.id):
        found.append(f"{organization.id!r} is not an organization ID: {ORGANIZATION_ID_RULE}")
    root_valid = bool(ROOT_ID.match(organization.root_id))
    if not root_valid and organization.root_id:  # empty: not derived, the organization ID's problem says why
        found.append(f"{organization.root_id!r} is not a root ID: {ROOT_ID_RULE}")
    root_suffix = organization.root_id[2:]
    parents: dict[str, tuple[str, ...]] = {}  # OU ID -> the OUs above it, to find one OU given two parents
    for account, path in organization.members.items():
        if account != organization.management_account and not ACCOUNT_ID.match(account):
            found.append(f"member {account!r} is not an account ID (12 digits)")
        if len(path) > MAX_OU_DEPTH:
            found.append(f"account {account}'s OU path is {len(path)} OUs deep; OUs nest at most {MAX_OU_DEPTH} "
                         "levels under the root")
        if len(set(path)) != len(path):
            found.append(f"account {account}'s OU path names an OU twice: {'/'.join(path)}")
        for depth, ou in enumerate(path):
            matched = OU_ID.match(ou)
            if matched is None:
                found.append(f"{ou!r} (in account {account}'s OU path) is not an OU ID: {OU_ID_RULE}")
                continue
            if root_valid and matched["root"] != root_suffix:
                found.append(f"OU {ou} is not in root {organization.root_id}: its ID would start "
                             f"ou-{root_suffix}-")
            above = tuple(path[:depth])
            if parents.setdefault(ou, above) != above:
                found.append(f"OU {ou} has two parents: {_parent(parents[ou], organization.root_id)} and "
                             f"{_parent(above, organization.root_id)} (an OU has exactly one)")
    if not ACCOUNT_ID.match(organization.management_account):
        found.append(f"the management account {organization.management_account!r} is not an account ID (12 digits)")
    return list(dict.fromkeys(found))  # one OU given two parents by several accounts is one problem


def _parent(above: tuple[str, ...], root_id: str) -> str:
    return above[-1] if above else root_id
