"""pulumi.automation.LocalWorkspace for a project on disk: its stacks, their config and outputs, offline.

A stack exists, as select_stack sees it, when it has a stack file (Pulumi.STACK.yaml), was created by create_stack
in this process, or has state in the cloud it deploys into. Config set through the API overrides the stack file's
for this workspace's runs and lives in this object: the user's stack files are never rewritten.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pulumi import automation as auto
from pulumi.automation import CommandError, CommandResult, ConfigValue, OutputValue, StackAlreadyExistsError, \
    StackNotFoundError

from localcloud_pulumi.automation._cloud import Cloud
from localcloud_pulumi.automation._unsupported import Unsupported, check_options, refuse_pulumi_attribute
from localcloud_pulumi.deploy import DEFAULT_ORGANIZATION, PROVIDER_TYPE, Created, StackName, load_outputs, \
    load_resources, state_paths
from localcloud_pulumi.program import project_name, stack_config

STATE_DIR_VARIABLE = "LOCALCLOUD_STATE_DIR"  # the state directory of the cloud to deploy into
T = TypeVar("T")

# Stacks create_stack made in this process (project directory, stack): they exist before their first deploy, as a
# `pulumi stack init` stack does.
_CREATED: set[tuple[Path, str]] = set()


def command_error(message: str, stdout: str = "", kind: type[CommandError] = CommandError) -> CommandError:
    """pulumi.automation's error for a failed command, with ``message`` as the command's stderr."""
    return kind(CommandResult(stdout, message, 1))


@contextlib.contextmanager
def command() -> Generator[None]:
    """Failures as pulumi.automation reports a failed `pulumi` run: a CommandError naming the cause (chained);
    refusals and pulumi.automation's own errors pass as they are."""
    try:
        yield
    except (CommandError, Unsupported):
        raise
    except Exception as error:
        raise command_error(f"error: {error}") from error


@dataclass(frozen=True)
class Run:
    """One command of a stack: where it deploys, with what config, and what the stack had before it."""

    cloud: Cloud
    name: StackName
    config: dict[str, str]
    previous: list[Created]  # the resources the last deploy left
    deployed: bool  # whether the stack has been deployed (and not destroyed since): its Stack resource exists


