"""python -m offline as a user runs it: `up` serves until a signal, and its profiles work from a shell, a pair per
grant; `demo` deploys every stack, writes through each writer, reads the same bytes back through each reader and
prints who may do what per grant."""

from __future__ import annotations

import configparser
import json
import re
import shlex
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from offline.stacks import CONSUMERS, DATA_STACK, PROJECT_DIR, STACKS
from tests.project import stack_config

READY = "localcloud ready on https://127.0.0.1:"
GRANT_OF = {stack: stack_config(stack)["cross-account-s3:grant"] for stack in CONSUMERS}
PROD_GRANTS = {g["name"]: g for g in json.loads(stack_config(DATA_STACK)["cross-account-s3:grants"])}
PREFIX_OF = {name: g["keyPrefix"] for name, g in PROD_GRANTS.items()}


def localcloud(*args: str) -> list[str]:
    return [sys.executable, "-m", "offline", *args]


def env_sh_variables(path: Path) -> dict[str, str]:
    lines = [line[len("export "):] for line in path.read_text().splitlines() if line.startswith("export ")]
    return {name: value.strip("'") for name, _, value in (line.partition("=") for line in lines)}


def start_up(state_dir: Path) -> tuple[subprocess.Popen[str], str]:
    """`python -m offline up`, once it is ready: the process and the first line it printed."""
    process = subprocess.Popen(localcloud("--state-dir", str(state_dir), "up"), cwd=PROJECT_DIR,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert process.stdout is not None  # stdout=PIPE
    first_line = process.stdout.readline()  # blocks until every stack is deployed, or EOF on failure
    if not first_line.startswith(READY):
        process.kill()
        pytest.fail(first_line + process.stdout.read())
    return process, first_line


def stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.kill()
        process.wait()


@pytest.fixture(scope="module")
def up_state(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The state directory of an `up` that serves for this module's profile tests."""
    state_dir = tmp_path_factory.mktemp("up") / "state"
    process, _ = start_up(state_dir)
    try:
        yield state_dir
    finally:
        stop(process)


@pytest.fixture
def shell(up_state: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """This process's environment as after `. <state>/env.sh`, with no other AWS credentials."""
    for name, value in env_sh_variables(up_state / "env.sh").items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    return up_state


def data_bucket() -> str:
    """The bucket, as the prod profile lists it (prod has one)."""
    [bucket] = [b["Name"] for b in boto3.Session(profile_name="prod").client("s3").list_buckets()["Buckets"]]
    return bucket


def versions(s3: Any, bucket: str) -> set[tuple[str, str]]:
    listed = s3.list_object_versions(Bucket=bucket)
    return {(v["Key"], v["VersionId"]) for v in listed.get("Versions", []) + listed.get("DeleteMarkers", [])}


def test_up_writes_a_profile_per_account_and_a_user_and_a_role_profile_per_grant(shell: Path):
    config = configparser.ConfigParser()
    config.read(shell / "aws" / "config")
    expected = {f"profile {stack}" for stack in STACKS}
    expected |= {f"profile {stack}-user" for stack in CONSUMERS} | {f"profile prod-{g}" for g in GRANT_OF.values()}
    assert expected <= set(config.sections())
    for stack, grant in GRANT_OF.items():
        role_profile = config[f"profile prod-{grant}"]
        if PROD_GRANTS[grant].get("sourceIdentity") == "required":
            # The user's own name as source identity: a credential_process, as a role profile cannot set one.
            words = shlex.split(role_profile["credential_process"])
            options = dict(zip(words[2::2], words[3::2]))
            user = json.loads(stack_config(stack)["cross-account-s3:groupUsers"])[0]
            assert (options["--profile"], options["--source-identity"]) == (f"{stack}-user", user)
            assert options["--role-arn"].endswith(f":role/cross-account-s3-{grant}")
            assert options["--external-id"] == PROD_GRANTS[grant]["externalId"]
            continue
        assert role_profile["source_profile"] == f"{stack}-user"
        assert role_profile["role_arn"].endswith(f":role/cross-account-s3-{grant}")
        assert role_profile["external_id"] == PROD_GRANTS[grant]["externalId"]
    for stack in STACKS:
        assert (shell / "stacks" / "organization" / "cross-account-s3" / f"{stack}.json").exists()


def test_up_profile_prod_dev_writer_puts_under_its_prefix(shell: Path):
    grant = GRANT_OF["dev"]
    bucket, session = data_bucket(), boto3.Session(profile_name=f"prod-{grant}")
    assert f":assumed-role/cross-account-s3-{grant}/" in session.client("sts").get_caller_identity()["Arn"]
    key = f"{PREFIX_OF[grant]}cli/{uuid.uuid4()}.txt"
    session.client("s3").put_object(Bucket=bucket, Key=key, Body=b"from the dev-writer profile")
    stored = boto3.Session(profile_name="prod").client("s3").get_object(Bucket=bucket, Key=key)
    assert stored["Body"].read() == b"from the dev-writer profile"


def test_up_profile_prod_analytics_reader_gets_but_cannot_put(shell: Path):
    grant = GRANT_OF["analytics"]
    bucket, prod = data_bucket(), boto3.Session(profile_name="prod").client("s3")
    key = f"{PREFIX_OF[grant]}cli/{uuid.uuid4()}.txt"
    prod.put_object(Bucket=bucket, Key=key, Body=b"for the analysts")
    session = boto3.Session(profile_name=f"prod-{grant}")
    assert f":assumed-role/cross-account-s3-{grant}/" in session.client("sts").get_caller_identity()["Arn"]
    s3 = session.client("s3")
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == b"for the analysts"
    before = versions(prod, bucket)
    with pytest.raises(ClientError) as denied:
        s3.put_object(Bucket=bucket, Key=f"{PREFIX_OF[grant]}cli/{uuid.uuid4()}.txt", Body=b"no")
    assert denied.value.response["Error"]["Code"] == "AccessDenied"
    assert versions(prod, bucket) == before


def test_up_prints_each_grants_profile_and_stops_cleanly_on_sigterm(tmp_path: Path):
    process, first_line = start_up(tmp_path / "state")
    try:
        assert process.stdout is not None
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
        printed = first_line + process.stdout.read()
    finally:
        stop(process)
    assert f". {tmp_path / 'state' / 'env.sh'}" in printed
    for grant in GRANT_OF.values():
        hint = rf"then: aws --profile prod-{grant} s3 ls s3://\S+/{PREFIX_OF[grant]}$"
        assert re.search(hint, printed, re.M), printed
    assert "localcloud stopping" in printed


@dataclass(frozen=True)
class DemoRun:
    state_dir: Path
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoRun:
    """One `python -m offline demo`, read by the tests below."""
    state_dir = tmp_path_factory.mktemp("demo")
    result = subprocess.run(localcloud("--state-dir", str(state_dir), "demo"), cwd=PROJECT_DIR,
                            capture_output=True, text=True)
    return DemoRun(state_dir, result.returncode, result.stdout, result.stderr)


def test_demo_deploys_every_stack_prod_first_writes_reads_the_same_bytes_back_and_exits_0(demo):
    out = demo.stdout
    assert demo.returncode == 0, out + demo.stderr
    assert re.findall(r"^deployed (\S+): ", out, re.M) == list(STACKS) and STACKS[0] == DATA_STACK
    assert re.search(r"^dev: invoked cross-account-s3-writer \(grant dev-writer\) .*'statusCode': 200", out, re.M)
    written = re.search(r"^prod: read s3://[^/]+/(\S+) back as the prod deployer: (\d+) bytes, the same bytes;",
                        out, re.M)
    assert written, out
    key, size = written.groups()
    assert re.search(rf"^analytics: cross-account-s3-reader \(grant analytics-reader\) read {re.escape(key)}: "
                     rf"{size} bytes, the same bytes$", out, re.M), out
    assert out.rstrip().splitlines()[-1].startswith("demo passed in ")
    assert not (demo.state_dir / "cloud.json").exists(), "the demo's cloud is gone, and so is the file that names it"


def test_demo_prints_who_may_do_what_per_grant(demo):
    section = demo.stdout[demo.stdout.index("Who may do what, per grant"):]
    blocks = dict(re.findall(r"^  grant (\S+) (.*?)(?=^  grant |^\S|\Z)", section, re.M | re.S))
    assert set(blocks) == set(GRANT_OF.values())
    dev, analytics = blocks["dev-writer"], blocks["analytics-reader"]
    assert dev.startswith("(write under incoming/, account 222222222222):")
    assert "prod role/cross-account-s3-dev-writer can be assumed by:" in dev
    assert "arn:aws:iam::222222222222:role/cross-account-s3-writer-lambda" in dev
    assert "arn:aws:iam::222222222222:user/dev-user" in dev
    assert 'Allow "s3:PutObject"' in dev and "s3:GetObject" not in dev
    assert "dev role/cross-account-s3-writer-lambda (the writer) may:" in dev
    assert analytics.startswith("(read under incoming/, account 333333333333):")
    assert "prod role/cross-account-s3-analytics-reader can be assumed by:" in analytics
    assert "arn:aws:iam::333333333333:role/cross-account-s3-reader-lambda" in analytics
    assert "arn:aws:iam::333333333333:user/analyst" in analytics
    assert 'Allow "s3:GetObject"' in analytics and "s3:PutObject" not in analytics
    assert "analytics role/cross-account-s3-reader-lambda (the reader) may:" in analytics
