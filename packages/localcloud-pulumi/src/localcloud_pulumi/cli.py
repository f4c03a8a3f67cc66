"""The commands localcloud-pulumi adds to `python -m localcloud` (entry point group localcloud.commands):

    up       -C DIR [-s STACK ...] [--accounts NAME=ID,...] [--org o-ID [--org-management ACCOUNT]]
                                                              start the cloud, deploy the stacks, serve
    preview  -s STACK [-C DIR] [--account NAME|ID]            the changes a deploy would make
    deploy   -s STACK [-C DIR] [--account NAME|ID]            `pulumi up` against the running cloud
    destroy  -s STACK [-C DIR] [--account NAME|ID]            delete the stack's resources
    stack output -s STACK [-C DIR] [--json] [--show-secrets]  outputs, as `pulumi stack output` prints them
    synth    -s STACK [-C DIR]                                 every resource the stack declares, as JSON

-C is the Pulumi project's directory (default: the current one), as for `pulumi -C`. preview, deploy and destroy
use the credentials pulumi-aws would (localcloud_pulumi.credentials).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from localcloud.cli import UsageError, add_organization_arguments, add_port_arguments, organization_from_args, \
    organization_lines, parse_accounts, serve_until_signal
from localcloud.running import deployer_profiles, write_profiles
from localcloud_pulumi.deploy import DEFAULT_ORGANIZATION, DeployError, MissingStack, StackName, Target, deploy, \
    destroy, load_outputs, preview
from localcloud_pulumi.program import ProgramConfigError, known_stacks, project_name
from localcloud_pulumi.workspace import Workspace, accounts_from_stacks


def register(commands: Any) -> None:
    """Add this package's commands to localcloud's subparsers."""
    up = commands.add_parser("up", help="start the cloud, deploy a project's stacks, serve until interrupted")
    _project_argument(up)
    up.add_argument("-s", "--stack", action="append", dest="stacks", default=[],
                    help="a stack to deploy, in order (repeat; default: every stack of the project, each after "
                         "the stacks it references)")
    up.add_argument("--accounts", type=parse_accounts,
                    help="the cloud's accounts, NAME=ID,... (default: one per stack, from aws:allowedAccountIds)")
    add_port_arguments(up)
    add_organization_arguments(up)
    up.set_defaults(run=_guarded(cmd_up))
    for name, text, run in (("preview", "the changes a deploy would make, written nowhere", cmd_preview),
                            ("deploy", "deploy a stack to the running cloud", cmd_deploy),
                            ("destroy", "delete a stack's resources from the running cloud", cmd_destroy)):
        command = commands.add_parser(name, help=text)
        _stack_arguments(command)
        command.add_argument("--account", help="with no credentials in the environment: deploy as this account's "
                                               "deployer (an account name or ID)")
        command.set_defaults(run=_guarded(run))
    stack = commands.add_parser("stack", help="stack commands").add_subparsers(dest="stack_command", required=True)
    output = stack.add_parser("output", help="a deployed stack's outputs, as `pulumi stack output` prints them")
    _stack_arguments(output)
    output.add_argument("--json", action="store_true", help="one flat JSON object")
    output.add_argument("--show-secrets", action="store_true", help="print secret outputs' values")
    output.set_defaults(run=_guarded(cmd_stack_output))
    synth = commands.add_parser("synth", help="print every resource a stack declares, as JSON")
    _stack_arguments(synth)
    synth.set_defaults(run=_guarded(cmd_synth))


def _project_argument(command: argparse.ArgumentParser) -> None:
    command.add_argument("-C", "--cwd", type=Path, default=Path.cwd(), dest="project_dir",
                         help="the Pulumi project's directory (default: the current directory)")


def _stack_arguments(command: argparse.ArgumentParser) -> None:
    command.add_argument("-s", "--stack", required=True, help="the stack's name (Pulumi.STACK.yaml in the project)")
    _project_argument(command)


def _guarded(run: Any) -> Any:
    """A command whose deploy and config errors print as one line naming what is wrong, and exit 2."""
    def guarded(args: argparse.Namespace) -> int:
        try:
            _check_project(args)
            return run(args)
        except (DeployError, ProgramConfigError) as error:
            raise UsageError(str(error)) from error
        except Exception as error:  # the program's own errors (bad config) arrive as pulumi.RunError
            if type(error).__name__ in ("RunError", "ConfigError"):
                raise UsageError(str(error)) from error
            raise
    return guarded


def _check_project(args: argparse.Namespace) -> None:
    """The directory must be a Pulumi project, and each stack named one of its stacks (Pulumi.STACK.yaml)."""
    project = args.project_dir.resolve()
    if not (project / "Pulumi.yaml").exists():
        raise DeployError(f"{project} is not a Pulumi project (no Pulumi.yaml)")
    stacks = known_stacks(project)
    for stack in getattr(args, "stacks", None) or [getattr(args, "stack", None)]:
        if stack is not None and stack not in stacks:
            raise DeployError(f"the project in {project} has no stack {stack!r} (stacks: {', '.join(stacks) or 'none'})")
    args.project_dir = project


def _credentials(args: argparse.Namespace) -> dict[str, Any]:
    return {"environ": dict(os.environ), "account": args.account}


def cmd_up(args: argparse.Namespace) -> int:
    stacks = args.stacks or known_stacks(args.project_dir)
    accounts = args.accounts or accounts_from_stacks(args.project_dir, stacks)
    organization = organization_from_args(args, accounts)  # before the cloud starts: a bad flag starts nothing
    with Workspace.start(args.state_dir, project_dir=args.project_dir, stacks=stacks, accounts=accounts,
                         port=args.port, http_port=args.http_port, organization=organization) as workspace:
        for stack in deploy_in_order(workspace, stacks, ordered=bool(args.stacks)):
            print(f"deployed {stack}: {len(workspace.outputs[stack])} outputs", flush=True)
        profiles = deployer_profiles(workspace.cloud)
        write_profiles(workspace.state_dir, workspace.cloud, profiles)
        serve_until_signal(workspace.running, [f"profiles {', '.join(p.name for p in profiles)}: "
                                               f". {workspace.state_dir / 'env.sh'}",
                                               *organization_lines(workspace.cloud)])
    return 0


def deploy_in_order(workspace: Workspace, stacks: Sequence[str], *, ordered: bool) -> list[str]:
    """Deploy ``stacks``; unless ``ordered``, a stack whose StackReference names another of them not yet
    deployed waits until that one is (the reference is found in the deploy's preview, before anything is written)."""
    done: list[str] = []
    pending = list(stacks)
    while pending:
        stack = pending[0]
        try:
            workspace.deploy(stack)
        except MissingStack as missing:
            needed = missing.reference.stack
            same_project = missing.reference.project == project_name(workspace.project_dir)
            if ordered or not same_project or needed not in pending or needed == stack:
                raise
            pending.remove(needed)
            pending.insert(0, needed)
            continue
        done.append(pending.pop(0))
    return done


def cmd_preview(args: argparse.Namespace) -> int:
    changes = preview(args.stack, Target.running(args.state_dir), args.state_dir, project_dir=args.project_dir,
                      **_credentials(args))
    for change in changes or ["no changes"]:
        print(change)
    return 0


def cmd_deploy(args: argparse.Namespace) -> int:
    outputs, changes = deploy(args.stack, Target.running(args.state_dir), args.state_dir,
                              project_dir=args.project_dir, **_credentials(args))
    for change in changes or ["no changes"]:
        print(change)
    print(json.dumps({name: "[secret]" if out.secret else out.value for name, out in outputs.items()}, indent=2))
    return 0


def cmd_destroy(args: argparse.Namespace) -> int:
    changes = destroy(args.stack, Target.running(args.state_dir), args.state_dir, project_dir=args.project_dir,
                      **_credentials(args))
    for change in changes or ["nothing to delete"]:
        print(change)
    return 0


def cmd_stack_output(args: argparse.Namespace) -> int:
    """`stack output`: a flat object as `pulumi stack output --json` prints it, secrets as "[secret]"."""
    name = StackName(DEFAULT_ORGANIZATION, project_name(args.project_dir), args.stack)
    stored = load_outputs(args.state_dir, name)
    if stored is None:
        raise DeployError(f"the stack {name} has no outputs: deploy it first (python -m localcloud deploy -s "
                          f"{args.stack})")
    secret = set(stored["secretOutputNames"])
    shown = {key: "[secret]" if key in secret and not args.show_secrets else value
             for key, value in stored["outputs"].items()}
    if args.json:
        print(json.dumps(shown, indent=2))
    else:
        print(f"Current stack outputs ({len(shown)}):")
        width = max([len("OUTPUT"), *(len(key) for key in shown)])
        print(f"    {'OUTPUT'.ljust(width)}  VALUE")
        for key, value in shown.items():
            print(f"    {key.ljust(width)}  {value if isinstance(value, str) else json.dumps(value)}")
    return 0


def cmd_synth(args: argparse.Namespace) -> int:
    from localcloud_pulumi.synth import main_synth  # here, so the other commands do not import the synth machinery

    sys.stdout.write(main_synth(args.stack, args.project_dir))
    return 0
