"""Run a Pulumi Python program's real __main__.py under the Pulumi SDK's mock runtime.

One runner serves the unit tests (with in-memory mocks), the deploy driver (mocks that create resources in
the emulated cloud) and synth: the program is always the real one, read with the real stack config.
"""

from __future__ import annotations

import contextlib
import json
import os
import runpy
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

class ProgramConfigError(Exception):
    """The project or stack file cannot be used offline."""


@dataclass(frozen=True)
class StackOutput:
    value: Any
    secret: bool = False


def project_name(project_dir: Path) -> str:
    data = yaml.safe_load((project_dir / "Pulumi.yaml").read_text())
    return data["name"]


def stack_config(stack: str, project_dir: Path) -> dict[str, str]:
    """The stack's config as Pulumi hands it to a program: strings, with lists and maps as JSON text."""
    path = project_dir / f"Pulumi.{stack}.yaml"
    if not path.exists():
        raise ProgramConfigError(f"No stack file {path.name}: stacks are {', '.join(known_stacks(project_dir))}")
    data = yaml.safe_load(path.read_text()) or {}
    config = data.get("config") or {}
    project = project_name(project_dir)
    flat: dict[str, str] = {}
    for key, value in config.items():
        full_key = key if ":" in key else f"{project}:{key}"
        if isinstance(value, dict) and "secure" in value:
            raise ProgramConfigError(
                f"{full_key} in {path.name} is encrypted; offline runs need the plain value "
                "(put it in a local, uncommitted stack file instead)"
            )
        flat[full_key] = _config_text(value)
    return flat


def stack_account_id(stack: str, config: Mapping[str, str]) -> str:
    """The account a stack deploys to: the first of aws:allowedAccountIds, which also guards real deploys
    (the provider refuses any other account). localcloud deploys there and synth names resources after it."""
    raw = config.get("aws:allowedAccountIds")
    ids = json.loads(raw) if raw else []
    if not ids:
        raise ProgramConfigError(f"Pulumi.{stack}.yaml must set aws:allowedAccountIds: localcloud deploys the "
                                 "stack into the first account listed there")
    return str(ids[0])


def region_or_partition(token: str, region: str) -> dict[str, str] | None:
    """What aws.get_region and aws.get_partition answer, which needs no cloud; None for any other invoke."""
    if token == "aws:index/getRegion:getRegion":
        return {"name": region, "region": region, "id": region, "endpoint": f"ec2.{region}.amazonaws.com"}
    if token == "aws:index/getPartition:getPartition":
        return {"partition": "aws", "dnsSuffix": "amazonaws.com", "id": "aws", "reverseDnsPrefix": "com.amazonaws"}
    return None


def known_stacks(project_dir: Path) -> list[str]:
    return sorted(p.name[len("Pulumi."):-len(".yaml")] for p in project_dir.glob("Pulumi.*.yaml"))


def _config_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(value)


def run_program(
    stack: str,
    mocks: Any,
    *,
    config: Mapping[str, str] | None = None,
    preview: bool = False,
    project_dir: Path,
    monitor: Any = None,
) -> dict[str, StackOutput]:
    """Run __main__.py for `stack` against `mocks` (a pulumi.runtime.Mocks) and return its exports.

    Errors the program raises (a ConfigError, a provider error from the mocks) propagate unchanged.
    """
    main = str(project_dir / "__main__.py")
    return run_pulumi(lambda: runpy.run_path(main, run_name="__main__"), stack, mocks, config=config,
                      preview=preview, project_dir=project_dir, monitor=monitor)


def run_pulumi(
    body: Callable[[], Any],
    stack: str,
    mocks: Any,
    *,
    config: Mapping[str, str] | None = None,
    preview: bool = False,
    project_dir: Path,
    monitor: Any = None,
) -> dict[str, StackOutput]:
    """Run `body` as a Pulumi program of `stack` (a whole program, or one component in a test)."""
    # Imported here so that importing localcloud does not pay for the Pulumi SDK.
    import pulumi
    from pulumi.runtime import mocks as pulumi_mocks
    from pulumi.runtime import settings as pulumi_settings
    from pulumi.runtime.stack import Stack, run_pulumi_func
    from pulumi.runtime.sync_await import _sync_await

    values = dict(stack_config(stack, project_dir) if config is None else config)
    # A new root Stack for each run; the SDK keeps the last one in a context variable (None: none yet, which its
    # type does not admit).
    pulumi_settings.set_root_resource(None)  # pyrefly: ignore[bad-argument-type]
    pulumi_mocks.set_mocks(mocks, project=project_name(project_dir), stack=stack, preview=preview,
                           monitor=monitor)
    pulumi.runtime.set_all_config(values, [])
    # The SDK declares these with its @contextproperty decorator, which type checkers cannot see through.
    pulumi_settings.SETTINGS.rpc_manager.clear()  # pyrefly: ignore[missing-attribute]
    pulumi_settings.SETTINGS.outputs.clear()  # pyrefly: ignore[missing-attribute]
    root = pulumi_settings.get_root_resource()
    assert isinstance(root, Stack), "set_mocks() makes the root Stack"

    with _inside(project_dir):
        _sync_await(run_pulumi_func(body))
        exports: dict[str, StackOutput] = {}
        for name, value in root.outputs.items():
            output = pulumi.Output.from_input(value)
            resolved = _sync_await(output.future())
            exports[name] = StackOutput(resolved, bool(_sync_await(output.is_secret())))
    return exports


@contextlib.contextmanager
def _inside(project_dir: Path) -> Iterator[None]:
    """Run as `pulumi` does: from the project directory, with it importable, and the program's own modules
    imported afresh by every run (a helper module that declares resources declares them each time: the preview
    run must not leave the deploy run a cached module that declares nothing)."""
    old_cwd = os.getcwd()
    added = str(project_dir) not in sys.path
    if added:
        sys.path.insert(0, str(project_dir))
    before = set(sys.modules)
    os.chdir(project_dir)
    try:
        yield
    finally:
        os.chdir(old_cwd)
        if added:
            sys.path.remove(str(project_dir))
        root, environment = project_dir.resolve(), Path(sys.prefix).resolve()  # a virtualenv may sit inside
        for name in set(sys.modules) - before:
            path = getattr(sys.modules[name], "__file__", None)
            resolved = Path(path).resolve() if path else None
            if resolved and resolved.is_relative_to(root) and not resolved.is_relative_to(environment):
                del sys.modules[name]


# How the SDK marks a secret value inside resource inputs (pulumi.runtime.rpc's _special_sig_key and
# _special_secret_sig): a dict with this key, its value under "value".
SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"


def plain_number(value: float) -> int | float:
    """A number as the program wrote it: the SDK hands every number over as a float (3600 arrives as 3600.0)."""
    return int(value) if value.is_integer() else value


def reveal(value: Any) -> Any:
    """`value` with every secret wrapper removed: what the provider would be sent."""
    if isinstance(value, dict):
        if value.get(SECRET_SIG_KEY) == SECRET_SIG:
            return reveal(value.get("value"))
        return {k: reveal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [reveal(v) for v in value]
    return value
