"""python -m localcloud {up,demo,deploy,destroy,synth,stack output}: the offline two-account cloud from the command
line."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from localcloud.deploy import DEFAULT_ORGANIZATION, DeployError, StackName, deploy, destroy, load_outputs
from localcloud.program import PROJECT_DIR, ProgramConfigError, known_stacks, project_name
from localcloud.workspace import STACKS, Workspace, running_target


def main(argv: list[str] | None = None, *, import_seconds: float = 0.0) -> int:
    """``import_seconds``: what importing this module took (python -m localcloud measures it; the demo reports it)."""
    parser = argparse.ArgumentParser(prog="python -m localcloud", description=__doc__)
    parser.add_argument("--state-dir", type=Path, default=PROJECT_DIR / ".localcloud",
                        help="where localcloud keeps certificates, stack outputs and profiles (default: .localcloud)")
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("up", help="start the cloud, deploy prod then dev, serve until interrupted")
    up.add_argument("--port", type=int, default=0, help="HTTPS port (default: any free port)")
    up.add_argument("--http-port", type=int, default=0, help="plain-HTTP port (default: any free port)")
    commands.add_parser("demo", help="up, invoke the Lambda, read the object back, print who may do what")
    for name, text in (("deploy", "deploy a stack to the running cloud"),
                       ("destroy", "delete a stack's resources from the running cloud")):
        command = commands.add_parser(name, help=text)
        _stack_arguments(command)
    stack = commands.add_parser("stack", help="stack commands").add_subparsers(dest="stack_command", required=True)
    output = stack.add_parser("output", help="a deployed stack's outputs, as `pulumi stack output` prints them")
    _stack_arguments(output)
    output.add_argument("--json", action="store_true", help="one flat JSON object")
    output.add_argument("--show-secrets", action="store_true", help="print secret outputs' values")
    synth = commands.add_parser("synth", help="print every resource a stack declares, as JSON (tests/snapshots/)")
    synth.add_argument("--stack", required=True, choices=STACKS)
    args = parser.parse_args(argv)
    args.import_seconds = import_seconds

    try:
        return COMMANDS[args.command](args)
    except (DeployError, ProgramConfigError) as error:
        print(f"localcloud: {error}", file=sys.stderr)
        return 2
    except Exception as error:  # the program's own errors (bad config) arrive as pulumi.RunError
        if type(error).__name__ in ("RunError", "ConfigError"):
            print(f"localcloud: {error}", file=sys.stderr)
            return 2
        raise


def _stack_arguments(command: argparse.ArgumentParser) -> None:
    command.add_argument("-s", "--stack", required=True, help="the stack's name (Pulumi.STACK.yaml in the project)")
    command.add_argument("-C", "--cwd", type=Path, default=PROJECT_DIR, dest="project_dir",
                         help="the Pulumi project's directory (default: this project)")


def _project_stack(args: argparse.Namespace) -> None:
    """The stack must be one of the project's (a Pulumi.STACK.yaml beside its Pulumi.yaml)."""
    project = args.project_dir.resolve()
    if not (project / "Pulumi.yaml").exists():
        raise DeployError(f"{project} is not a Pulumi project (no Pulumi.yaml)")
    if args.stack not in known_stacks(project):
        raise DeployError(f"the project in {project} has no stack {args.stack!r} (stacks: "
                          f"{', '.join(known_stacks(project)) or 'none'})")
    args.project_dir = project


def cmd_up(args: argparse.Namespace) -> int:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    with Workspace.start(args.state_dir, port=args.port, http_port=args.http_port) as workspace:
        workspace.deploy_all()
        print(f"localcloud ready on {workspace.cloud.endpoint}", flush=True)
        print(f"  plain HTTP (for TLS-only tests): {workspace.cloud.http_endpoint}")
        print(f"  profiles prod, dev, dev-user, prod-writer: . {args.state_dir / 'env.sh'}")
        print(f"  then: aws --profile prod-writer s3 ls s3://{workspace.output('prod', 'bucketName')}/"
              f"{workspace.output('prod', 'keyPrefix')}", flush=True)
        stop.wait()
        print("localcloud stopping", flush=True)
    return 0


def cmd_deploy(args: argparse.Namespace) -> int:
    _project_stack(args)
    outputs, changes = deploy(args.stack, running_target(args.state_dir), args.state_dir, project_dir=args.project_dir)
    for change in changes or ["no changes"]:
        print(change)
    print(json.dumps({name: "[secret]" if out.secret else out.value for name, out in outputs.items()}, indent=2))
    return 0


def cmd_destroy(args: argparse.Namespace) -> int:
    _project_stack(args)
    changes = destroy(args.stack, running_target(args.state_dir), args.state_dir, project_dir=args.project_dir)
    for change in changes or ["nothing to delete"]:
        print(change)
    return 0


def cmd_stack(args: argparse.Namespace) -> int:
    """`stack output`: a flat object as `pulumi stack output --json` prints it, secrets as "[secret]"."""
    _project_stack(args)
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


