"""This project's stacks, in deploy order, and a localcloud with them deployed."""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

from localcloud.organizations import Organization
from localcloud_pulumi.workspace import Workspace, accounts_from_stacks

PROJECT_DIR = Path(__file__).resolve().parent.parent
DATA_STACK = "prod"
# The emulated organization every committed account is in, prod's the management account: what the committed
# grants' principalOrgId names (tests/program/test_stacks_agree.py checks they agree).
ORGANIZATION_ID = "o-xs3example01"


def committed_stacks(project_dir: Path = PROJECT_DIR) -> tuple[str, ...]:
    """Every stack with a stack file, in deploy order: prod first (the consumers read its grants through a
    StackReference), then the consumers by name; destroy in reverse."""
    names = sorted(path.name[len("Pulumi."):-len(".yaml")] for path in project_dir.glob("Pulumi.*.yaml"))
    if DATA_STACK not in names:
        raise FileNotFoundError(f"{project_dir} has no Pulumi.{DATA_STACK}.yaml: the data account's stack")
    return (DATA_STACK, *(name for name in names if name != DATA_STACK))


STACKS = committed_stacks()
CONSUMERS = STACKS[1:]


def organization(accounts: dict[str, str], outside: Collection[str] = ()) -> Organization:
    """The organization of the stacks' ``accounts`` (stack -> ID), but for the stacks named in ``outside``."""
    members = [account for stack, account in accounts.items() if stack not in outside]
    return Organization.of_accounts(ORGANIZATION_ID, members, accounts[DATA_STACK])


def start(state_dir: Path, *, port: int = 0, http_port: int = 0, retry_backoff: bool = True,
          project_dir: Path = PROJECT_DIR, outside_organization: Collection[str] = ()) -> Workspace:
    """A fresh cloud with one account per stack, all in the organization but those of the stacks named in
    ``outside_organization``; nothing deployed yet. ``retry_backoff=False``: see LambdaRuntime."""
    stacks = committed_stacks(project_dir)
    accounts = accounts_from_stacks(project_dir, stacks)
    return Workspace.start(state_dir, project_dir=project_dir, stacks=stacks, accounts=accounts, port=port,
                           http_port=http_port, retry_backoff=retry_backoff,
                           organization=organization(accounts, outside_organization))


def deploy_all(workspace: Workspace) -> None:
    for stack in committed_stacks(workspace.project_dir):
        workspace.deploy(stack)
