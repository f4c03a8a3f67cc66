"""python -m offline up | demo: this project's stacks (prod, then every consumer) on a fresh localcloud.

up    serve until interrupted, with AWS CLI profiles per grant: each account's deployer (prod, dev, analytics),
      each consumer's user (dev-user, analytics-user) and the grant's role from that user (prod-dev-writer,
      prod-analytics-reader); . .localcloud/env.sh
demo  deploy, invoke each writer as its account's deployer, read its object back as the prod deployer and
      through each reader, print who may do what per grant, and exit: 0 when every read gave the same bytes
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
from offline.profiles import Consumer, consumers, write_project_profiles
from offline.stacks import DATA_STACK


def main(argv: list[str] | None = None, *, import_seconds: float = 0.0) -> int:
    parser = argparse.ArgumentParser(prog="python -m offline", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--state-dir", type=Path, default=stacks.PROJECT_DIR / ".localcloud",
                        help="where localcloud keeps certificates, stack state, outputs and profiles")
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("up", help="deploy prod then the consumers, write the profiles, serve until interrupted")
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
        bucket, grants = workspace.output(DATA_STACK, "bucketName"), workspace.output(DATA_STACK, "grants")
        serve_until_signal(workspace.running, [
            f"profiles {', '.join(p.name for p in profiles)}: . {args.state_dir / 'env.sh'}",
            *(f"then: aws --profile {c.role_profile} s3 ls s3://{bucket}/{grants[c.grant]['keyPrefix']}"
              for c in consumers(workspace) if c.user)])
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    began = time.perf_counter()
    with stacks.start(args.state_dir) as workspace:
        print(f"localcloud ready on {workspace.cloud.endpoint} "
              f"(accounts {', '.join(f'{n} {i}' for n, i in workspace.cloud.accounts.items())})")
        deployed = stacks.committed_stacks(workspace.project_dir)
        for stack in deployed:
            changes = workspace.deploy(stack)
            print(f"deployed {stack}: {len(changes)} resources in {workspace.timings[f'deploy_{stack}']:.2f} s")
        # No AWS CLI profiles: they would name a cloud that is gone when the demo exits (`up` writes them).
        # The invoke mostly waits for the function's own process to start: read the policies back meanwhile.
        with ThreadPoolExecutor(1, thread_name_prefix="describe-access") as pool:
            access = pool.submit(describe_access, workspace)
            ok = _write_and_read_back(workspace)
            lines = access.result()
        print("\nWho may do what, per grant (read back from the deployed IAM policies):")
        for line in lines:
            print(f"  {line}")
    phases = {"imports": args.import_seconds, "cloud start": workspace.timings["start"],
              **{f"deploy {stack}": workspace.timings[f"deploy_{stack}"] for stack in deployed},
              "first invoke": workspace.timings.get("first_invoke", 0.0)}
    elapsed = time.perf_counter() - began
    phases["the rest"] = args.import_seconds + elapsed - sum(phases.values())
    print(f"\ndemo {'passed' if ok else 'FAILED'} in {args.import_seconds + elapsed:.2f} s: "
          + ", ".join(f"{name} {seconds:.2f}" for name, seconds in phases.items()))
    return 0 if ok else 1


def _write_and_read_back(workspace: Workspace) -> bool:
    """Each writer writes an object; the prod deployer and every reader read it back: the same bytes, or False."""
    found = consumers(workspace)
    writers = [c for c in found if c.workload == "writer"]
    readers = [c for c in found if c.workload == "reader"]
    if not writers:
        print("no consumer runs a writer: nothing to write")
        return False
    ok = True
    for writer in writers:
        written = _invoke_writer(workspace, writer)
        if written is None:
            ok = False
            continue
        key, body = written
        ok &= _read_as_prod(workspace, key, body)
        for reader in readers:
            ok &= _read_through(workspace, reader, key, body)
    return ok


def _invoke(workspace: Workspace, consumer: Consumer, event: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    function = workspace.output(consumer.stack, "functionName")
    began = time.perf_counter()
    response = workspace.cloud.client("lambda", consumer.stack).invoke(FunctionName=function,
                                                                        Payload=json.dumps(event))
    workspace.timings.setdefault("first_invoke", time.perf_counter() - began)
    return json.loads(response["Payload"].read()), response.get("FunctionError")


def _invoke_writer(workspace: Workspace, writer: Consumer) -> tuple[str, str] | None:
    body = f"hello from the {writer.stack} account, {uuid.uuid4()}"
    relative = f"demo/{uuid.uuid4()}.txt"
    result, error = _invoke(workspace, writer, {"key": relative, "body": body, "content_type": "text/plain"})
    print(f"{writer.stack}: invoked {workspace.output(writer.stack, 'functionName')} (grant {writer.grant}) as the "
          f"{writer.stack} deployer: {result}")
    if error or result.get("statusCode") != 200:
        print(f"{writer.stack}: the writer did not write the object")
        return None
    return json.loads(result["body"])["key"], body


def _read_as_prod(workspace: Workspace, key: str, body: str) -> bool:
    bucket = workspace.output(DATA_STACK, "bucketName")
    stored = workspace.cloud.client("s3", DATA_STACK).get_object(Bucket=bucket, Key=key)
    data = stored["Body"].read()
    same = data == body.encode()
    print(f"prod: read s3://{bucket}/{key} back as the prod deployer: {len(data)} bytes, "
          f"{'the same bytes' if same else 'DIFFERENT bytes'}; owner-enforced, "
          f"{stored.get('ServerSideEncryption')} encrypted, version {stored.get('VersionId')}")
    return same


def _read_through(workspace: Workspace, reader: Consumer, key: str, body: str) -> bool:
    prefix = workspace.output(DATA_STACK, "grants")[reader.grant]["keyPrefix"]
    if not key.startswith(prefix):
        print(f"{reader.stack}: {key} is outside grant {reader.grant}'s prefix {prefix}: not read")
        return True
    result, error = _invoke(workspace, reader, {"key": key[len(prefix):]})
    answer = json.loads(result.get("body") or "{}") if not error else {}
    same = result.get("statusCode") == 200 and answer.get("body") == body and answer.get("encoding") == "utf-8"
    print(f"{reader.stack}: {workspace.output(reader.stack, 'functionName')} (grant {reader.grant}) read {key}: "
          f"{answer.get('size')} bytes, {'the same bytes' if same else f'NOT the same: {result}'}")
    return same


def describe_access(workspace: Workspace) -> list[str]:
    """Each deployed grant: who may assume its role, what the role may do, and what the consumer's principals may."""
    prod_iam = workspace.cloud.client("iam", DATA_STACK)
    grants = workspace.output(DATA_STACK, "grants")
    users_of = {c.grant: c for c in consumers(workspace)}
    lines: list[str] = []
    for name, grant in sorted(grants.items()):
        role_name = grant["roleName"]
        role = prod_iam.get_role(RoleName=role_name)["Role"]
        lines.append(f"grant {name} ({grant['access']} under {grant['keyPrefix']}, account {grant['accountId']}):")
        lines.append(f"  prod role/{role_name} can be assumed by:")
        lines += [f"      {_statement(s, principal=True)}" for s in _statements(role["AssumeRolePolicyDocument"])]
        lines += _inline_grants(prod_iam, "role", role_name, f"  prod role/{role_name} may:")
        consumer = users_of.get(name)
        if consumer is None:
            lines.append("  (no consumer stack deployed)")
            continue
        consumer_iam = workspace.cloud.client("iam", consumer.stack)
        if consumer.workload != "none":
            execution_role = workspace.output(consumer.stack, "executionRoleArn").split("/")[-1]
            lines += _inline_grants(consumer_iam, "role", execution_role,
                                    f"  {consumer.stack} role/{execution_role} (the {consumer.workload}) may:")
        group = workspace.output(consumer.stack, "assumeGroupName")
        lines += _inline_grants(consumer_iam, "group", group, f"  {consumer.stack} group/{group} members may:")
    return lines


def _inline_grants(iam: Any, kind: str, name: str, heading: str) -> list[str]:
    lines = [heading]
    names = getattr(iam, f"list_{kind}_policies")(**{f"{kind.title()}Name": name})["PolicyNames"]
    for policy in names:
        document = getattr(iam, f"get_{kind}_policy")(**{f"{kind.title()}Name": name, "PolicyName": policy})
        lines += [f"      {_statement(s)}" for s in _statements(document["PolicyDocument"])]
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


