"""A running localcloud for this project: the cloud, its Lambda runtime, both stacks, and AWS CLI profiles.

`up` and `demo` build one in-process. The state directory holds what other processes need to use it:
cloud.json (endpoint and deployer keys, for `localcloud deploy`), stacks/ORGANIZATION/PROJECT/STACK.json (each stack's
outputs), aws/config and aws/credentials (profiles prod, dev, dev-user, prod-writer) and env.sh.
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
from typing import Any

from localcloud.deploy import DeployError, Target, deploy
from localcloud.lambda_runtime import LambdaRuntime
from localcloud.principals import totp
from localcloud.program import PROJECT_DIR, StackOutput, stack_account_id, stack_config
from localcloud.server import LocalCloud

STACKS = ("prod", "dev")  # deploy order; destroy in reverse
DEV_USER_PROFILE = "dev-user"
WRITER_PROFILE = "prod-writer"


def accounts_from_stacks(project_dir: Path = PROJECT_DIR) -> dict[str, str]:
    """Each stack's account, from its aws:allowedAccountIds: the same files real deploys use."""
    return {stack: stack_account_id(stack, stack_config(stack, project_dir)) for stack in STACKS}


@dataclass
class Workspace:
    cloud: LocalCloud
    runtime: LambdaRuntime
    state_dir: Path
    project_dir: Path = PROJECT_DIR
    outputs: dict[str, dict[str, StackOutput]] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)

    @classmethod
    def start(cls, state_dir: Path, *, port: int = 0, http_port: int = 0,
              project_dir: Path = PROJECT_DIR, retry_backoff: bool = True) -> Workspace:
        """Start a fresh cloud (moto's state is in memory: earlier deploys are gone, so is their state).
        ``retry_backoff=False``: see LambdaRuntime."""
        began = time.perf_counter()
        state_dir = state_dir.resolve()
        for stale in ("state", "stacks", "aws"):
            shutil.rmtree(state_dir / stale, ignore_errors=True)
        region = stack_config("prod", project_dir).get("aws:region") or "us-east-1"
        runtime_box: list[LambdaRuntime] = []
        # pyrefly types this lambda's *args as the union of the Invoker's five parameter types, not as the tuple.
        cloud = LocalCloud(accounts_from_stacks(project_dir), region, state_dir,
                           invoker=lambda *args: runtime_box[0].invoke(*args))  # pyrefly: ignore[bad-argument-type]
        cloud.start(port=port, http_port=http_port)
        runtime = LambdaRuntime(cloud.endpoint, str(cloud.ca_bundle), state_dir / "logs", retry_backoff=retry_backoff)
        runtime_box.append(runtime)
        workspace = cls(cloud, runtime, state_dir, project_dir)
        workspace._write_cloud_file()
        workspace.timings["start"] = time.perf_counter() - began
        return workspace

    def stop(self) -> None:
        self.runtime.close()
        self.cloud.stop()
        (self.state_dir / "cloud.json").unlink(missing_ok=True)

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def target(self) -> Target:
        return target_of(self.cloud)

    def deploy(self, stack: str, config: Mapping[str, str] | None = None) -> list[str]:
        began = time.perf_counter()
        outputs, changes = deploy(stack, self.target, self.state_dir, project_dir=self.project_dir, config=config)
        self.outputs[stack] = outputs
        self.timings[f"deploy_{stack}"] = time.perf_counter() - began
        return changes

    def deploy_all(self) -> None:
        for stack in STACKS:
            self.deploy(stack)
        self.write_profiles()

    def output(self, stack: str, name: str) -> Any:
        return self.outputs[stack][name].value

    # --- AWS CLI profiles ---------------------------------------------------------------------------------------

    def write_profiles(self) -> Path:
        """aws/config, aws/credentials and env.sh, so `aws --profile prod-writer ...` works as documented."""
        aws_dir = self.state_dir / "aws"
        aws_dir.mkdir(parents=True, exist_ok=True)
        region = self.cloud.region
        credentials = {stack: self.cloud.deployer_credentials(stack) for stack in STACKS}
        credentials[DEV_USER_PROFILE] = self._dev_user_credentials()

        config = configparser.ConfigParser(interpolation=None)
        for profile in credentials:
            config[f"profile {profile}"] = {"region": region}
        writer = {"role_arn": self.output("prod", "roleArn"), "source_profile": DEV_USER_PROFILE,
                  "role_session_name": f"{DEV_USER_PROFILE}-cli", "region": self.output("prod", "region")}
        if "externalId" in self.outputs["prod"]:
            writer["external_id"] = self.output("prod", "externalId")
        config[f"profile {WRITER_PROFILE}"] = writer
        secrets = configparser.ConfigParser(interpolation=None)
        for profile, keys in credentials.items():
            secrets[profile] = keys
        _write_ini(aws_dir / "config", config)
        _write_ini(aws_dir / "credentials", secrets, private=True)

        env = {"AWS_CONFIG_FILE": aws_dir / "config", "AWS_SHARED_CREDENTIALS_FILE": aws_dir / "credentials",
               "AWS_ENDPOINT_URL": self.cloud.endpoint, "AWS_CA_BUNDLE": self.cloud.ca_bundle}
        lines = ["# Use the localcloud from a shell: . .localcloud/env.sh && aws --profile prod-writer s3 ls"]
        lines += [f"export {name}={shlex.quote(str(value))}" for name, value in env.items()]
        (self.state_dir / "env.sh").write_text("\n".join(lines) + "\n")
        return aws_dir

    def _dev_user_credentials(self) -> dict[str, str]:
        """Keys for the first member of the dev group; MFA-backed session credentials when prod requires MFA."""
        users = json.loads(stack_config("dev", self.project_dir).get("cross-account-s3:groupUsers", "[]"))
        if not users:
            raise DeployError("Pulumi.dev.yaml names no groupUsers: there is no dev user to write a profile for")
        user = users[0]
        iam = self.cloud.client("iam", "dev")
        key = iam.create_access_key(UserName=user)["AccessKey"]
        long_term = {"aws_access_key_id": key["AccessKeyId"], "aws_secret_access_key": key["SecretAccessKey"]}
        if not self.output("prod", "mfaRequired"):
            return long_term
        device = iam.create_virtual_mfa_device(VirtualMFADeviceName=user)["VirtualMFADevice"]
        seed = device["Base32StringSeed"]
        seed = seed.decode() if isinstance(seed, bytes) else seed
        now = time.time()
        iam.enable_mfa_device(UserName=user, SerialNumber=device["SerialNumber"],
                              AuthenticationCode1=totp(seed, now - 30), AuthenticationCode2=totp(seed, now))
        sts = self.cloud.client("sts", credentials=long_term)
        session = sts.get_session_token(SerialNumber=device["SerialNumber"], TokenCode=totp(seed, now),
                                        DurationSeconds=43200)["Credentials"]
        return {"aws_access_key_id": session["AccessKeyId"], "aws_secret_access_key": session["SecretAccessKey"],
                "aws_session_token": session["SessionToken"]}

    def _write_cloud_file(self) -> None:
        """What `python -m localcloud deploy` in another shell needs to reach this cloud."""
        path = self.state_dir / "cloud.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        data = {"endpoint": self.cloud.endpoint, "httpEndpoint": self.cloud.http_endpoint,
                "caBundle": str(self.cloud.ca_bundle), "pid": os.getpid(),
                "deployers": {self.cloud.account_id(name): self.cloud.deployer_credentials(name)
                              for name in self.cloud.accounts}}
        _write_private(path, json.dumps(data, indent=2))


def target_of(cloud: LocalCloud) -> Target:
    return Target(cloud.endpoint, str(cloud.ca_bundle), {
        cloud.account_id(name): (keys["aws_access_key_id"], keys["aws_secret_access_key"])
        for name, keys in ((n, cloud.deployer_credentials(n)) for n in cloud.accounts)})


def running_target(state_dir: Path) -> Target:
    """The Target of a localcloud that `up` serves from another process."""
    path = state_dir / "cloud.json"
    if not path.exists():
        raise DeployError(f"No localcloud is running for {state_dir}: start one with `python -m localcloud up`")
    data = json.loads(path.read_text())
    return Target(data["endpoint"], data["caBundle"], {
        account: (keys["aws_access_key_id"], keys["aws_secret_access_key"])
        for account, keys in data["deployers"].items()})


def _write_ini(path: Path, parser: configparser.ConfigParser, *, private: bool = False) -> None:
    with open(path, "w") as handle:
        parser.write(handle)
    if private:
        path.chmod(0o600)


def _write_private(path: Path, text: str) -> None:
    path.write_text(text)
    path.chmod(0o600)
