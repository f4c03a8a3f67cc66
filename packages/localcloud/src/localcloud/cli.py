"""The command line of localcloud: `serve` (the cloud alone), and every command that installed packages add.

Commands come from the entry point group ``localcloud.commands`` (see __main__); a command's function gets the
parsed arguments, with ``state_dir`` and ``import_seconds`` set, and returns the exit code. Errors a user can fix
(``UsageError``, LocalCloudError and OrganizationError) print as one line and exit 2.
"""

from __future__ import annotations

import argparse
import re
import signal
import sys
import threading
from collections.abc import Mapping
from importlib.metadata import entry_points
from pathlib import Path

from localcloud import organizations
from localcloud.organizations import Organization
from localcloud.running import RunningCloud, deployer_profiles, write_profiles
from localcloud.server import LocalCloud, LocalCloudError

COMMAND_GROUP = "localcloud.commands"
_ACCOUNT = re.compile(r"^(?P<name>[A-Za-z][A-Za-z0-9_-]*)=(?P<id>\d{12})$")


class UsageError(Exception):
    """A command's input names something that does not exist or cannot be used; the message says which."""


def parse_accounts(text: str) -> dict[str, str]:
    """``prod=111111111111,dev=222222222222`` as {name: account ID}; argparse names a malformed pair."""
    accounts: dict[str, str] = {}
    for pair in text.split(","):
        match = _ACCOUNT.match(pair.strip())
        if match is None:
            raise argparse.ArgumentTypeError(f"{pair.strip()!r} is not NAME=ACCOUNT_ID (an account ID is 12 digits)")
        if match["name"] in accounts:
            raise argparse.ArgumentTypeError(f"the account name {match['name']!r} is given twice")
        accounts[match["name"]] = match["id"]
    return accounts


def main(argv: list[str] | None = None, *, import_seconds: float = 0.0) -> int:
    parser = argparse.ArgumentParser(prog="python -m localcloud", description=__doc__)
    parser.add_argument("--state-dir", type=Path, default=Path(".localcloud"),
                        help="where localcloud keeps certificates, stack state, outputs and profiles "
                             "(default: .localcloud in the current directory)")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="start the cloud and serve until interrupted (deploys nothing)")
    serve.add_argument("--accounts", type=parse_accounts, required=True,
                       help="the cloud's accounts, NAME=ID,...: each gets a deployer and a profile of its name")
    serve.add_argument("--region", default="eu-west-1")
    add_port_arguments(serve)
    add_organization_arguments(serve)
    serve.set_defaults(run=cmd_serve)
    for entry_point in entry_points(group=COMMAND_GROUP):
        entry_point.load()(commands)
    args = parser.parse_args(argv)
    args.import_seconds = import_seconds
    try:
        return args.run(args)
    except (UsageError, LocalCloudError, organizations.OrganizationError) as error:
        print(f"localcloud: {error}", file=sys.stderr)
        return 2


def add_port_arguments(command: argparse.ArgumentParser) -> None:
    command.add_argument("--port", type=int, default=0, help="HTTPS port (default: any free port)")
    command.add_argument("--http-port", type=int, default=0, help="plain-HTTP port (default: any free port)")


def parse_organization_id(text: str) -> str:
    """An organization ID as AWS Organizations writes them; argparse names a malformed one."""
    if not organizations.ORGANIZATION_ID.match(text):
        raise argparse.ArgumentTypeError(f"{text!r} is not an organization ID: {organizations.ORGANIZATION_ID_RULE}")
    return text


def add_organization_arguments(command: argparse.ArgumentParser) -> None:
    command.add_argument("--org", type=parse_organization_id, metavar="o-ID",
                         help="put every account of the cloud in this AWS Organizations organization, directly under "
                              "its root (r- and the first four characters after o-): their principals' requests "
                              "carry aws:PrincipalOrgID and aws:PrincipalOrgPaths (o-ID/r-ID/), and "
                              "DescribeOrganization answers them. Default: no organization, every account stands "
                              "alone, as an AWS account does until it joins one")
    command.add_argument("--org-management", metavar="ACCOUNT",
                         help="with --org: the organization's management account, by name or ID (default: the "
                              "cloud's first account: the first of --accounts, or for up without --accounts the "
                              "first stack's)")


def organization_from_args(args: argparse.Namespace, accounts: Mapping[str, str]) -> Organization | None:
    """The organization ``--org`` and ``--org-management`` ask for, with every one of ``accounts`` a member."""
    if args.org is None:
        if args.org_management is not None:
            raise UsageError("--org-management needs --org, the organization's ID (o-...)")
        return None
    management = args.org_management or next(iter(accounts))
    if management not in accounts and management not in accounts.values():
        raise UsageError(f"--org-management {management!r} is none of the cloud's accounts: "
                         f"{', '.join(f'{name}={account}' for name, account in accounts.items())}")
    management_id = accounts.get(management, management)
    return Organization.of_accounts(args.org, accounts.values(), management_id)


def organization_lines(cloud: LocalCloud) -> list[str]:
    """What `serve` and `up` print of the organization, for policies that name it."""
    organization = cloud.organization
    if organization is None:
        return []
    names = {account: name for name, account in cloud.accounts.items()}
    members = ", ".join(names.get(account, account) for account in organization.members)
    return [f"organization {organization.id} (root {organization.root_id}, management "
            f"{names.get(organization.management_account, organization.management_account)}): {members}"]


def serve_until_signal(running: RunningCloud, lines: list[str]) -> None:
    """Print that the cloud is ready (and ``lines``), then serve until SIGINT or SIGTERM."""
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    print(f"localcloud ready on {running.cloud.endpoint}", flush=True)
    print(f"  plain HTTP (for TLS-only tests): {running.cloud.http_endpoint}")
    for line in lines:
        print(f"  {line}")
    sys.stdout.flush()
    stop.wait()
    print("localcloud stopping", flush=True)


def cmd_serve(args: argparse.Namespace) -> int:
    organization = organization_from_args(args, args.accounts)
    with RunningCloud.start(args.accounts, args.region, args.state_dir, port=args.port,
                            http_port=args.http_port, organization=organization) as running:
        profiles = deployer_profiles(running.cloud)
        write_profiles(running.state_dir, running.cloud, profiles)
        serve_until_signal(running, [f"profiles {', '.join(p.name for p in profiles)}: "
                                     f". {running.state_dir / 'env.sh'}", *organization_lines(running.cloud)])
    return 0