class LocalWorkspace:
    """pulumi.automation.LocalWorkspace for a Pulumi project directory (``work_dir``), its stacks deployed into
    localcloud; ``env_vars`` as Pulumi's: credentials (see localcloud_pulumi.credentials) and the program's
    os.environ. Any other option of Pulumi's, and any method this subset lacks, is refused by name."""

    def __init__(self, work_dir: str | os.PathLike[str] | None = None, env_vars: Mapping[str, str] | None = None,
                 **options: Any) -> None:
        check_options("LocalWorkspace", auto.LocalWorkspace.__init__, options, set())
        if work_dir is None:
            raise ValueError("localcloud_pulumi.automation needs work_dir: the directory of the Pulumi project")
        self.project_dir = Path(work_dir).resolve()
        self.work_dir = str(self.project_dir)
        self.env_vars: dict[str, str] = dict(env_vars or {})
        if not (self.project_dir / "Pulumi.yaml").exists():
            raise command_error(f"error: no Pulumi.yaml project file found in {self.work_dir}")
        self.project = project_name(self.project_dir)
        configured = self.environ.get(STATE_DIR_VARIABLE)
        self.state_dir = Path(configured).resolve() if configured else self.project_dir / ".localcloud"
        self._config: dict[str, dict[str, ConfigValue | None]] = {}  # stack -> key -> value (None: removed)

    def __repr__(self) -> str:
        return f"LocalWorkspace(work_dir={self.work_dir!r}, state_dir={str(self.state_dir)!r})"

    def __getattr__(self, name: str) -> Any:
        raise refuse_pulumi_attribute("LocalWorkspace", auto.LocalWorkspace, name)

    @property
    def environ(self) -> dict[str, str]:
        """The environment a `pulumi` command of this workspace would run with."""
        return {**os.environ, **self.env_vars}

    # --- stacks ---------------------------------------------------------------------------------------------

    def stack_name(self, stack_name: str) -> StackName:
        """``stack``, ``project/stack`` or ``organization/project/stack`` of this project (self-managed backends
        have the one organization)."""
        with command():
            name = StackName.parse(stack_name, self.project)
        if name.organization != DEFAULT_ORGANIZATION or name.project != self.project:
            raise Unsupported(f"the stack name {stack_name!r}", f"localcloud deploys stacks of this project "
                              f"({DEFAULT_ORGANIZATION}/{self.project}/STACK) only")
        return name

    def create_stack(self, stack_name: str) -> None:
        name = self.stack_name(stack_name)
        if (self.project_dir, name.stack) in _CREATED or self._deployed(name):
            raise command_error(f"error: stack '{stack_name}' already exists", kind=StackAlreadyExistsError)
        _CREATED.add((self.project_dir, name.stack))

    def select_stack(self, stack_name: str) -> None:
        if not self._exists(stack_name):
            raise _not_found(stack_name)

    def remove_stack(self, stack_name: str, force: bool | None = None, preserve_config: bool | None = None) -> None:
        """`pulumi stack rm`: refused while the stack has resources unless ``force`` (which orphans them). The
        stack file stays whatever ``preserve_config`` says: it is the user's."""
        if not self._exists(stack_name):
            raise _not_found(stack_name)
        name = self.stack_name(stack_name)
        cloud = self._serving()
        if cloud is not None:
            if not force and any(r.type != PROVIDER_TYPE for r in load_resources(cloud.state_dir, name)):
                raise command_error(f"error: '{stack_name}' still has resources; removal rejected (destroy it "
                                    "first, or pass force=True, which leaves them in the cloud)")
            for path in state_paths(cloud.state_dir, name):
                path.unlink(missing_ok=True)
        _CREATED.discard((self.project_dir, name.stack))
        self._config.pop(name.stack, None)

    def _serving(self) -> Cloud | None:
        with command():  # a cloud.json that cannot be read
            return Cloud.serving(self.state_dir)

    def _exists(self, stack_name: str) -> bool:
        name = self.stack_name(stack_name)
        return (self._stack_file(name).exists() or (self.project_dir, name.stack) in _CREATED
                or self._deployed(name))

    def _deployed(self, name: StackName) -> bool:
        cloud = self._serving()
        return cloud is not None and (load_outputs(cloud.state_dir, name) is not None
                                      or bool(load_resources(cloud.state_dir, name)))

    def _stack_file(self, name: StackName) -> Path:
        return self.project_dir / f"Pulumi.{name.stack}.yaml"

    # --- config ---------------------------------------------------------------------------------------------

    def _key(self, key: str) -> str:
        return key if ":" in key else f"{self.project}:{key}"

    def get_all_config(self, stack_name: str) -> dict[str, ConfigValue]:
        name = self.stack_name(stack_name)
        with command():
            stored = stack_config(name.stack, self.project_dir) if self._stack_file(name).exists() else {}
        merged = {key: ConfigValue(value) for key, value in stored.items()}
        for key, value in self._config.get(name.stack, {}).items():
            if value is None:
                merged.pop(key, None)
            else:
                merged[key] = ConfigValue(value.value, value.secret)
        return merged

    def get_config(self, stack_name: str, key: str, *, path: bool = False) -> ConfigValue:
        _refuse_path("get_config", path)
        found = self.get_all_config(stack_name).get(self._key(key))
        if found is None:
            raise command_error(f"error: configuration key '{self._key(key)}' not found for stack '{stack_name}'")
        return found

    def set_config(self, stack_name: str, key: str, value: ConfigValue, *, path: bool = False) -> None:
        self.set_all_config(stack_name, {key: value}, path=path)

    def set_all_config(self, stack_name: str, config: Mapping[str, ConfigValue], *, path: bool = False) -> None:
        _refuse_path("set_all_config", path)
        overrides = self._config.setdefault(self.stack_name(stack_name).stack, {})
        for key, value in config.items():
            overrides[self._key(key)] = ConfigValue(value.value, value.secret)

    def remove_config(self, stack_name: str, key: str, *, path: bool = False) -> None:
        self.remove_all_config(stack_name, [key], path=path)

    def remove_all_config(self, stack_name: str, keys: list[str], *, path: bool = False) -> None:
        _refuse_path("remove_all_config", path)
        overrides = self._config.setdefault(self.stack_name(stack_name).stack, {})
        overrides.update({self._key(key): None for key in keys})

    # --- outputs and commands -------------------------------------------------------------------------------

    def stack_outputs(self, stack_name: str) -> dict[str, OutputValue]:
        """The outputs of the stack's last deploy ({} when it has none), secret ones marked as Pulumi marks them."""
        cloud = self._serving()
        stored = load_outputs(cloud.state_dir, self.stack_name(stack_name)) if cloud else None
        if stored is None:
            return {}
        secret = set(stored["secretOutputNames"])
        return {key: OutputValue(value, key in secret) for key, value in stored["outputs"].items()}

    def operate(self, stack_name: str, operation: Callable[[Run], T]) -> tuple[Run, T]:
        """Run a command of the deploy driver for the stack: with its config, into its cloud (started now if none
        runs), with env_vars in os.environ as the `pulumi` process would have them; failures as CommandError."""
        name = self.stack_name(stack_name)
        config = {key: value.value for key, value in self.get_all_config(stack_name).items()}
        with command():
            cloud = Cloud.for_stack(self.state_dir, name.stack, config)
            previous = load_resources(cloud.state_dir, name)
            run = Run(cloud, name, config, previous,
                      bool(previous) or load_outputs(cloud.state_dir, name) is not None)
            with _environment(self.env_vars):
                return run, operation(run)


def _not_found(stack_name: str) -> CommandError:
    return command_error(f"error: no stack named '{stack_name}' found", kind=StackNotFoundError)


def _refuse_path(method: str, path: bool) -> None:
    if path:
        raise Unsupported(f"{method}(path=True)", "give the whole value of the top-level key")


@contextlib.contextmanager
def _environment(env_vars: Mapping[str, str]) -> Generator[None]:
    """``env_vars`` in os.environ while the program runs in this process, as they would be in Pulumi's."""
    saved = {key: os.environ.get(key) for key in env_vars}
    os.environ.update(env_vars)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