def cmd_demo(args: argparse.Namespace) -> int:
    began = time.perf_counter()
    with Workspace.start(args.state_dir) as workspace:
        print(f"localcloud ready on {workspace.cloud.endpoint} "
              f"(accounts {', '.join(f'{n} {i}' for n, i in workspace.cloud.accounts.items())})")
        for stack in STACKS:
            changes = workspace.deploy(stack)
            print(f"deployed {stack}: {len(changes)} resources in {workspace.timings[f'deploy_{stack}']:.2f} s")
        # No AWS CLI profiles: they would name a cloud that is gone when the demo exits (`up` writes them).
        # The invoke mostly waits for the function's own process to start: read the policies back meanwhile.
        with ThreadPoolExecutor(1, thread_name_prefix="describe-access") as pool:
            access = pool.submit(describe_access, workspace)
            ok = _invoke_and_verify(workspace)
            lines = access.result()
        print("\nWho may do what (read back from the deployed IAM policies):")
        for line in lines:
            print(f"  {line}")
    phases = {"imports": args.import_seconds, "cloud start": workspace.timings["start"],
              **{f"deploy {stack}": workspace.timings[f"deploy_{stack}"] for stack in STACKS},
              "first invoke": workspace.timings.get("first_invoke", 0.0)}
    elapsed = time.perf_counter() - began
    phases["the rest"] = args.import_seconds + elapsed - sum(phases.values())
    print(f"\ndemo {'passed' if ok else 'FAILED'} in {args.import_seconds + elapsed:.2f} s: "
          + ", ".join(f"{name} {seconds:.2f}" for name, seconds in phases.items()))
    return 0 if ok else 1


def _invoke_and_verify(workspace: Workspace) -> bool:
    function = workspace.output("dev", "functionName")
    body = f"hello from the dev account, {uuid.uuid4()}"
    event = {"key": f"demo/{uuid.uuid4()}.txt", "body": body, "content_type": "text/plain"}
    began = time.perf_counter()
    response = workspace.cloud.client("lambda", "dev").invoke(FunctionName=function, Payload=json.dumps(event))
    workspace.timings["first_invoke"] = time.perf_counter() - began
    result = json.loads(response["Payload"].read())
    print(f"invoked {function} as the dev deployer in {workspace.timings['first_invoke']:.2f} s: {result}")
    if response.get("FunctionError") or result.get("statusCode") != 200:
        print("the Lambda did not write the object")
        return False
    written = json.loads(result["body"])
    stored = workspace.cloud.client("s3", "prod").get_object(Bucket=written["bucket"], Key=written["key"])
    data = stored["Body"].read()
    same = data == body.encode()
    print(f"read s3://{written['bucket']}/{written['key']} back as the prod deployer: {len(data)} bytes, "
          f"{'the same bytes' if same else 'DIFFERENT bytes'}; owner-enforced, "
          f"{stored.get('ServerSideEncryption')} encrypted, version {stored.get('VersionId')}")
    return same


def describe_access(workspace: Workspace) -> list[str]:
    """Each deployed grant as one line: the principal, the effect, the actions, the resource, the conditions."""
    prod_iam, dev_iam = workspace.cloud.client("iam", "prod"), workspace.cloud.client("iam", "dev")
    role_name = workspace.output("prod", "roleName")
    role = prod_iam.get_role(RoleName=role_name)["Role"]
    lines = [f"prod role/{role_name} can be assumed by:"]
    lines += [f"    {_statement(s, principal=True)}" for s in _statements(role["AssumeRolePolicyDocument"])]
    lines += _inline_grants(prod_iam, "role", role_name, f"prod role/{role_name} may:")
    execution_role = workspace.output("dev", "executionRoleArn").split("/")[-1]
    lines += _inline_grants(dev_iam, "role", execution_role, f"dev role/{execution_role} (the Lambda) may:")
    group = workspace.output("dev", "assumeGroupName")
    lines += _inline_grants(dev_iam, "group", group, f"dev group/{group} members may:")
    return lines


def _inline_grants(iam: Any, kind: str, name: str, heading: str) -> list[str]:
    lines = [heading]
    names = getattr(iam, f"list_{kind}_policies")(**{f"{kind.title()}Name": name})["PolicyNames"]
    for policy in names:
        document = getattr(iam, f"get_{kind}_policy")(**{f"{kind.title()}Name": name, "PolicyName": policy})
        lines += [f"    {_statement(s)}" for s in _statements(document["PolicyDocument"])]
    return lines


def _statements(document: Any) -> list[dict[str, Any]]:
    from urllib.parse import unquote

    if isinstance(document, str):
        document = json.loads(unquote(document))
    statements = document.get("Statement", [])
    return statements if isinstance(statements, list) else [statements]


def _statement(statement: dict[str, Any], *, principal: bool = False) -> str:
    parts = [statement.get("Effect", "")]
    if principal:
        parts.append(json.dumps(statement.get("Principal")))
    parts.append(json.dumps(statement.get("Action")))
    if "Resource" in statement:
        parts.append(f"on {json.dumps(statement['Resource'])}")
    if statement.get("Condition"):
        parts.append(f"if {json.dumps(statement['Condition'], sort_keys=True)}")
    return " ".join(parts)


def cmd_synth(args: argparse.Namespace) -> int:
    from localcloud.synth import main_synth  # here, so the other commands do not import the synth machinery

    sys.stdout.write(main_synth(args.stack))
    return 0


COMMANDS = {"up": cmd_up, "demo": cmd_demo, "deploy": cmd_deploy, "destroy": cmd_destroy, "synth": cmd_synth,
            "stack": cmd_stack}
