"""The type check (`make typecheck`: pyrefly with the repository's pyrefly.toml) still rejects what `pulumi preview`
with the real provider would reject: a misspelled keyword argument or a wrong argument type on a pulumi-aws resource,
in both of a resource's call forms (keyword arguments, or an ``...Args`` object). And it accepts a correct program.

Each test writes a small Pulumi program into tmp_path and checks that one file, with the project's settings (its
interpreter, search path and error settings), so it takes about a second and does not depend on the rest of the tree.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "pyrefly.toml"
BIN = Path(sys.executable).parent
HANG_SECONDS = 120  # one small file checks in about a second; this only stops a hung checker

BAD_PROGRAM = '''\
import pulumi
import pulumi_aws as aws

from components.hardened_bucket import HardenedBucketArgs

bucket = aws.s3.Bucket("data", bucket_nmae="data-bucket", force_destroy=False)  # MISTAKE misspelled-keyword
role = aws.iam.Role("writer", assume_role_policy=123, max_session_duration=3600)  # MISTAKE wrong-type
args_bucket = aws.s3.Bucket("logs", aws.s3.BucketArgs(bucket_nmae="logs"))  # MISTAKE args-misspelled-keyword
args_role = aws.iam.Role("reader", aws.iam.RoleArgs(assume_role_policy=123))  # MISTAKE args-wrong-type
component_args = HardenedBucketArgs(versionning=True)  # MISTAKE component-misspelled-keyword
pulumi.export("bucketName", bucket.id)
'''

# What the error on each mistake's line must say (pyrefly's wording, pinned in uv.lock): the misspelled keyword
# itself, or the offending type and the parameter. For a resource's keyword form pyrefly first reports that no
# overload matches, then why against the closest one; both are in its full description.
MISTAKES = {
    "misspelled-keyword": "Unexpected keyword argument `bucket_nmae`",
    "wrong-type": "`Literal[123]` is not assignable to parameter `assume_role_policy`",
    "args-misspelled-keyword": "Unexpected keyword argument `bucket_nmae`",
    "args-wrong-type": "`Literal[123]` is not assignable to parameter `assume_role_policy`",
    "component-misspelled-keyword": "Unexpected keyword argument `versionning`",
}

GOOD_PROGRAM = '''\
import json

import pulumi
import pulumi_aws as aws

from bootstrap.policies import GITHUB_OIDC_URL
from components.hardened_bucket import HardenedBucket, HardenedBucketArgs
from components.policies import tls_only_bucket_policy

data = HardenedBucket("data", HardenedBucketArgs(bucket_name="data-bucket", tags={"team": "data"}))
bucket = aws.s3.Bucket("logs", bucket="logs-bucket", force_destroy=False, tags={"team": "data"})
block = aws.s3.BucketPublicAccessBlock("logs-public-access", bucket=bucket.id, block_public_acls=True,
                                       opts=pulumi.ResourceOptions(parent=bucket))
aws.s3.BucketPolicy("logs-tls-only", bucket=bucket.id,
                    policy=bucket.id.apply(lambda b: tls_only_bucket_policy(b).to_json()),
                    opts=pulumi.ResourceOptions(depends_on=[block]))
role = aws.iam.Role(
    "writer",
    assume_role_policy=json.dumps({"Version": "2012-10-17", "Statement": []}),
    max_session_duration=3600,
    tags={"team": "data"},
)
reader = aws.iam.Role("reader", aws.iam.RoleArgs(assume_role_policy=role.arn.apply(lambda arn: json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": arn}}]}
))))
aws.iam.RolePolicy("writer-access", role=role.id, policy=pulumi.Output.all(bucket.arn, data.bucket_arn).apply(
    lambda arns: json.dumps({"Version": "2012-10-17",
                             "Statement": [{"Effect": "Allow", "Action": "s3:PutObject", "Resource": arns}]})))
pulumi.export("bucketName", bucket.id)
pulumi.export("oidcUrl", GITHUB_OIDC_URL)
'''


def pyrefly() -> str:
    """pyrefly from the virtualenv's bin directory (a dev dependency, pinned in uv.lock)."""
    found = shutil.which("pyrefly", path=str(BIN))
    if found is None:
        pytest.fail(
            f"pyrefly is not installed next to {sys.executable}: it is a dev dependency of this project "
            f"(pyproject.toml [dependency-groups] dev), so rebuild the virtualenv from uv.lock (uv sync)."
        )
    return found


@dataclass
class Checked:
    returncode: int
    errors: list[dict[str, Any]]  # severity "error" only
    report: str  # one line per error, or what pyrefly printed on stderr


def check(source: str, tmp_path: Path) -> Checked:
    """Check `source` as one file with the project's pyrefly.toml and this interpreter (an active virtualenv would
    otherwise take precedence over the config's)."""
    assert CONFIG.is_file(), f"{CONFIG} is missing"
    program = tmp_path / "program.py"
    program.write_text(source)
    env = dict(os.environ, NO_COLOR="1")
    result = subprocess.run(
        [pyrefly(), "check", "--config", str(CONFIG), "--python-interpreter-path", sys.executable,
         "--output-format", "json", str(program)],
        cwd=program.parent, env=env, capture_output=True, text=True, timeout=HANG_SECONDS,
    )
    report = f"pyrefly exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    try:
        errors = json.loads(result.stdout)["errors"]
    except (ValueError, KeyError) as exc:
        raise AssertionError(f"pyrefly printed no JSON report\n{report}") from exc
    errors = [e for e in errors if e["severity"] == "error"]
    lines = "\n".join(f"{e['line']}: [{e['name']}] {e['description']}" for e in errors)
    print(lines)
    return Checked(result.returncode, errors, lines or result.stderr)


def mistake_lines(program: str) -> dict[str, int]:
    return {line.rsplit("# MISTAKE ", 1)[1].strip(): n
            for n, line in enumerate(program.splitlines(), start=1) if "# MISTAKE " in line}


def test_mistakes_on_pulumi_aws_resources_fail_the_check(tmp_path: Path):
    checked = check(BAD_PROGRAM, tmp_path)
    errors, report = checked.errors, checked.report

    assert checked.returncode == 1, report
    lines = mistake_lines(BAD_PROGRAM)
    assert lines.keys() == MISTAKES.keys()
    for mistake, expected in MISTAKES.items():
        on_line = [e["description"] for e in errors if e["line"] == lines[mistake]]
        assert on_line, f"no error for {mistake} on line {lines[mistake]}\n{report}"
        assert any(expected in description for description in on_line), (
            f"the error for {mistake} (line {lines[mistake]}) does not say {expected!r}\n{report}"
        )
    # Nothing else is wrong with the program: errors on the mistakes' lines only.
    assert {e["line"] for e in errors} == set(lines.values()), report


def test_a_correct_program_passes(tmp_path: Path):
    checked = check(GOOD_PROGRAM, tmp_path)

    assert checked.errors == [], checked.report
    assert checked.returncode == 0, checked.report
