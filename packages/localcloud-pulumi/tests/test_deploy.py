"""The deploy driver: small Pulumi programs of the tests' own under the mock runtime, into an emulated account."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from harness_testing.projects import TRUST_LAMBDA, roles, write_project
from localcloud_pulumi.deploy import DeployError, deploy, destroy


def test_a_resource_type_without_a_mapping_is_refused_by_name(workspace, state_dir, tmp_path):
    project = write_project(tmp_path / "project", (
        "import pulumi_aws as aws\n"
        "aws.iam.Role('kept', name='driver-unsupported-kept', assume_role_policy='{\"Version\": \"2012-10-17\", "
        "\"Statement\": [{\"Effect\": \"Allow\", \"Principal\": {\"Service\": \"lambda.amazonaws.com\"}, "
        "\"Action\": \"sts:AssumeRole\"}]}')\n"
        "aws.sqs.Queue('queue')\n"), {})
    with pytest.raises(DeployError, match=r"cannot deploy aws:sqs/queue:Queue \(resource 'queue'\)"):
        deploy("test", workspace.target, state_dir, project_dir=project)
    assert "driver-unsupported-kept" not in roles(workspace, "prod")  # the preview stopped it before any write


def test_an_input_the_driver_does_not_apply_is_refused_by_name_not_dropped(workspace, state_dir, tmp_path):
    project = write_project(tmp_path / "project", (
        "import pulumi_aws as aws\n"
        f"aws.iam.Role('kept', name='driver-input-kept', assume_role_policy='{TRUST_LAMBDA}')\n"
        f"aws.iam.Role('inline', name='driver-input-inline', assume_role_policy='{TRUST_LAMBDA}',\n"
        "             inline_policies=[aws.iam.RoleInlinePolicyArgs(name='read', policy='{}')])\n"), {})
    with pytest.raises(DeployError, match=r"aws:iam/role:Role 'inline': input inlinePolicies is not supported "
                                          r"by localcloud"):
        deploy("test", workspace.target, state_dir, project_dir=project)
    assert not {"driver-input-kept", "driver-input-inline"} & roles(workspace, "prod")


def test_a_key_of_an_object_input_the_driver_does_not_apply_is_refused_by_name():
    from localcloud_pulumi.resources import RESOURCE_TYPES

    function = RESOURCE_TYPES["aws:lambda/function:Function"]
    assert function.unsupported({"name": "f", "loggingConfig": {"logFormat": "JSON", "systemLogLevel": "WARN"},
                                 "layers": ["arn:aws:lambda:eu-west-1:1:layer:x:1"], "timeout": None}) == [
        "layers", "loggingConfig.systemLogLevel"]


def test_a_role_s_changed_tags_are_applied_in_place(workspace, state_dir, tmp_path):
    main = ("import pulumi_aws as aws\n"
            f"aws.iam.Role('tagged', name='driver-tagged', assume_role_policy='{TRUST_LAMBDA}', tags=TAGS)\n")
    project = write_project(tmp_path / "project", main.replace("TAGS", "{'team': 'a', 'old': 'x'}"), {})
    deploy("test", workspace.target, state_dir, project_dir=project)
    (project / "__main__.py").write_text(main.replace("TAGS", "{'team': 'b'}"))
    try:
        assert deploy("test", workspace.target, state_dir, project_dir=project)[1] == [
            "~ update aws:iam/role:Role tagged"]
        tags = workspace.cloud.client("iam", "prod").list_role_tags(RoleName="driver-tagged")["Tags"]
        assert tags == [{"Key": "team", "Value": "b"}]
    finally:
        destroy("test", workspace.target, state_dir, project_dir=project)


def test_two_projects_with_the_same_stack_name_never_touch_each_other(workspace, state_dir, tmp_path):
    """State is keyed by organization/project/stack, as Pulumi's backends key it."""
    def project(name: str) -> Path:
        return write_project(tmp_path / name, (
            "import pulumi, pulumi_aws as aws\n"
            f"role = aws.iam.Role('role', name='{name}-role', assume_role_policy='{TRUST_LAMBDA}')\n"
            "pulumi.export('roleName', role.name)\n"), {}, name=name)

    first, second = project("driver-first"), project("driver-second")
    deploy("test", workspace.target, state_dir, project_dir=first)
    deploy("test", workspace.target, state_dir, project_dir=second)
    try:
        assert destroy("test", workspace.target, state_dir, project_dir=first) == ["- delete aws:iam/role:Role role"]
        assert "driver-second-role" in roles(workspace, "prod") and "driver-first-role" not in roles(workspace, "prod")
    finally:
        destroy("test", workspace.target, state_dir, project_dir=second)


