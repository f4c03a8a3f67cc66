"""`python -m offline.credential_process ...`: the offline stand-in for the `aws sts assume-role --source-identity
... --query ...` that a grant requiring a source identity puts in its consumers' cliProfile (components/cli_profile.py),
for the profiles `make up` writes, on machines without the AWS CLI. Same options, same output: the JSON a
credential_process prints (cli-configure-sourcing-external.html).
"""

from __future__ import annotations

import argparse
import json
import sys

import boto3
from botocore.exceptions import BotoCoreError, ClientError


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m offline.credential_process")
    parser.add_argument("--profile", required=True, help="the profile whose credentials assume the role")
    parser.add_argument("--role-arn", required=True)
    parser.add_argument("--role-session-name", required=True)
    parser.add_argument("--source-identity", required=True)
    parser.add_argument("--duration-seconds", type=int, default=3600)
    parser.add_argument("--external-id")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    params = {"RoleArn": args.role_arn, "RoleSessionName": args.role_session_name,
              "SourceIdentity": args.source_identity, "DurationSeconds": args.duration_seconds}
    if args.external_id:
        params["ExternalId"] = args.external_id
    try:
        credentials = boto3.Session(profile_name=args.profile).client("sts").assume_role(**params)["Credentials"]
    except (BotoCoreError, ClientError) as exc:
        print(f"could not assume {args.role_arn} as {args.profile}: {exc}", file=sys.stderr)
        return 1
    print(json.dumps({"Version": 1, "AccessKeyId": credentials["AccessKeyId"],
                      "SecretAccessKey": credentials["SecretAccessKey"],
                      "SessionToken": credentials["SessionToken"],
                      "Expiration": credentials["Expiration"].isoformat()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
