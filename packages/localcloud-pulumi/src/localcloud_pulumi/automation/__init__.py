"""The part of `pulumi.automation` that integration tests use, offline: an Automation-API test runs against
localcloud by changing one import (``from pulumi import automation as auto`` ->
``from localcloud_pulumi import automation as auto``). The program is the project's own __main__.py, run under the
Pulumi SDK's mock runtime by the deploy driver (localcloud_pulumi.deploy), which creates its resources in the cloud.

Supported, with pulumi.automation's names, keywords and result types:

- ``create_stack``, ``select_stack``, ``create_or_select_stack`` (``stack_name``, ``work_dir``, ``project_name``
  (ignored for a project on disk, as Pulumi ignores it), ``opts=LocalWorkspaceOptions(env_vars=...)``);
  ``LocalWorkspace(work_dir=..., env_vars=...)`` and ``Stack.create/select/create_or_select(name, workspace)``.
  A stack exists when it has a stack file (Pulumi.STACK.yaml), was created in this process, or has state in the
  cloud; create_stack raises StackAlreadyExistsError when it has state or outputs (or was created already),
  select_stack StackNotFoundError for a stack that does not exist. Stack names: ``stack``, ``project/stack``,
  ``organization/project/stack`` of the project (organization ``organization``, as self-managed backends have).
- ``Stack``: ``name``, ``workspace``, ``preview()`` (``change_summary``: op name -> count, with the stack itself
  counted as Pulumi counts it, explicit providers and components not; ``stdout``: the driver's changes and
  their count, not the CLI's display), ``up()`` (``outputs``: name -> OutputValue; ``summary.result ==
  "succeeded"``, ``summary.resource_changes``), ``destroy()`` (``remove=True`` too), ``outputs()``, and
  ``get_config``, ``get_all_config``, ``set_config``, ``set_all_config``, ``remove_config``, ``remove_all_config``.
  preview/up/destroy accept ``message``, ``parallel``, ``color``, ``suppress_progress``, ``on_output`` (given the
  stdout's lines once the command is done), ``expect_no_changes`` (preview, up; an up that made changes then
  raises CommandError, as Pulumi's does) and ``show_secrets`` (up, destroy: the summary's config).
- ``workspace.remove_stack(name, force=None, preserve_config=None)``: refused while the stack has resources
  unless ``force``; the stack file is never deleted (it is the user's).
- ``ConfigValue``, ``OutputValue``, ``LocalWorkspaceOptions``, ``CommandError``, ``StackNotFoundError``,
  ``StackAlreadyExistsError``, ``OpType``, the result classes: pulumi.automation's own.

Config: a key without ':' is ``<project>:<key>``. Config set through the API overrides and extends the stack file's
for that workspace's (so that Stack's) runs and is kept in memory: stack files are never rewritten. Secret values
reach the program as plain config (``require_secret`` makes them secret, as in Pulumi).

Which cloud: the one serving the state directory ``LOCALCLOUD_STATE_DIR`` names (relative to the current
directory, read when the workspace is made; default: ``.localcloud`` in ``work_dir``), if its cloud.json exists
(`python -m localcloud up`, or a test's in-process fixture); otherwise one this process starts on first use, with
one account per ID of the stack's aws:allowedAccountIds (the first named as the stack) in its aws:region, kept for
the process (its accounts are the first stack's; later projects deploy into it too) and stopped at exit.
Credentials and account are chosen as `python -m localcloud deploy` chooses them (localcloud_pulumi.credentials),
from os.environ with the workspace's env_vars over it; env_vars are also in os.environ while the program runs.

Failures of a command raise CommandError (the cause in its stderr and chained). Everything else is refused by name
with ``Unsupported`` (a NotImplementedError and AttributeError): inline programs (``program=``), every other
LocalWorkspaceOptions field, any other argument of preview/up/destroy given (``target``, ``replace``, ``refresh``,
``on_event``, ...), ``path=True`` config keys, and every pulumi.automation method not listed here (``refresh``,
``preview_destroy``, ``history``, ``info``, ``export_stack``, tags, environments, plugins, ``list_stacks``, ...).
"""

from __future__ import annotations

from pulumi.automation import CommandError, ConfigValue, DestroyResult, LocalWorkspaceOptions, OpType, OutputValue, \
    PreviewResult, PulumiFn, StackAlreadyExistsError, StackNotFoundError, UpdateSummary, UpResult

from localcloud_pulumi.automation._stack import Stack
from localcloud_pulumi.automation._unsupported import Unsupported
from localcloud_pulumi.automation._workspace import LocalWorkspace

_INLINE = ("inline programs are out of scope: give work_dir, the directory of a Pulumi project whose __main__.py "
           "is the program")


def create_stack(stack_name: str, project_name: str | None = None, program: PulumiFn | None = None,
                 work_dir: str | None = None, opts: LocalWorkspaceOptions | None = None) -> Stack:
    """A new stack of the project in ``work_dir``: StackAlreadyExistsError if it has state or outputs."""
    return Stack.create(stack_name, _workspace("create_stack", program, work_dir, opts))


def select_stack(stack_name: str, project_name: str | None = None, program: PulumiFn | None = None,
                 work_dir: str | None = None, opts: LocalWorkspaceOptions | None = None) -> Stack:
    """An existing stack of the project in ``work_dir``: StackNotFoundError if there is none."""
    return Stack.select(stack_name, _workspace("select_stack", program, work_dir, opts))


def create_or_select_stack(stack_name: str, project_name: str | None = None, program: PulumiFn | None = None,
                           work_dir: str | None = None, opts: LocalWorkspaceOptions | None = None) -> Stack:
    """The stack of the project in ``work_dir``, created if it does not exist."""
    return Stack.create_or_select(stack_name, _workspace("create_or_select_stack", program, work_dir, opts))


def _workspace(function: str, program: PulumiFn | None, work_dir: str | None,
               opts: LocalWorkspaceOptions | None) -> LocalWorkspace:
    """The workspace Pulumi's helper would make for a program on disk: ``work_dir`` overrides opts.work_dir."""
    if program is not None:
        raise Unsupported(f"{function}(program=...)", _INLINE)
    opts = opts or LocalWorkspaceOptions()
    if opts.program is not None:
        raise Unsupported("LocalWorkspaceOptions(program=...)", _INLINE)
    if work_dir is None:
        raise ValueError(f"{function}() needs work_dir, the directory of the Pulumi project ({_INLINE})")
    others = {name: value for name, value in vars(opts).items() if name not in ("work_dir", "env_vars")}
    return LocalWorkspace(work_dir, env_vars=opts.env_vars, **others)


__all__ = ["CommandError", "ConfigValue", "DestroyResult", "LocalWorkspace", "LocalWorkspaceOptions", "OpType",
           "OutputValue", "PreviewResult", "Stack", "StackAlreadyExistsError", "StackNotFoundError", "UpResult",
           "Unsupported", "UpdateSummary", "create_or_select_stack", "create_stack", "select_stack"]