def test_a_stack_reference_names_another_project_s_stack_by_its_full_name(workspace, state_dir, tmp_path):
    producer = write_project(tmp_path / "producer", (
        "import pulumi\npulumi.export('greeting', 'from the producer')\n"), {}, name="driver-producer")
    consumer = write_project(tmp_path / "consumer", (
        "import pulumi\n"
        "ref = pulumi.StackReference('organization/driver-producer/test')\n"
        "pulumi.export('heard', ref.get_output('greeting'))\n"), {}, name="driver-consumer")
    with pytest.raises(DeployError, match=r"'organization/driver-producer/test' .* is not deployed \(python -m "
                                          r"localcloud deploy -s test -C <the directory of project driver-producer>\)"):
        deploy("test", workspace.target, state_dir, project_dir=consumer)
    deploy("test", workspace.target, state_dir, project_dir=producer)
    outputs, _ = deploy("test", workspace.target, state_dir, project_dir=consumer)
    assert outputs["heard"].value == "from the producer"


def test_invokes_and_explicit_providers_are_answered_from_the_emulated_cloud(workspace, state_dir, tmp_path):
    # An explicit provider that assumes a role in the dev account: what it creates lands there.
    dev = workspace.cloud.client("iam", "dev")
    dev.create_role(RoleName="driver-deployer", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                "Principal": {"AWS": "arn:aws:iam::111111111111:root"}}]}))
    dev.put_role_policy(RoleName="driver-deployer", PolicyName="admin", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
    project = write_project(tmp_path / "project", (
        "import pulumi, pulumi_aws as aws\n"
        "dev = aws.Provider('dev', region='eu-west-1', assume_roles=[aws.ProviderAssumeRoleArgs(\n"
        "    role_arn='arn:aws:iam::222222222222:role/driver-deployer', session_name='driver-test')])\n"
        "group = aws.iam.Group('group', name='driver-provider-group', opts=pulumi.ResourceOptions(provider=dev))\n"
        "pulumi.export('account', aws.get_caller_identity_output().account_id)\n"
        "pulumi.export('devAccount', aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(provider=dev))"
        ".account_id)\n"
        "pulumi.export('groupArn', group.arn)\n"), {})
    outputs, _ = deploy("test", workspace.target, state_dir, project_dir=project)
    assert outputs["account"].value == "111111111111"
    assert outputs["devAccount"].value == "222222222222"
    assert outputs["groupArn"].value == "arn:aws:iam::222222222222:group/driver-provider-group"
    destroy("test", workspace.target, state_dir, project_dir=project)
    with pytest.raises(ClientError):
        dev.get_group(GroupName="driver-provider-group")


def test_a_resource_passed_as_an_input_arrives_as_its_id(workspace, state_dir, tmp_path):
    """As Pulumi's engine sends a provider that takes no resource references: the resource's ID."""
    project = write_project(tmp_path / "project", (
        "import pulumi, pulumi_aws as aws\n"
        f"role = aws.iam.Role('role', name='driver-ref-role', assume_role_policy='{TRUST_LAMBDA}')\n"
        "aws.iam.RolePolicy('policy', role=role, policy='{\"Version\": \"2012-10-17\", \"Statement\": "
        "[{\"Effect\": \"Allow\", \"Action\": \"s3:ListAllMyBuckets\", \"Resource\": \"*\"}]}')\n"), {})
    try:
        deploy("test", workspace.target, state_dir, project_dir=project)
        assert workspace.cloud.client("iam", "prod").list_role_policies(RoleName="driver-ref-role")["PolicyNames"]
    finally:
        destroy("test", workspace.target, state_dir, project_dir=project)


def test_a_helper_module_that_declares_resources_declares_them_in_every_run(workspace, state_dir, tmp_path):
    """The preview and the deploy each run the program; a helper imported by the first must run again."""
    project = write_project(tmp_path / "project", "import pulumi\nimport infra\n"
                            "pulumi.export('roleName', infra.role.name)\n", {})
    (project / "infra.py").write_text(
        "import pulumi_aws as aws\n"
        f"role = aws.iam.Role('helper-role', name='driver-helper-role', assume_role_policy='{TRUST_LAMBDA}')\n")
    try:
        outputs, changes = deploy("test", workspace.target, state_dir, project_dir=project)
        assert changes == ["+ create aws:iam/role:Role helper-role"]
        assert outputs["roleName"].value == "driver-helper-role" and "driver-helper-role" in roles(workspace, "prod")
    finally:
        destroy("test", workspace.target, state_dir, project_dir=project)


def test_a_provider_given_as_a_snake_case_dict_assumes_its_role_with_every_setting(workspace, state_dir, tmp_path):
    """pulumi-aws accepts assume_roles=[{"role_arn": ...}] as well as typed args; the driver passes external_id,
    duration, tags and the rest to sts:AssumeRole, and a trust that refuses them is a deploy error."""
    dev = workspace.cloud.client("iam", "dev")
    for role, principal in (("driver-dict-deployer", "arn:aws:iam::111111111111:root"),
                            ("driver-dict-refusing", "arn:aws:iam::333333333333:root")):
        dev.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Action": ["sts:AssumeRole", "sts:TagSession"], "Principal": {"AWS": principal},
                "Condition": {"StringEquals": {"sts:ExternalId": "driver-42", "aws:RequestTag/team": "platform"}}}]}))
        dev.put_role_policy(RoleName=role, PolicyName="admin", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))

    def program(role: str, group: str) -> str:
        return ("import pulumi, pulumi_aws as aws\n"
                "dev = aws.Provider('dev', region='eu-west-1', assume_roles=[{\n"
                f"    'role_arn': 'arn:aws:iam::222222222222:role/{role}', 'session_name': 'driver',\n"
                "    'external_id': 'driver-42', 'duration': '15m', 'tags': {'team': 'platform'}}])\n"
                f"aws.iam.Group('group', name='{group}', opts=pulumi.ResourceOptions(provider=dev))\n")

    allowed = write_project(tmp_path / "allowed", program("driver-dict-deployer", "driver-dict-group"), {})
    refused = write_project(tmp_path / "refused", program("driver-dict-refusing", "driver-dict-refused"), {},
                            name="driver-refused")
    try:
        deploy("test", workspace.target, state_dir, project_dir=allowed)
        assert dev.get_group(GroupName="driver-dict-group")["Group"]["Arn"].startswith("arn:aws:iam::222222222222:")
        with pytest.raises(DeployError, match=r"provider 'dev' cannot assume arn:aws:iam::222222222222:role/"
                                              r"driver-dict-refusing: .*AccessDenied"):
            deploy("test", workspace.target, state_dir, project_dir=refused)
        with pytest.raises(ClientError):
            dev.get_group(GroupName="driver-dict-refused")
    finally:
        destroy("test", workspace.target, state_dir, project_dir=allowed)


