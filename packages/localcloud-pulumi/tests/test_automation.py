"""localcloud_pulumi.automation: Automation-API tests, written as against pulumi.automation, run offline.

The module's cloud (conftest's ``workspace``) serves the tests through LOCALCLOUD_STATE_DIR, as `python -m localcloud
up` would; the in-process fallback runs in a process of its own (only one cloud per process)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from harness_testing.projects import DEV, PROD, TRUST_LAMBDA, roles, write_project
from localcloud_pulumi import automation as auto
from localcloud_pulumi.deploy import DEFAULT_ORGANIZATION, StackName, state_paths

CREDENTIAL_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE")


@pytest.fixture
def cloud(workspace, monkeypatch):
    """The module's cloud, found as a cloud served by another process is: by its state directory. No credentials
    from the developer's environment, so each stack deploys as its account's deployer."""
    monkeypatch.setenv("LOCALCLOUD_STATE_DIR", str(workspace.state_dir))
    for name in CREDENTIAL_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return workspace


def test_an_automation_api_integration_test_runs_offline(cloud, tmp_path):
    project = write_project(tmp_path / "app", (
        "import pulumi, pulumi_aws as aws\n"
        "config = pulumi.Config()\n"
        "bucket = aws.s3.Bucket('data', bucket=config.require('bucketName'))\n"
        f"role = aws.iam.Role('writer', name=config.require('roleName'), assume_role_policy='{TRUST_LAMBDA}')\n"
        f"aws.iam.Role('reader', name='auto-app-reader', assume_role_policy='{TRUST_LAMBDA}')\n"
        "pulumi.export('bucketName', bucket.bucket)\n"
        "pulumi.export('roleArn', role.arn)\n"), {}, name="auto-app")

    # --- as written against pulumi.automation ---
    stack = auto.create_or_select_stack("test", work_dir=str(project))
    stack.set_config("bucketName", auto.ConfigValue(value="auto-app-data"))
    stack.set_config("roleName", auto.ConfigValue(value="auto-app-writer"))
    lines: list[str] = []
    up = stack.up(on_output=lines.append)
    assert up.summary.result == "succeeded"
    assert up.summary.resource_changes == {"create": 4}  # three resources and the stack itself, as Pulumi counts
    assert up.outputs["bucketName"].value == "auto-app-data"
    assert stack.outputs()["roleArn"].value == f"arn:aws:iam::{PROD}:role/auto-app-writer"
    assert "    + create aws:s3/bucket:Bucket data" in lines and up.stdout == "\n".join(lines)

    s3, iam = cloud.cloud.client("s3", "prod"), cloud.cloud.client("iam", "prod")
    s3.head_bucket(Bucket="auto-app-data")
    assert iam.get_role(RoleName="auto-app-writer")["Role"]["Arn"] == stack.outputs()["roleArn"].value

    again = stack.up(expect_no_changes=True)
    assert again.summary.resource_changes == {"same": 4}

    destroyed = stack.destroy()
    assert destroyed.summary.resource_changes == {"delete": 4}
    stack.workspace.remove_stack("test")
    # --- end ---

    with pytest.raises(ClientError):
        s3.head_bucket(Bucket="auto-app-data")
    assert not {"auto-app-writer", "auto-app-reader"} & roles(cloud, "prod")
    assert stack.outputs() == {}


def test_a_secret_output_is_marked_secret(cloud, tmp_path):
    project = write_project(tmp_path / "secret", (
        "import pulumi\n"
        "config = pulumi.Config()\n"
        "pulumi.export('token', config.require_secret('token'))\n"
        "pulumi.export('plain', 'visible')\n"), {}, name="auto-secret")
    stack = auto.create_or_select_stack("test", work_dir=str(project))
    stack.set_config("token", auto.ConfigValue("s3cr3t", secret=True))
    try:
        up = stack.up()
        assert (up.outputs["token"].value, up.outputs["token"].secret) == ("s3cr3t", True)
        assert stack.outputs()["token"].secret is True and stack.outputs()["plain"].secret is False
        assert repr(stack.outputs()["token"]) == "[secret]"
        assert stack.get_config("token").secret is True
        assert stack.up(show_secrets=False).summary.config["auto-secret:token"].value == "[secret]"
    finally:
        stack.destroy(remove=True)


def test_preview_reports_creates_and_writes_nothing(cloud, tmp_path):
    project = write_project(tmp_path / "preview", "".join(
        f"import pulumi_aws as aws\naws.iam.Role('{name}', name='auto-preview-{name}', assume_role_policy="
        f"'{TRUST_LAMBDA}')\n" for name in ("a", "b")), {}, name="auto-preview")
    stack = auto.create_stack("test", work_dir=str(project))
    preview = stack.preview()
    assert preview.change_summary == {"create": 3}
    assert preview.change_summary.get(auto.OpType.CREATE) == 3
    assert "+ create aws:iam/role:Role a" in preview.stdout
    assert not {"auto-preview-a", "auto-preview-b"} & roles(cloud, "prod")
    name = StackName(DEFAULT_ORGANIZATION, "auto-preview", "test")
    assert not any(path.exists() for path in state_paths(cloud.state_dir, name))
    assert stack.outputs() == {}
    with pytest.raises(auto.CommandError, match="no changes were expected"):
        stack.preview(expect_no_changes=True)


def test_config_set_through_the_api_overrides_the_stack_file_for_this_stack_only(cloud, tmp_path):
    project = write_project(tmp_path / "config", (
        "import pulumi\n"
        "config = pulumi.Config()\n"
        "pulumi.export('greeting', config.require('greeting'))\n"
        "pulumi.export('kept', config.get('kept') or 'absent')\n"
        "pulumi.export('added', config.get('added'))\n"), {"greeting": "from the file", "kept": "yes"},
        name="auto-config")
    stack_file = project / "Pulumi.test.yaml"
    before = stack_file.read_bytes()
    stack = auto.select_stack("test", work_dir=str(project))  # a stack file makes the stack known
    stack.set_all_config({"greeting": auto.ConfigValue("from the API"), "auto-config:added": auto.ConfigValue("x")})
    stack.remove_config("kept")
    config = stack.get_all_config()
    assert {key: value.value for key, value in config.items() if key.startswith("auto-config:")} == {
        "auto-config:greeting": "from the API", "auto-config:added": "x"}
    assert config["aws:region"].value == "eu-west-1"
    with pytest.raises(auto.CommandError, match="configuration key 'auto-config:kept' not found"):
        stack.get_config("kept")
    try:
        outputs = stack.up().outputs
        assert {key: out.value for key, out in outputs.items()} == {
            "greeting": "from the API", "kept": "absent", "added": "x"}
        assert stack_file.read_bytes() == before
        assert auto.select_stack("test", work_dir=str(project)).get_config("greeting").value == "from the file"
    finally:
        stack.destroy()


def test_env_vars_choose_the_credentials_and_reach_the_program(cloud, tmp_path):
    project = write_project(tmp_path / "env", (
        "import os, pulumi, pulumi_aws as aws\n"
        "pulumi.export('account', aws.get_caller_identity_output().account_id)\n"
        "pulumi.export('greeting', os.environ['AUTO_GREETING'])\n"), {}, name="auto-env", account=None)
    keys = cloud.cloud.deployer_credentials("dev")
    opts = auto.LocalWorkspaceOptions(env_vars={"AWS_ACCESS_KEY_ID": keys["aws_access_key_id"],
                                                "AWS_SECRET_ACCESS_KEY": keys["aws_secret_access_key"],
                                                "AUTO_GREETING": "hello"})
    stack = auto.create_or_select_stack("test", work_dir=str(project), opts=opts)
    try:
        outputs = stack.up().outputs
        assert (outputs["account"].value, outputs["greeting"].value) == (DEV, "hello")
        assert "AUTO_GREETING" not in os.environ
    finally:
        stack.destroy()


def test_stacks_exist_as_pulumi_s_do(cloud, tmp_path):
    project = write_project(tmp_path / "exist", "import pulumi\npulumi.export('x', 1)\n", {}, name="auto-exist")
    with pytest.raises(auto.StackNotFoundError, match="no stack named 'staging' found"):
        auto.select_stack("staging", work_dir=str(project))
    assert issubclass(auto.StackNotFoundError, auto.CommandError)

    created = auto.create_stack("staging", work_dir=str(project))  # no stack file: it exists once created
    assert auto.select_stack("staging", work_dir=str(project)).name == "staging"
    with pytest.raises(auto.StackAlreadyExistsError):
        auto.create_stack("staging", work_dir=str(project))
    created.workspace.remove_stack("staging")
    with pytest.raises(auto.StackNotFoundError):
        auto.select_stack("staging", work_dir=str(project))

    stack = auto.create_or_select_stack("organization/auto-exist/test", work_dir=str(project))
    stack.up()
    try:
        with pytest.raises(auto.StackAlreadyExistsError, match="stack 'test' already exists"):
            auto.create_stack("test", work_dir=str(project))
        assert auto.select_stack("test", work_dir=str(project)).outputs()["x"].value == 1
    finally:
        stack.destroy()


def test_remove_stack_refuses_a_stack_with_resources_unless_forced(cloud, tmp_path):
    project = write_project(tmp_path / "remove", (
        f"import pulumi_aws as aws\naws.iam.Role('r', name='auto-remove', assume_role_policy='{TRUST_LAMBDA}')\n"),
        {}, name="auto-remove")
    stack = auto.create_or_select_stack("test", work_dir=str(project))
    stack.up()
    try:
        with pytest.raises(auto.CommandError, match="'test' still has resources; removal rejected"):
            stack.workspace.remove_stack("test")
        assert "auto-remove" in roles(cloud, "prod")
    finally:
        stack.destroy()
    stack.workspace.remove_stack("test")


def test_a_failing_deploy_is_a_command_error_naming_the_cause(cloud, tmp_path):
    project = write_project(tmp_path / "failing", "import pulumi_aws as aws\naws.sqs.Queue('queue')\n", {},
                            name="auto-failing")
    stack = auto.create_or_select_stack("test", work_dir=str(project))
    with pytest.raises(auto.CommandError, match=r"cannot deploy aws:sqs/queue:Queue \(resource 'queue'\)"):
        stack.up()


def test_unsupported_features_are_refused_by_name(cloud, tmp_path):
    project = write_project(tmp_path / "unsupported", "", {}, name="auto-unsupported")
    with pytest.raises(NotImplementedError, match=r"create_or_select_stack\(program=...\): inline programs"):
        auto.create_or_select_stack("test", project_name="inline", program=lambda: None)
    with pytest.raises(NotImplementedError, match=r"LocalWorkspaceOptions\(program=...\)"):
        auto.create_stack("test", work_dir=str(project), opts=auto.LocalWorkspaceOptions(program=lambda: None))
    with pytest.raises(NotImplementedError, match=r"LocalWorkspace\(secrets_provider=...\)"):
        auto.create_stack("test", work_dir=str(project),
                          opts=auto.LocalWorkspaceOptions(secrets_provider="passphrase"))
    stack = auto.create_or_select_stack("test", work_dir=str(project))
    for call, named in ((lambda: stack.refresh(), r"Stack\.refresh"),
                        (lambda: stack.history(), r"Stack\.history"),
                        (lambda: stack.workspace.list_stacks(), r"LocalWorkspace\.list_stacks"),
                        (lambda: stack.up(target=["urn:pulumi:test::auto-unsupported::x"]), r"Stack\.up\(target=...\)"),
                        (lambda: stack.preview(on_event=print), r"Stack\.preview\(on_event=...\)"),
                        (lambda: stack.destroy(exclude_protected=True), r"Stack\.destroy\(exclude_protected=...\)"),
                        (lambda: stack.set_config("a", auto.ConfigValue("b"), path=True),
                         r"set_all_config\(path=True\)")):
        with pytest.raises(auto.Unsupported, match=named):
            call()
    assert not hasattr(stack, "refresh")  # an AttributeError too, as for any missing attribute
    with pytest.raises(AttributeError, match="no attribute 'no_such_method'"):
        stack.no_such_method()
    with pytest.raises(TypeError, match="unexpected keyword argument 'yes'"):
        stack.up(yes=True)


def test_without_a_running_cloud_the_stack_s_accounts_are_needed_to_start_one(monkeypatch, tmp_path):
    monkeypatch.delenv("LOCALCLOUD_STATE_DIR", raising=False)
    project = write_project(tmp_path / "nocloud", "", {}, name="auto-nocloud", account=None)
    stack = auto.create_or_select_stack("test", work_dir=str(project))
    with pytest.raises(auto.CommandError, match="sets no aws:allowedAccountIds to start one with"):
        stack.preview()


IN_PROCESS_SCRIPT = """
import json, sys
from pathlib import Path
from localcloud.running import CloudFile
from localcloud.sdk import session
from localcloud_pulumi import automation as auto

