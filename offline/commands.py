"""python -m offline up | demo: this project's stacks (prod, then dev) on a fresh localcloud.

up    serve until interrupted, with AWS CLI profiles prod, dev, dev-user and prod-writer (. .localcloud/env.sh)
demo  deploy, invoke the Lambda as the dev deployer, read the object back as the prod deployer, print who may do
      what, and exit: 0 when the bytes came back the same
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from localcloud.cli import add_port_arguments, serve_until_signal
from localcloud.server import LocalCloudError
from localcloud_pulumi.deploy import DeployError
from localcloud_pulumi.program import ProgramConfigError
from localcloud_pulumi.workspace import Workspace
from offline import stacks
from offline.profiles import WRITER_PROFILE, write_project_profiles
from offline.stacks import STACKS


def main(argv: list[str] | None = None, *, import_seconds: float = 0.0) -> int:
    parser = argparse.ArgumentParser(prog="python -m offline", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--state-dir", type=Path, default=stacks.PROJECT_DIR / ".localcloud",
                        help="where localcloud keeps certificates, stack state, outputs and profiles")
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("up", help="deploy prod then dev, write the profiles, serve until interrupted")
    add_port_arguments(up)
    up.set_defaults(run=cmd_up)
    commands.add_parser("demo", help="deploy, invoke the Lambda, verify the object, print who may do what") \
        .set_defaults(run=cmd_demo)
    args = parser.parse_args(argv)
    args.import_seconds = import_seconds
    try:
        return args.run(args)
    except (DeployError, ProgramConfigError, LocalCloudError) as error:
        print(f"offline: {error}", file=sys.stderr)
        return 2


def cmd_up(args: argparse.Namespace) -> int:
    with stacks.start(args.state_dir, port=args.port, http_port=args.http_port) as workspace:
        stacks.deploy_all(workspace)
        profiles = write_project_profiles(workspace)
        serve_until_signal(workspace.running, [
            f"profiles {', '.join(p.name for p in profiles)}: . {args.state_dir / 'env.sh'}",
            f"then: aws --profile {WRITER_PROFILE} s3 ls s3://{workspace.output('prod', 'bucketName')}/"
            f"{workspace.output('prod', 'keyPrefix')}"])
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    began = time.perf_counter()
    with stacks.start(args.state_dir) as workspace:
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