def test_secret_inputs_and_additional_secret_outputs_stay_secret(workspace, state_dir, tmp_path):
    """As the engine keeps them: an output is secret when its input was, or when additional_secret_outputs says."""
    project = write_project(tmp_path / "project", (
        "import pulumi, pulumi_aws as aws\n"
        f"role = aws.iam.Role('role', name='driver-secret-role', assume_role_policy='{TRUST_LAMBDA}',\n"
        "                    description=pulumi.Output.secret('the description'),\n"
        "                    opts=pulumi.ResourceOptions(additional_secret_outputs=['uniqueId']))\n"
        "pulumi.export('description', role.description)\n"
        "pulumi.export('uniqueId', role.unique_id)\n"
        "pulumi.export('arn', role.arn)\n"), {})
    try:
        outputs, _ = deploy("test", workspace.target, state_dir, project_dir=project)
        assert (outputs["description"].secret, outputs["uniqueId"].secret, outputs["arn"].secret) == (True, True, False)
        stored = json.loads((state_dir / "stacks" / "organization" / "driver-test" / "test.json").read_text())
        assert stored["secretOutputNames"] == ["description", "uniqueId"]
    finally:
        destroy("test", workspace.target, state_dir, project_dir=project)


def test_a_remote_component_is_refused_by_name(workspace, state_dir, tmp_path):
    project = write_project(tmp_path / "project", (
        "import pulumi, pulumi_aws as aws\n"
        f"aws.iam.Role('kept', name='driver-remote-kept', assume_role_policy='{TRUST_LAMBDA}')\n"
        "pulumi.ComponentResource('awsx:ec2:Vpc', 'vpc', {}, None, remote=True)\n"), {})
    with pytest.raises(DeployError, match=r"cannot deploy the remote \(multi-language\) component awsx:ec2:Vpc 'vpc'"):
        deploy("test", workspace.target, state_dir, project_dir=project)
    assert "driver-remote-kept" not in roles(workspace, "prod")