first, second = Path(sys.argv[1]), Path(sys.argv[2])
stack = auto.create_or_select_stack("test", work_dir=str(first))
up = stack.up()
cloud = CloudFile.read(first / ".localcloud")  # the cloud this process started, for other processes to use
keys = cloud.deployers[cloud.accounts["test"]]
iam = session(region_name="eu-west-1", **keys).client("iam", endpoint_url=cloud.endpoint, verify=cloud.ca_bundle)
other = auto.create_or_select_stack("test", work_dir=str(second)).up()  # the same cloud, its state directory
print(json.dumps({"changes": up.summary.resource_changes, "accounts": cloud.accounts,
                  "arn": iam.get_role(RoleName="auto-in-process")["Role"]["Arn"],
                  "output": stack.outputs()["roleArn"].value, "other": other.outputs["roleArn"].value}))
"""


def test_without_a_running_cloud_one_is_started_in_process_and_stopped_at_exit(tmp_path):
    def project(name: str, role: str) -> Path:
        return write_project(tmp_path / name, (
            "import pulumi, pulumi_aws as aws\n"
            f"role = aws.iam.Role('r', name='{role}', assume_role_policy='{TRUST_LAMBDA}')\n"
            "pulumi.export('roleArn', role.arn)\n"), {}, name=name)

    first, second = project("auto-first", "auto-in-process"), project("auto-second", "auto-in-process-2")
    env = {key: value for key, value in os.environ.items()
           if key not in CREDENTIAL_VARIABLES and key != "LOCALCLOUD_STATE_DIR"}
    result = subprocess.run([sys.executable, "-c", IN_PROCESS_SCRIPT, str(first), str(second)], cwd=tmp_path,
                            env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.splitlines()[-1])
    assert report["accounts"] == {"test": PROD}  # one account per aws:allowedAccountIds, named as the stack
    assert report["changes"] == {"create": 2}
    assert report["arn"] == report["output"] == f"arn:aws:iam::{PROD}:role/auto-in-process"
    assert report["other"] == f"arn:aws:iam::{PROD}:role/auto-in-process-2"
    assert not (first / ".localcloud" / "cloud.json").exists()  # stopped at exit
    assert not (second / ".localcloud").exists()  # the second project deployed into the first's cloud
