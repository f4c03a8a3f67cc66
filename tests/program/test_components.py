"""Each component on its own: children parented to it, named from its name, outputs registered."""

from pathlib import Path

import pulumi

from components.assume_group import AssumeGroup, AssumeGroupArgs
from components.hardened_bucket import HardenedBucket, HardenedBucketArgs
from components.writer_function import WriterFunction, WriterFunctionArgs
from components.writer_role import WriterRole, WriterRoleArgs
from tests.project import run_pulumi
from tests.program.conftest import FakeCloud

ROLE_ARN = "arn:aws:iam::111111111111:role/w"


def run_component(build, account="111111111111") -> tuple[FakeCloud, dict]:
    cloud = FakeCloud(account)

    def body():
        component = build()
        pulumi.export("component", component)

    exports = run_pulumi(body, "prod", cloud, config={})
    return cloud, exports


def test_two_hardened_buckets_do_not_collide():
    def build():
        HardenedBucket("a", HardenedBucketArgs())
        return HardenedBucket("b", HardenedBucketArgs())

    cloud, _ = run_component(build)
    urns = [(r.typ, r.name) for r in cloud.resources]
    assert len(urns) == len(set(urns))
    assert {name for _, name in urns if name.startswith("b")} >= {"b", "b-public-access", "b-encryption", "b-versioning",
                                                         "b-ownership", "b-tls-only"}


def test_writer_role_alone_builds_trust_and_permission_from_its_args():
    args = WriterRoleArgs(role_name="w", dev_account_id="222222222222", trusted_role_names=("fn-role",),
                          trusted_user_names=(), bucket_name="bkt", key_prefix="in/", require_mfa=False)
    cloud, _ = run_component(lambda: WriterRole("x", args))
    trust = cloud.one("aws:iam/role:Role").policy("assumeRolePolicy")
    assert [s["Sid"] for s in trust["Statement"]] == ["DevWorkloadsAssume"]
    permission = cloud.one("aws:iam/rolePolicy:RolePolicy").policy()
    assert permission["Statement"][0]["Resource"] == "arn:aws:s3:::bkt/in/*"
    assert args.trusted_principal_arns == ("arn:aws:iam::222222222222:role/fn-role",)


def test_writer_function_alone_assumes_only_its_target(project_dir: Path):
    args = WriterFunctionArgs(function_name="f", execution_role_name="f-role", code_dir=project_dir / "lambda_handler",
                              target_role_arn=ROLE_ARN, target_bucket="bkt", target_key_prefix="in/",
                              target_region="eu-west-1")
    cloud, _ = run_component(lambda: WriterFunction("w", args), account="222222222222")
    statement = cloud.one("aws:iam/rolePolicy:RolePolicy", "w-assume-prod-role").policy()["Statement"][0]
    assert statement["Resource"] == ROLE_ARN
    assert {r.name for r in cloud.resources} == {"w", "w-logs", "w-execution-role", "w-assume-prod-role",
                                                 "w-write-logs", "w-function"}


def test_assume_group_without_users_creates_no_membership():
    args = AssumeGroupArgs(group_name="g", user_names=(), target_role_arn=ROLE_ARN, require_mfa=False)
    cloud, _ = run_component(lambda: AssumeGroup("h", args), account="222222222222")
    assert cloud.of_type("aws:iam/groupMembership:GroupMembership") == []
    assert cloud.one("aws:iam/groupPolicy:GroupPolicy").policy()["Statement"][0]["Resource"] == ROLE_ARN
