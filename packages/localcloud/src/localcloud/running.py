"""A localcloud serving from this process, and the files that let other processes use it.

The state directory holds cloud.json (endpoint, CA bundle, each account's deployer keys and the organization, if
any: what a deploy from another shell needs) and, once profiles are written, aws/config, aws/credentials and env.sh
for the AWS CLI.
"""

from __future__ import annotations

import configparser
import json
import os
import shlex
import shutil
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from localcloud.lambda_runtime import LambdaRuntime
from localcloud.organizations import Organization
from localcloud.server import LocalCloud, LocalCloudError

CLOUD_FILE = "cloud.json"
STALE_DIRECTORIES = ("state", "stacks", "aws")  # what a cloud that is gone leaves behind (moto's state was in memory)


@dataclass
class RunningCloud:
    """The cloud and its Lambda runtime, started together and stopped together."""

    cloud: LocalCloud
    runtime: LambdaRuntime
    state_dir: Path
    timings: dict[str, float] = field(default_factory=dict)

    @classmethod
    def start(cls, accounts: Mapping[str, str], region: str, state_dir: Path, *, port: int = 0, http_port: int = 0,
              retry_backoff: bool = True, organization: Organization | None = None) -> RunningCloud:
        """A fresh cloud: moto's state is in memory, so what an earlier cloud deployed is gone, and so is the state
        the state directory kept of it. ``retry_backoff=False``: see LambdaRuntime. ``organization``: see
        LocalCloud (default: none, every account stands alone)."""
        began = time.perf_counter()
        state_dir = state_dir.resolve()
        for stale in STALE_DIRECTORIES:
            shutil.rmtree(state_dir / stale, ignore_errors=True)
        runtime_box: list[LambdaRuntime] = []
        # pyrefly types this lambda's *args as the union of the Invoker's five parameter types, not as the tuple.
        cloud = LocalCloud(accounts, region, state_dir, organization=organization,
                           invoker=lambda *args: runtime_box[0].invoke(*args))  # pyrefly: ignore[bad-argument-type]
        cloud.start(port=port, http_port=http_port)
        # The registry: the runtime records each execution-role session's function (lambda:SourceFunctionArn).
        runtime = LambdaRuntime(cloud.endpoint, str(cloud.ca_bundle), state_dir / "logs", retry_backoff=retry_backoff,
                                registry=cloud.registry)
        runtime_box.append(runtime)
        running = cls(cloud, runtime, state_dir)
        CloudFile.of(cloud).write(state_dir)
        running.timings["start"] = time.perf_counter() - began
        return running

    def stop(self) -> None:
        self.runtime.close()
        self.cloud.stop()
        (self.state_dir / CLOUD_FILE).unlink(missing_ok=True)

    def __enter__(self) -> RunningCloud:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


@dataclass(frozen=True)
class CloudFile:
    """How another process reaches a running cloud: its endpoints, CA bundle, every account's deployer keys, and
    the organization its accounts are in, if any."""

    endpoint: str
    http_endpoint: str
    ca_bundle: str
    accounts: dict[str, str]  # account name -> account ID
    deployers: dict[str, dict[str, str]]  # account ID -> aws_access_key_id, aws_secret_access_key
    organization: Organization | None = None

    @classmethod
    def of(cls, cloud: LocalCloud) -> CloudFile:
        return cls(cloud.endpoint, cloud.http_endpoint, str(cloud.ca_bundle), dict(cloud.accounts),
                   {cloud.account_id(name): cloud.deployer_credentials(name) for name in cloud.accounts},
                   cloud.organization)

    @classmethod
    def read(cls, state_dir: Path) -> CloudFile:
        path = state_dir / CLOUD_FILE
        if not path.exists():
            raise LocalCloudError(f"No localcloud is running for {state_dir}: start one with `python -m localcloud "
                                  "up` (or `serve`, which deploys nothing)")
        data = json.loads(path.read_text())
        organization = Organization.from_dict(data["organization"]) if data.get("organization") else None
        return cls(data["endpoint"], data["httpEndpoint"], data["caBundle"], data["accounts"], data["deployers"],
                   organization)

    def write(self, state_dir: Path) -> None:
        data = {"endpoint": self.endpoint, "httpEndpoint": self.http_endpoint, "caBundle": self.ca_bundle,
                "pid": os.getpid(), "accounts": self.accounts, "deployers": self.deployers,
                "organization": self.organization.to_dict() if self.organization is not None else None}
        _write_private(state_dir / CLOUD_FILE, json.dumps(data, indent=2))


@dataclass(frozen=True)
class Profile:
    """One AWS CLI profile: its config (region, role_arn, source_profile, ...) and its keys, if it has its own."""

    name: str
    config: Mapping[str, str]
    credentials: Mapping[str, str] | None = None


def deployer_profiles(cloud: LocalCloud) -> list[Profile]:
    """A profile per account, named as the account, with its deployer's keys."""
    return [Profile(name, {"region": cloud.region}, cloud.deployer_credentials(name)) for name in cloud.accounts]


def write_profiles(state_dir: Path, cloud: LocalCloud, profiles: list[Profile]) -> Path:
    """aws/config, aws/credentials (private) and env.sh, so `aws --profile NAME ...` reaches this cloud."""
    aws_dir = state_dir / "aws"
    aws_dir.mkdir(parents=True, exist_ok=True)
    config = configparser.ConfigParser(interpolation=None)
    secrets = configparser.ConfigParser(interpolation=None)
    for profile in profiles:
        config[f"profile {profile.name}"] = dict(profile.config)
        if profile.credentials is not None:
            secrets[profile.name] = dict(profile.credentials)
    _write_ini(aws_dir / "config", config)
    _write_ini(aws_dir / "credentials", secrets, private=True)
    env = {"AWS_CONFIG_FILE": aws_dir / "config", "AWS_SHARED_CREDENTIALS_FILE": aws_dir / "credentials",
           "AWS_ENDPOINT_URL": cloud.endpoint, "AWS_CA_BUNDLE": cloud.ca_bundle}
    lines = [f"# Use the localcloud from a shell: . {state_dir / 'env.sh'} && aws --profile {profiles[0].name} "
             "sts get-caller-identity"]
    lines += [f"export {name}={shlex.quote(str(value))}" for name, value in env.items()]
    (state_dir / "env.sh").write_text("\n".join(lines) + "\n")
    return aws_dir


def _write_ini(path: Path, parser: configparser.ConfigParser, *, private: bool = False) -> None:
    with open(path, "w") as handle:
        parser.write(handle)
    if private:
        path.chmod(0o600)


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(0o600)
