"""A running localcloud with a Pulumi project's stacks deployed into it, in this process.

`up`, the tests and the benchmarks use one: the cloud's accounts are named as the project's stacks and come from
their aws:allowedAccountIds (the same files real deploys use), unless given; each stack deploys as its account's
deployer. `python -m localcloud deploy` in another shell reaches the same cloud through the state directory.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from localcloud import collector
from localcloud.lambda_runtime import LambdaRuntime
from localcloud.organizations import Organization
from localcloud.running import RunningCloud
from localcloud.server import LocalCloud
from localcloud_pulumi.deploy import Target, deploy
from localcloud_pulumi.program import StackOutput, stack_account_id, stack_config


def accounts_from_stacks(project_dir: Path, stacks: Sequence[str]) -> dict[str, str]:
    """Each stack's account, named as the stack, from its aws:allowedAccountIds."""
    return {stack: stack_account_id(stack, stack_config(stack, project_dir)) for stack in stacks}


@dataclass
class Workspace:
    running: RunningCloud
    project_dir: Path
    outputs: dict[str, dict[str, StackOutput]] = field(default_factory=dict)

    @classmethod
    def start(cls, state_dir: Path, *, project_dir: Path, stacks: Sequence[str],
              accounts: Mapping[str, str] | None = None, port: int = 0, http_port: int = 0,
              retry_backoff: bool = True, organization: Organization | None = None) -> Workspace:
        """A fresh cloud for ``stacks`` of the project (nothing deployed yet). ``accounts``: the cloud's accounts
        (name -> ID), by default one per stack from its aws:allowedAccountIds; the region is the first stack's.
        ``organization``: the AWS Organizations organization of (some of) those accounts (default: none; see
        localcloud.server.LocalCloud)."""
        project_dir = project_dir.resolve()
        region = stack_config(stacks[0], project_dir).get("aws:region") or "us-east-1"
        running = RunningCloud.start(accounts or accounts_from_stacks(project_dir, stacks), region, state_dir,
                                     port=port, http_port=http_port, retry_backoff=retry_backoff,
                                     organization=organization)
        return cls(running, project_dir)

    @property
    def cloud(self) -> LocalCloud:
        return self.running.cloud

    @property
    def runtime(self) -> LambdaRuntime:
        return self.running.runtime

    @property
    def state_dir(self) -> Path:
        return self.running.state_dir

    @property
    def timings(self) -> dict[str, float]:
        return self.running.timings

    @property
    def target(self) -> Target:
        return Target.of(self.cloud)

    def stop(self) -> None:
        self.running.stop()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def deploy(self, stack: str, config: Mapping[str, str] | None = None) -> list[str]:
        """Deploy ``stack`` as the deployer of its account (no credentials from the environment)."""
        began = time.perf_counter()
        outputs, changes = deploy(stack, self.target, self.state_dir, project_dir=self.project_dir, config=config)
        self.outputs[stack] = outputs
        self.timings[f"deploy_{stack}"] = time.perf_counter() - began
        collector.settle()  # not timed: the next deploy's collections then skip what this one left alive
        return changes

    def output(self, stack: str, name: str) -> Any:
        return self.outputs[stack][name].value