def test_managed_policies_attachments_and_access_keys(workspace, state_dir, tmp_path):
    """The IAM types programs commonly declare: a customer managed policy attached to a role, a user with an access
    key whose secret stays a secret, as the provider marks it."""
    program = (
        "import pulumi, pulumi_aws as aws\n"
        f"role = aws.iam.Role('role', name='driver-attach-role', assume_role_policy='{TRUST_LAMBDA}')\n"
        "policy = aws.iam.Policy('policy', name='driver-read', policy='{\"Version\": \"2012-10-17\", \"Statement\": "
        "[{\"Effect\": \"Allow\", \"Action\": \"ACTION\", \"Resource\": \"*\"}]}')\n"
        "aws.iam.RolePolicyAttachment('attach', role=role.name, policy_arn=policy.arn)\n"
        "user = aws.iam.User('user', name='driver-key-user')\n"
        "key = aws.iam.AccessKey('key', user=user.name)\n"
        "pulumi.export('keyId', key.id)\n"
        "pulumi.export('secret', key.secret)\n")
    project = write_project(tmp_path / "project", program.replace("ACTION", "s3:GetObject"), {})
    iam = workspace.cloud.client("iam", "prod")
    try:
        outputs, _ = deploy("test", workspace.target, state_dir, project_dir=project)
        attached = iam.list_attached_role_policies(RoleName="driver-attach-role")["AttachedPolicies"]
        assert [p["PolicyName"] for p in attached] == ["driver-read"]
        assert outputs["secret"].secret and not outputs["keyId"].secret and len(outputs["secret"].value) == 40
        assert [k["AccessKeyId"] for k in iam.list_access_keys(UserName="driver-key-user")["AccessKeyMetadata"]] == [
            outputs["keyId"].value]

        (project / "__main__.py").write_text(program.replace("ACTION", "s3:ListBucket"))
        again, changes = deploy("test", workspace.target, state_dir, project_dir=project)
        assert changes == ["~ update aws:iam/policy:Policy policy"] and again["secret"].value == outputs["secret"].value
        document = iam.get_policy_version(PolicyArn=attached[0]["PolicyArn"], VersionId="v2")["PolicyVersion"]
        assert "s3:ListBucket" in json.dumps(document["Document"])
    finally:
        destroy("test", workspace.target, state_dir, project_dir=project)
    assert "driver-attach-role" not in roles(workspace, "prod")


def test_a_trust_policy_from_get_policy_document_is_computed_locally(workspace, state_dir, tmp_path):
    project = write_project(tmp_path / "project", (
        "import pulumi_aws as aws\n"
        "trust = aws.iam.get_policy_document_output(statements=[aws.iam.GetPolicyDocumentStatementArgs(\n"
        "    actions=['sts:AssumeRole'], principals=[aws.iam.GetPolicyDocumentStatementPrincipalArgs(\n"
        "        type='Service', identifiers=['lambda.amazonaws.com'])])])\n"
        "aws.iam.Role('role', name='driver-document-role', assume_role_policy=trust.json)\n"), {})
    try:
        deploy("test", workspace.target, state_dir, project_dir=project)
        role = workspace.cloud.client("iam", "prod").get_role(RoleName="driver-document-role")["Role"]
        document = role["AssumeRolePolicyDocument"]
        document = json.loads(document) if isinstance(document, str) else document
        assert document["Statement"][0]["Principal"] == {"Service": "lambda.amazonaws.com"}
    finally:
        destroy("test", workspace.target, state_dir, project_dir=project)


def test_bucket_objects_are_uploaded_from_content_and_assets(workspace, state_dir, tmp_path):
    (tmp_path / "page.html").write_text("<h1>hello</h1>")
    main = (
        "import pulumi, pulumi_aws as aws\n"
        "bucket = aws.s3.Bucket('site', bucket='driver-objects-bucket', force_destroy=True)\n"
        "aws.s3.BucketObjectv2('index', bucket=bucket.bucket, key='index.html', content_type='text/html',\n"
        f"                      source=pulumi.FileAsset({str(tmp_path / 'page.html')!r}))\n"
        "aws.s3.BucketObject('note', bucket=bucket.bucket, key='note.txt', content='NOTE')\n")
    project = write_project(tmp_path / "project", main, {})
    s3 = workspace.cloud.client("s3", "prod")
    try:
        deploy("test", workspace.target, state_dir, project_dir=project)
        index = s3.get_object(Bucket="driver-objects-bucket", Key="index.html")
        assert (index["Body"].read(), index["ContentType"]) == (b"<h1>hello</h1>", "text/html")
        assert s3.get_object(Bucket="driver-objects-bucket", Key="note.txt")["Body"].read() == b"NOTE"
        assert deploy("test", workspace.target, state_dir, project_dir=project)[1] == []
        (project / "__main__.py").write_text(main.replace("content='NOTE'", "content='NOTE 2'"))
        assert deploy("test", workspace.target, state_dir, project_dir=project)[1] == [
            "~ update aws:s3/bucketObject:BucketObject note"]
        assert s3.get_object(Bucket="driver-objects-bucket", Key="note.txt")["Body"].read() == b"NOTE 2"
    finally:
        destroy("test", workspace.target, state_dir, project_dir=project)


