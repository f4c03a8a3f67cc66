"""pulumi.automation.Stack offline: preview, up and destroy through the deploy driver, with Pulumi's result types.

Results are pulumi.automation's own classes (PreviewResult, UpResult, DestroyResult, UpdateSummary, OutputValue),
so a test's assertions read them as they read Pulumi's. Their stdout is the driver's list of changes and a count,
not the Pulumi CLI's display; on_output receives its lines once the command has finished.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pulumi import automation as auto
from pulumi.automation import ConfigValue, DestroyResult, OpType, OutputValue, PreviewResult, UpdateSummary, UpResult

from localcloud_pulumi import deploy as driver
from localcloud_pulumi.automation._unsupported import check_options, refuse_pulumi_attribute
from localcloud_pulumi.automation._workspace import LocalWorkspace, command_error
from localcloud_pulumi.deploy import PROVIDER_TYPE, Created

# Options of Pulumi's methods that mean the same offline; any other one given is refused by name. parallel, color
# and suppress_progress only shape how the CLI works and what it prints.
_DISPLAY = {"message", "parallel", "color", "suppress_progress", "on_output"}
PREVIEW_OPTIONS = _DISPLAY | {"expect_no_changes"}
UP_OPTIONS = _DISPLAY | {"expect_no_changes", "show_secrets"}
DESTROY_OPTIONS = _DISPLAY | {"show_secrets", "remove"}


class Stack:
    """A stack of a LocalWorkspace's project, as pulumi.automation.Stack drives it; methods this subset lacks
    (refresh, history, import_resources, ...) are refused by name."""

    def __init__(self, name: str, workspace: LocalWorkspace) -> None:
        self.name = name
        self.workspace = workspace

    @classmethod
    def create(cls, stack_name: str, workspace: LocalWorkspace) -> Stack:
        workspace.create_stack(stack_name)
        return cls(stack_name, workspace)

    @classmethod
    def select(cls, stack_name: str, workspace: LocalWorkspace) -> Stack:
        workspace.select_stack(stack_name)
        return cls(stack_name, workspace)

    @classmethod
    def create_or_select(cls, stack_name: str, workspace: LocalWorkspace) -> Stack:
        try:
            workspace.select_stack(stack_name)
        except auto.StackNotFoundError:
            workspace.create_stack(stack_name)
        return cls(stack_name, workspace)

    def __repr__(self) -> str:
        return f"Stack(stack_name={self.name!r}, workspace={self.workspace!r})"

    def __getattr__(self, name: str) -> Any:
        raise refuse_pulumi_attribute("Stack", auto.Stack, name)

    # --- lifecycle ------------------------------------------------------------------------------------------

    def preview(self, **options: Any) -> PreviewResult:
        """`pulumi preview`: the changes an up would make, checked as it checks them; nothing is written."""
        check_options("Stack.preview", auto.Stack.preview, options, PREVIEW_OPTIONS)
        run, changes = self.workspace.operate(self.name, lambda run: driver.preview(
            run.name.stack, run.cloud.target, run.cloud.state_dir, project_dir=self.workspace.project_dir,
            config=run.config, environ=self.workspace.environ))
        counts = change_summary(changes, run.previous, OpType.SAME if run.deployed else OpType.CREATE)
        stdout = self._report("Previewing update", changes, counts, options)
        _expect_no_changes(counts, stdout, options)
        return PreviewResult(stdout, "", counts)

    def up(self, **options: Any) -> UpResult:
        """`pulumi up`: a preview first, then create, update, replace and delete, as the deploy driver does."""
        check_options("Stack.up", auto.Stack.up, options, UP_OPTIONS)
        began = datetime.now()
        run, (exports, changes) = self.workspace.operate(self.name, lambda run: driver.deploy(
            run.name.stack, run.cloud.target, run.cloud.state_dir, project_dir=self.workspace.project_dir,
            config=run.config, environ=self.workspace.environ))
        counts = change_summary(changes, run.previous, OpType.SAME if run.deployed else OpType.CREATE)
        stdout = self._report("Updating", changes, counts, options)
        _expect_no_changes(counts, stdout, options)
        outputs = {name: OutputValue(output.value, output.secret) for name, output in exports.items()}
        return UpResult(stdout, "", self._summary("update", began, counts, options), outputs)

    def destroy(self, **options: Any) -> DestroyResult:
        """`pulumi destroy`: every resource of the stack deleted, newest first; ``remove=True`` then removes the
        stack, as Pulumi's does."""
        check_options("Stack.destroy", auto.Stack.destroy, options, DESTROY_OPTIONS)
        began = datetime.now()
        run, changes = self.workspace.operate(self.name, lambda run: driver.destroy(
            run.name.stack, run.cloud.target, run.cloud.state_dir, project_dir=self.workspace.project_dir,
            config=run.config, environ=self.workspace.environ))
        counts = change_summary(changes, run.previous, OpType.DELETE if run.deployed else None)
        stdout = self._report("Destroying", changes, counts, options)
        if options.get("remove"):
            self.workspace.remove_stack(self.name)
        return DestroyResult(stdout, "", self._summary("destroy", began, counts, options))

    def outputs(self) -> dict[str, OutputValue]:
        return self.workspace.stack_outputs(self.name)

    # --- config ---------------------------------------------------------------------------------------------

    def get_config(self, key: str, *, path: bool = False) -> ConfigValue:
        return self.workspace.get_config(self.name, key, path=path)

    def get_all_config(self) -> dict[str, ConfigValue]:
        return self.workspace.get_all_config(self.name)

    def set_config(self, key: str, value: ConfigValue, *, path: bool = False) -> None:
        self.workspace.set_config(self.name, key, value, path=path)

    def set_all_config(self, config: Mapping[str, ConfigValue], *, path: bool = False) -> None:
        self.workspace.set_all_config(self.name, config, path=path)

    def remove_config(self, key: str, *, path: bool = False) -> None:
        self.workspace.remove_config(self.name, key, path=path)

    def remove_all_config(self, keys: list[str], *, path: bool = False) -> None:
        self.workspace.remove_all_config(self.name, keys, path=path)

    # --- results --------------------------------------------------------------------------------------------

    def _report(self, doing: str, changes: list[str], counts: Mapping[OpType, int], options: Mapping[str, Any]) -> str:
        lines = [f"{doing} ({self.name}):", *(f"    {change}" for change in changes or ["no changes"]),
                 "Resources:", *(f"    {count} {op.value}" for op, count in counts.items())]
        on_output = options.get("on_output")
        if on_output is not None:
            for line in lines:
                on_output(line)
        return "\n".join(lines)

    def _summary(self, kind: str, began: datetime, counts: dict[OpType, int],
                 options: Mapping[str, Any]) -> UpdateSummary:
        shown = options.get("show_secrets", True) is not False
        config = {key: {"value": value.value, "secret": value.secret} if shown or not value.secret
                  else {"secret": True} for key, value in self.get_all_config().items()}
        return UpdateSummary(kind=kind, start_time=began, message=options.get("message") or "", environment={},
                             config=config, result="succeeded", end_time=datetime.now(), resource_changes=counts)


