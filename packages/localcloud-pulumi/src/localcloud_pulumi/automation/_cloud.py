"""Which localcloud a workspace deploys into: the one serving its state directory, else one of this process.

A cloud another process serves (`python -m localcloud up`, or a test's fixture) is found by its cloud.json; with
none, the first stack that needs a cloud starts one in this process, with the accounts of that stack's
aws:allowedAccountIds (only one LocalCloud can run in a process, so it stays for the process and stops at exit).
"""

from __future__ import annotations

import atexit
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from localcloud.running import CLOUD_FILE, RunningCloud
from localcloud.server import LocalCloudError
from localcloud_pulumi.deploy import DeployError, Target


@dataclass(frozen=True)
class Cloud:
    """A reachable cloud and the state directory that records what is deployed into it."""

    target: Target
    state_dir: Path

    @classmethod
    def serving(cls, state_dir: Path) -> Cloud | None:
        """The cloud serving ``state_dir`` or this process's own, if either runs; nothing is started."""
        if (state_dir / CLOUD_FILE).exists():
            return cls(Target.running(state_dir), state_dir)
        running = InProcessCloud.running
        return cls(Target.of(running.cloud), running.state_dir) if running else None

    @classmethod
    def for_stack(cls, state_dir: Path, stack: str, config: Mapping[str, str]) -> Cloud:
        """The cloud serving ``state_dir``, else this process's own, started now for ``stack`` if need be."""
        found = cls.serving(state_dir)
        if found is not None:
            return found
        running = InProcessCloud.start(stack, config, state_dir)
        return cls(Target.of(running.cloud), running.state_dir)


class InProcessCloud:
    """The one cloud this process may start (LocalCloud allows one per process), kept until the process exits."""

    running: ClassVar[RunningCloud | None] = None

    @classmethod
    def start(cls, stack: str, config: Mapping[str, str], state_dir: Path) -> RunningCloud:
        raw = config.get("aws:allowedAccountIds")
        ids = [str(i) for i in json.loads(raw)] if raw else []
        if not ids:
            raise DeployError(f"no localcloud is running for {state_dir} (no {CLOUD_FILE}), and stack {stack} sets "
                              "no aws:allowedAccountIds to start one with: set it, or start a cloud (python -m "
                              "localcloud up) and point LOCALCLOUD_STATE_DIR at its state directory")
        # Named as the stack (as `up` names each stack's account), any further ones numbered after it.
        accounts = {stack if i == 0 else f"{stack}-{i + 1}": id_ for i, id_ in enumerate(ids)}
        try:
            running = RunningCloud.start(accounts, config.get("aws:region") or "us-east-1", state_dir)
        except LocalCloudError as error:  # most likely a cloud this process serves already, under another directory
            raise DeployError(f"{error} (to deploy into a cloud this process serves, point LOCALCLOUD_STATE_DIR "
                              "at its state directory)") from error
        cls.running = running
        atexit.register(cls.stop)
        return running

    @classmethod
    def stop(cls) -> None:
        running, cls.running = cls.running, None
        if running is not None:
            running.stop()