def test_stack_output_prints_the_outputs_as_pulumi_does(workspace, state_dir, tmp_path, capsys):
    """`python -m localcloud stack output -s STACK -C DIR --json [--show-secrets]`: a flat JSON object."""
    from localcloud import cli

    project = write_project(tmp_path / "project", (
        "import pulumi\n"
        "pulumi.export('plain', 'visible')\n"
        "pulumi.export('token', pulumi.Output.secret('hidden'))\n"), {})
    command = ["--state-dir", str(state_dir), "stack", "output", "-s", "test", "-C", str(project), "--json"]
    assert cli.main(command) == 2
    assert "has no outputs: deploy it first" in capsys.readouterr().err
    deploy("test", workspace.target, state_dir, project_dir=project)

    assert cli.main(command) == 0
    assert json.loads(capsys.readouterr().out) == {"plain": "visible", "token": "[secret]"}
    assert cli.main([*command, "--show-secrets"]) == 0
    assert json.loads(capsys.readouterr().out) == {"plain": "visible", "token": "hidden"}
    assert cli.main(["--state-dir", str(state_dir), "stack", "output", "-s", "nope", "-C", str(project)]) == 2
    assert "has no stack 'nope'" in capsys.readouterr().err


def test_lambda_code_that_cannot_be_packaged_is_a_deploy_error_naming_the_resource(workspace, state_dir, tmp_path):
    project = write_project(tmp_path / "project", (
        "import pulumi, pulumi_aws as aws\n"
        f"role = aws.iam.Role('role', name='driver-code-role', assume_role_policy='{TRUST_LAMBDA}')\n"
        "aws.lambda_.Function('fn', role=role.arn, runtime='python3.12', handler='h.h',\n"
        "                     code=pulumi.FileArchive('missing.whl'))\n"), {})
    with pytest.raises(DeployError, match=r"aws:lambda/function:Function 'fn': .*missing\.whl"):
        deploy("test", workspace.target, state_dir, project_dir=project)
    assert "driver-code-role" not in roles(workspace, "prod")


def test_a_lambda_permission_lets_another_account_invoke_the_function(workspace, state_dir, tmp_path):
    """lambda.Permission adds a statement to the function's resource-based policy, which the gate evaluates:
    dev may invoke prod's function only through it (access-control-resource-based.html)."""
    program = (
        "import pulumi, pulumi_aws as aws\n"
        f"role = aws.iam.Role('role', name='driver-permission-role', assume_role_policy='{TRUST_LAMBDA}')\n"
        "code = pulumi.AssetArchive({'handler.py': pulumi.StringAsset('def handler(event, context):\\n'\n"
        "                                                           '    return {\"hello\": \"dev\"}\\n')})\n"
        "for name in ('shared', 'private'):\n"
        "    fn = aws.lambda_.Function(name, name=f'driver-{name}', role=role.arn, runtime='python3.12',\n"
        "                              handler='handler.handler', code=code)\n"
        "    if name == 'shared':\n"
        "        aws.lambda_.Permission('dev-may-invoke', function=fn.name, action='lambda:InvokeFunction',\n"
        "                               principal='222222222222')\n")
    project = write_project(tmp_path / "project", program, {})
    dev = workspace.cloud.client("lambda", "dev")
    try:
        deploy("test", workspace.target, state_dir, project_dir=project)
        answer = dev.invoke(FunctionName="arn:aws:lambda:eu-west-1:111111111111:function:driver-shared")
        assert json.loads(answer["Payload"].read()) == {"hello": "dev"}
        with pytest.raises(ClientError) as raised:
            dev.invoke(FunctionName="arn:aws:lambda:eu-west-1:111111111111:function:driver-private")
        assert raised.value.response["Error"]["Code"] == "AccessDeniedException"
    finally:
        destroy("test", workspace.target, state_dir, project_dir=project)