def change_summary(changes: list[str], previous: list[Created], stack_op: OpType | None) -> dict[OpType, int]:
    """Pulumi's count of operations ({OpType.CREATE: 2, OpType.SAME: 1}, which equals {"create": 2, "same": 1}):
    each resource the driver manages, and the stack itself (``stack_op``), as Pulumi counts its root resource.
    Explicit providers and components are not counted (Pulumi counts them; the driver reports no step for them)."""
    counts: Counter[OpType] = Counter()
    touched: set[str] = set()
    for change in changes:  # "+ create TYPE NAME", "- delete TYPE NAME", ...
        _, op, rest = change.split(" ", 2)
        type_, name = rest.split(" ", 1)
        if type_ != PROVIDER_TYPE:
            counts[OpType(op)] += 1
            touched.add(f"{type_}::{name}")
    counts[OpType.SAME] += sum(1 for c in previous if c.type != PROVIDER_TYPE and c.key not in touched)
    if stack_op:
        counts[stack_op] += 1
    return {op: count for op, count in counts.items() if count}


def _expect_no_changes(counts: Mapping[OpType, int], stdout: str, options: Mapping[str, Any]) -> None:
    if options.get("expect_no_changes") and set(counts) - {OpType.SAME}:
        raise command_error("error: no changes were expected but changes occurred", stdout)
