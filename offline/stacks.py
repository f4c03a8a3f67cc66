"""This project's stacks, in deploy order, and a localcloud with them deployed."""

from __future__ import annotations

from pathlib import Path

from localcloud_pulumi.workspace import Workspace

PROJECT_DIR = Path(__file__).resolve().parent.parent
DATA_STACK = "prod"


def committed_stacks(project_dir: Path = PROJECT_DIR) -> tuple[str, ...]:
    """Every stack with a stack file, in deploy order: prod first (the consumers read its grants through a
    StackReference), then the consumers by name; destroy in reverse."""
    names = sorted(path.name[len("Pulumi."):-len(".yaml")] for path in project_dir.glob("Pulumi.*.yaml"))
    if DATA_STACK not in names:
        raise FileNotFoundError(f"{project_dir} has no Pulumi.{DATA_STACK}.yaml: the data account's stack")
    return (DATA_STACK, *(name for name in names if name != DATA_STACK))


STACKS = committed_stacks()
CONSUMERS = STACKS[1:]


def start(state_dir: Path, *, port: int = 0, http_port: int = 0, retry_backoff: bool = True,
          project_dir: Path = PROJECT_DIR) -> Workspace:
    """A fresh cloud with one account per stack, nothing deployed yet. ``retry_backoff=False``: see LambdaRuntime."""
    return Workspace.start(state_dir, project_dir=project_dir, stacks=committed_stacks(project_dir), port=port,
                           http_port=http_port, retry_backoff=retry_backoff)


def deploy_all(workspace: Workspace) -> None:
    for stack in committed_stacks(workspace.project_dir):
        workspace.deploy(stack)
