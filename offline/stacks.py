"""This project's stacks, in deploy order, and a localcloud with them deployed."""

from __future__ import annotations

from pathlib import Path

from localcloud_pulumi.workspace import Workspace

PROJECT_DIR = Path(__file__).resolve().parent.parent
STACKS = ("prod", "dev")  # deploy order (dev reads prod through a StackReference); destroy in reverse


def start(state_dir: Path, *, port: int = 0, http_port: int = 0, retry_backoff: bool = True) -> Workspace:
    """A fresh cloud with one account per stack, nothing deployed yet. ``retry_backoff=False``: see LambdaRuntime."""
    return Workspace.start(state_dir, project_dir=PROJECT_DIR, stacks=STACKS, port=port, http_port=http_port,
                           retry_backoff=retry_backoff)


def deploy_all(workspace: Workspace) -> None:
    for stack in STACKS:
        workspace.deploy(stack)
