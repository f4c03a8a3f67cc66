"""python -m offline as a user runs it: `up` serves until a signal, and its profiles work from a shell."""

from __future__ import annotations

import configparser
import os
import signal
import subprocess
import sys
from pathlib import Path

import boto3
import pytest

from offline.stacks import PROJECT_DIR

READY = "localcloud ready on https://127.0.0.1:"


def localcloud(*args: str) -> list[str]:
    return [sys.executable, "-m", "offline", *args]


def env_sh_variables(path: Path) -> dict[str, str]:
    lines = [line[len("export "):] for line in path.read_text().splitlines() if line.startswith("export ")]
    return {name: value.strip("'") for name, _, value in (line.partition("=") for line in lines)}


def test_up_serves_until_sigterm_and_its_profiles_work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    state_dir = tmp_path / "state"
    process = subprocess.Popen(localcloud("--state-dir", str(state_dir), "up"), cwd=PROJECT_DIR,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert process.stdout is not None  # stdout=PIPE
        first_line = process.stdout.readline()  # blocks until both stacks are deployed, or EOF on failure
        assert first_line.startswith(READY), first_line + process.stdout.read()

        for name, value in env_sh_variables(state_dir / "env.sh").items():
            monkeypatch.setenv(name, value)
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
            monkeypatch.delenv(name, raising=False)
        outputs = configparser.ConfigParser()
        outputs.read(state_dir / "aws" / "config")
        assert {"profile prod", "profile dev", "profile dev-user", "profile prod-writer"} <= set(outputs.sections())
        writer = boto3.Session(profile_name="prod-writer").client("sts").get_caller_identity()
        assert ":assumed-role/cross-account-s3-writer/" in writer["Arn"]
        assert (state_dir / "stacks" / "organization" / "cross-account-s3" / "prod.json").exists() and (state_dir / "stacks" / "organization" / "cross-account-s3" / "dev.json").exists()

        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
        assert "localcloud stopping" in process.stdout.read()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_demo_deploys_invokes_and_verifies_the_object_then_exits_0(tmp_path: Path):
    result = subprocess.run(localcloud("--state-dir", str(tmp_path), "demo"), cwd=PROJECT_DIR,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "deployed prod: " in result.stdout and "deployed dev: " in result.stdout
    assert "back as the prod deployer: " in result.stdout and ", the same bytes;" in result.stdout
    assert "prod role/cross-account-s3-writer can be assumed by:" in result.stdout
    assert result.stdout.rstrip().splitlines()[-1].startswith("demo passed in ")
    assert not (tmp_path / "cloud.json").exists(), "the demo's cloud is gone, and so is the file that names it"
