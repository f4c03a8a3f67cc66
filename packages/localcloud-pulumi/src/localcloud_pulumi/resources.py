"""The one table from Pulumi resource types to the boto3 calls that create, update and delete them.

Each entry receives the inputs exactly as the program declared them (camelCase, as the provider would) and
returns the outputs the provider would, so later resources and exports see real values. A type missing from
``RESOURCE_TYPES`` is refused by the driver with its name; nothing is faked. What an entry is made of is in
mapping.py; KMS's entries are in kms_resources.py, registered here.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from localcloud import arns
from localcloud_pulumi.assets import archive_zip, asset_bytes
from localcloud_pulumi.kms_resources import KMS_RESOURCE_TYPES
from localcloud_pulumi.mapping import Account, Inputs, Outputs, ResourceType, physical_name
from localcloud_pulumi.program import plain_number

# The input that carries a resource's explicit physical name, where it is not "name".
NAME_INPUTS = {"aws:s3/bucket:Bucket": "bucket", "aws:s3/bucketV2:BucketV2": "bucket"}


def name_input(typ: str) -> str:
    return NAME_INPUTS.get(typ, "name")


def _tags(inputs: Inputs) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in sorted((inputs.get("tags") or {}).items())]


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


# --- S3 -----------------------------------------------------------------------------------------------------

def create_bucket(account: Account, logical: str, inputs: Inputs) -> tuple[str, Outputs]:
    name = physical_name(logical, inputs, "bucket")
    s3 = account.client("s3")
    args: dict[str, Any] = {"Bucket": name}
    if account.region != "us-east-1":
        args["CreateBucketConfiguration"] = {"LocationConstraint": account.region}
    s3.create_bucket(**args)
    if inputs.get("tags"):
        s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": _tags(inputs)})
    return name, _bucket_outputs(account, name, inputs)


def _bucket_outputs(account: Account, name: str, inputs: Inputs) -> Outputs:
    """What the provider returns for s3.Bucket and its v6 name s3.BucketV2 (the same outputs; hostedZoneId and the
    website outputs are not computed). No provider default tags are applied, so tagsAll is the bucket's tags."""
    return {**inputs, "bucket": name, "arn": arns.s3(name), "region": account.region, "bucketRegion": account.region,
            "bucketDomainName": f"{name}.s3.amazonaws.com",
            "bucketRegionalDomainName": f"{name}.s3.{account.region}.amazonaws.com",
            "tagsAll": dict(inputs.get("tags") or {})}


def update_bucket(account: Account, name: str, old: Inputs, new: Inputs) -> Outputs:
    s3 = account.client("s3")
    if new.get("tags"):
        s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": _tags(new)})
    elif old.get("tags"):
        s3.delete_bucket_tagging(Bucket=name)
    return _bucket_outputs(account, name, new)


def delete_bucket(account: Account, name: str, inputs: Inputs) -> None:
    s3 = account.client("s3")
    if inputs.get("forceDestroy"):
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=name):
            doomed = [{"Key": v["Key"], "VersionId": v["VersionId"]}
                      for v in page.get("Versions", []) + page.get("DeleteMarkers", [])]
            if doomed:
                s3.delete_objects(Bucket=name, Delete={"Objects": doomed})
    s3.delete_bucket(Bucket=name)


def _bucket_setting(put: Callable[[Any, Inputs], None], remove: Callable[[Any, str], None],
                    *inputs: str, nested: Mapping[str, frozenset[str]] | None = None) -> ResourceType:
    """A bucket sub-resource: one Put call that is also its update, and one call that removes it."""

    def create(account: Account, logical: str, inputs: Inputs) -> tuple[str, Outputs]:
        put(account.client("s3"), inputs)
        return inputs["bucket"], dict(inputs)

    def update(account: Account, bucket: str, old: Inputs, new: Inputs) -> Outputs:
        put(account.client("s3"), new)
        return dict(new)

    def delete(account: Account, bucket: str, inputs: Inputs) -> None:
        remove(account.client("s3"), bucket)

    return ResourceType(create, delete, frozenset({"bucket", *inputs}), update, replace_on=("bucket",),
                        nested=nested or {})


def _put_public_access_block(s3: Any, inputs: Inputs) -> None:
    s3.put_public_access_block(Bucket=inputs["bucket"], PublicAccessBlockConfiguration={
        "BlockPublicAcls": bool(inputs.get("blockPublicAcls")),
        "IgnorePublicAcls": bool(inputs.get("ignorePublicAcls")),
        "BlockPublicPolicy": bool(inputs.get("blockPublicPolicy")),
        "RestrictPublicBuckets": bool(inputs.get("restrictPublicBuckets")),
    })


def _put_ownership_controls(s3: Any, inputs: Inputs) -> None:
    s3.put_bucket_ownership_controls(Bucket=inputs["bucket"], OwnershipControls={
        "Rules": [{"ObjectOwnership": inputs["rule"]["objectOwnership"]}]})


def _put_encryption(s3: Any, inputs: Inputs) -> None:
    rules = []
    for rule in inputs["rules"]:
        default = rule.get("applyServerSideEncryptionByDefault") or {}
        by_default = {"SSEAlgorithm": default["sseAlgorithm"]}
        if default.get("kmsMasterKeyId"):
            by_default["KMSMasterKeyID"] = default["kmsMasterKeyId"]
        rules.append({"ApplyServerSideEncryptionByDefault": by_default,
                      "BucketKeyEnabled": bool(rule.get("bucketKeyEnabled"))})
    s3.put_bucket_encryption(Bucket=inputs["bucket"], ServerSideEncryptionConfiguration={"Rules": rules})


def _put_versioning(s3: Any, inputs: Inputs) -> None:
    s3.put_bucket_versioning(Bucket=inputs["bucket"], VersioningConfiguration={
        "Status": inputs["versioningConfiguration"]["status"]})


def _suspend_versioning(s3: Any, bucket: str) -> None:
    # A versioned bucket can never return to unversioned; the provider suspends on delete too.
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})


def _put_bucket_policy(s3: Any, inputs: Inputs) -> None:
    s3.put_bucket_policy(Bucket=inputs["bucket"], Policy=inputs["policy"])


def _object_body(inputs: Inputs) -> bytes:
    import base64

    source = inputs.get("source")
    if source is not None:
        return asset_bytes(source, Path.cwd())
    if inputs.get("contentBase64") is not None:
        return base64.b64decode(inputs["contentBase64"])
    return str(inputs.get("content") or "").encode()


_OBJECT_HEADERS = {"contentType": "ContentType", "cacheControl": "CacheControl", "contentEncoding": "ContentEncoding",
                   "contentDisposition": "ContentDisposition", "contentLanguage": "ContentLanguage",
                   "serverSideEncryption": "ServerSideEncryption", "kmsKeyId": "SSEKMSKeyId",
                   "storageClass": "StorageClass"}


def put_bucket_object(account: Account, logical: str, inputs: Inputs) -> tuple[str, Outputs]:
    """s3.BucketObject / BucketObjectv2: one PutObject; its id is the key."""
    import urllib.parse

    args: dict[str, Any] = {"Bucket": inputs["bucket"], "Key": inputs["key"], "Body": _object_body(inputs),
                            **{api: inputs[name] for name, api in _OBJECT_HEADERS.items() if inputs.get(name)}}
    if inputs.get("metadata"):
        args["Metadata"] = dict(inputs["metadata"])
    if inputs.get("tags"):
        args["Tagging"] = urllib.parse.urlencode(sorted(inputs["tags"].items()))
    stored = account.client("s3").put_object(**args)
    return inputs["key"], {**inputs, "etag": stored["ETag"].strip('"'), "versionId": stored.get("VersionId") or ""}


def update_bucket_object(account: Account, key: str, old: Inputs, new: Inputs) -> Outputs:
    return put_bucket_object(account, key, new)[1]


def delete_bucket_object(account: Account, key: str, inputs: Inputs) -> None:
    account.client("s3").delete_object(Bucket=inputs["bucket"], Key=inputs["key"])


_BUCKET_OBJECT = ResourceType(
    put_bucket_object, delete_bucket_object,
    frozenset({"bucket", "key", "content", "contentBase64", "source", "metadata", "tags", *_OBJECT_HEADERS}),
    update_bucket_object, replace_on=("bucket", "key"))


# --- IAM ----------------------------------------------------------------------------------------------------

def create_role(account: Account, logical: str, inputs: Inputs) -> tuple[str, Outputs]:
    name = physical_name(logical, inputs)
    args: dict[str, Any] = {
        "RoleName": name,
        "Path": inputs.get("path") or "/",
        "AssumeRolePolicyDocument": inputs["assumeRolePolicy"],
        "MaxSessionDuration": _int(inputs.get("maxSessionDuration")) or 3600,
        "Tags": _tags(inputs),
    }
    if inputs.get("description"):
        args["Description"] = inputs["description"]
    if inputs.get("permissionsBoundary"):
        args["PermissionsBoundary"] = inputs["permissionsBoundary"]
    iam = account.client("iam")
    role = iam.create_role(**args)["Role"]
    if inputs.get("managedPolicyArns") is not None:
        try:
            _align_managed_policies(iam, name, inputs["managedPolicyArns"])
        except ClientError:
            # Nothing half-made stays behind: the driver records only what was created whole.
            _detach_managed_policies(iam, name)
            iam.delete_role(RoleName=name)
            raise
    return name, {**inputs, "name": name, "arn": role["Arn"], "uniqueId": role["RoleId"]}


def _attached_policies(iam: Any, role: str) -> list[str]:
    return [policy["PolicyArn"] for page in iam.get_paginator("list_attached_role_policies").paginate(RoleName=role)
            for policy in page["AttachedPolicies"]]


def _align_managed_policies(iam: Any, role: str, wanted: list[str]) -> None:
    """managed_policy_arns is exclusive (the provider's "Set of exclusive IAM managed policy ARNs"): the role's
    attached managed policies become exactly these, attaching the missing ones and detaching any other, however it
    was attached; an empty list detaches them all."""
    attached = _attached_policies(iam, role)
    for arn in dict.fromkeys(wanted):
        if arn not in attached:
            iam.attach_role_policy(RoleName=role, PolicyArn=arn)
    for arn in attached:
        if arn not in wanted:
            iam.detach_role_policy(RoleName=role, PolicyArn=arn)


def _detach_managed_policies(iam: Any, role: str) -> None:
    for arn in _attached_policies(iam, role):
        iam.detach_role_policy(RoleName=role, PolicyArn=arn)


def update_role(account: Account, name: str, old: Inputs, new: Inputs) -> Outputs:
    iam = account.client("iam")
    if old.get("assumeRolePolicy") != new.get("assumeRolePolicy"):
        iam.update_assume_role_policy(RoleName=name, PolicyDocument=new["assumeRolePolicy"])
    iam.update_role(RoleName=name, Description=new.get("description") or "",
                    MaxSessionDuration=_int(new.get("maxSessionDuration")) or 3600)
    if new.get("permissionsBoundary"):
        iam.put_role_permissions_boundary(RoleName=name, PermissionsBoundary=new["permissionsBoundary"])
    elif old.get("permissionsBoundary"):
        iam.delete_role_permissions_boundary(RoleName=name)
    removed = sorted(set(old.get("tags") or {}) - set(new.get("tags") or {}))
    if removed:
        iam.untag_role(RoleName=name, TagKeys=removed)
    if new.get("tags"):
        iam.tag_role(RoleName=name, Tags=_tags(new))
    # Not given (any more): the provider leaves the role's attachments as they are.
    if new.get("managedPolicyArns") is not None:
        _align_managed_policies(iam, name, new["managedPolicyArns"])
    role = iam.get_role(RoleName=name)["Role"]
    return {**new, "name": name, "arn": role["Arn"], "uniqueId": role["RoleId"]}


def delete_role(account: Account, name: str, inputs: Inputs) -> None:
    """A role that manages its policy attachments (managed_policy_arns not empty) has every managed policy detached
    first, as the provider does; IAM refuses to delete a role that still has any (DeleteConflict)."""
    iam = account.client("iam")
    if inputs.get("managedPolicyArns"):
        _detach_managed_policies(iam, name)
    iam.delete_role(RoleName=name)


def _inline_policy(kind: str) -> ResourceType:
    """RolePolicy / GroupPolicy / UserPolicy: one inline policy named on its owner; id `owner:name`."""
    owner_key = kind.lower()  # "role", "group", "user": the input naming the owner
    param = f"{kind}Name"

    def put(account: Account, inputs: Inputs, name: str) -> None:
        getattr(account.client("iam"), f"put_{owner_key}_policy")(
            **{param: inputs[owner_key], "PolicyName": name, "PolicyDocument": inputs["policy"]})

    def create(account: Account, logical: str, inputs: Inputs) -> tuple[str, Outputs]:
        name = physical_name(logical, inputs)
        put(account, inputs, name)
        return f"{inputs[owner_key]}:{name}", {**inputs, "name": name}

    def update(account: Account, id_: str, old: Inputs, new: Inputs) -> Outputs:
        name = id_.split(":", 1)[1]
        put(account, new, name)
        return {**new, "name": name}

    def delete(account: Account, id_: str, inputs: Inputs) -> None:
        owner, name = id_.split(":", 1)
        getattr(account.client("iam"), f"delete_{owner_key}_policy")(**{param: owner, "PolicyName": name})

    return ResourceType(create, delete, frozenset({owner_key, "name", "policy"}), update,
                        replace_on=(owner_key, "name"))


def create_group(account: Account, logical: str, inputs: Inputs) -> tuple[str, Outputs]:
    name = physical_name(logical, inputs)
    group = account.client("iam").create_group(GroupName=name, Path=inputs.get("path") or "/")["Group"]
    return name, {**inputs, "name": name, "arn": group["Arn"], "uniqueId": group["GroupId"]}


def delete_group(account: Account, name: str, inputs: Inputs) -> None:
    account.client("iam").delete_group(GroupName=name)


def create_user(account: Account, logical: str, inputs: Inputs) -> tuple[str, Outputs]:
    name = physical_name(logical, inputs)
    args: dict[str, Any] = {"UserName": name, "Path": inputs.get("path") or "/", "Tags": _tags(inputs)}
    if inputs.get("permissionsBoundary"):
        args["PermissionsBoundary"] = inputs["permissionsBoundary"]
    user = account.client("iam").create_user(**args)["User"]
    return name, {**inputs, "name": name, "arn": user["Arn"], "uniqueId": user["UserId"]}


def delete_user(account: Account, name: str, inputs: Inputs) -> None:
    iam = account.client("iam")
    if inputs.get("forceDestroy"):
        # What the provider's force_destroy removes: credentials added outside the program.
        for key in iam.list_access_keys(UserName=name)["AccessKeyMetadata"]:
            iam.delete_access_key(UserName=name, AccessKeyId=key["AccessKeyId"])
        for device in iam.list_mfa_devices(UserName=name)["MFADevices"]:
            iam.deactivate_mfa_device(UserName=name, SerialNumber=device["SerialNumber"])
    iam.delete_user(UserName=name)


def create_group_membership(account: Account, logical: str, inputs: Inputs) -> tuple[str, Outputs]:
    iam = account.client("iam")
    for user in inputs.get("users") or []:
        iam.add_user_to_group(GroupName=inputs["group"], UserName=user)
    name = physical_name(logical, inputs)
    return name, {**inputs, "name": name}


def update_group_membership(account: Account, id_: str, old: Inputs, new: Inputs) -> Outputs:
    iam = account.client("iam")
    before, after = set(old.get("users") or []), set(new.get("users") or [])
    for user in sorted(after - before):
        iam.add_user_to_group(GroupName=new["group"], UserName=user)
    for user in sorted(before - after):
        iam.remove_user_from_group(GroupName=new["group"], UserName=user)
    return {**new, "name": id_}


def delete_group_membership(account: Account, id_: str, inputs: Inputs) -> None:
    iam = account.client("iam")
    for user in inputs.get("users") or []:
        iam.remove_user_from_group(GroupName=inputs["group"], UserName=user)


def create_policy(account: Account, logical: str, inputs: Inputs) -> tuple[str, Outputs]:
    name = physical_name(logical, inputs)
    args: dict[str, Any] = {"PolicyName": name, "Path": inputs.get("path") or "/", "PolicyDocument": inputs["policy"],
                            "Tags": _tags(inputs)}
    if inputs.get("description"):
        args["Description"] = inputs["description"]
    policy = account.client("iam").create_policy(**args)["Policy"]
    return policy["Arn"], {**inputs, "name": name, "arn": policy["Arn"], "policyId": policy["PolicyId"]}


def update_policy(account: Account, arn: str, old: Inputs, new: Inputs) -> Outputs:
    """A changed document becomes the new default version; IAM keeps five, so the oldest other one goes."""
    iam = account.client("iam")
    versions = iam.list_policy_versions(PolicyArn=arn)["Versions"]
    if len(versions) >= 5:
        oldest = min((v for v in versions if not v["IsDefaultVersion"]), key=lambda v: v["CreateDate"])
        iam.delete_policy_version(PolicyArn=arn, VersionId=oldest["VersionId"])
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=new["policy"], SetAsDefault=True)
    policy = iam.get_policy(PolicyArn=arn)["Policy"]
    return {**new, "name": policy["PolicyName"], "arn": arn, "policyId": policy["PolicyId"]}


def delete_policy(account: Account, arn: str, inputs: Inputs) -> None:
    iam = account.client("iam")
    for version in iam.list_policy_versions(PolicyArn=arn)["Versions"]:
        if not version["IsDefaultVersion"]:
            iam.delete_policy_version(PolicyArn=arn, VersionId=version["VersionId"])
    iam.delete_policy(PolicyArn=arn)


def _policy_attachment(kind: str) -> ResourceType:
    """RolePolicyAttachment / UserPolicyAttachment / GroupPolicyAttachment: a managed policy attached to its owner;
    id ``owner/policyArn``. Any change replaces it, as the provider does."""
    owner_key = kind.lower()

    def create(account: Account, logical: str, inputs: Inputs) -> tuple[str, Outputs]:
        getattr(account.client("iam"), f"attach_{owner_key}_policy")(
            **{f"{kind}Name": inputs[owner_key], "PolicyArn": inputs["policyArn"]})
        return f"{inputs[owner_key]}/{inputs['policyArn']}", dict(inputs)

    def delete(account: Account, id_: str, inputs: Inputs) -> None:
        getattr(account.client("iam"), f"detach_{owner_key}_policy")(
            **{f"{kind}Name": inputs[owner_key], "PolicyArn": inputs["policyArn"]})

    return ResourceType(create, delete, frozenset({owner_key, "policyArn"}))


def create_access_key(account: Account, logical: str, inputs: Inputs) -> tuple[str, Outputs]:
    iam = account.client("iam")
    key = iam.create_access_key(UserName=inputs["user"])["AccessKey"]
    if (inputs.get("status") or "Active") != "Active":
        iam.update_access_key(UserName=inputs["user"], AccessKeyId=key["AccessKeyId"], Status=inputs["status"])
    return key["AccessKeyId"], {**inputs, "status": inputs.get("status") or "Active", "secret": key["SecretAccessKey"],
                                "createDate": str(key["CreateDate"])}


def update_access_key(account: Account, key_id: str, old: Inputs, new: Inputs) -> Outputs:
    account.client("iam").update_access_key(UserName=new["user"], AccessKeyId=key_id, Status=new.get("status") or "Active")
    return {**new, "status": new.get("status") or "Active"}  # the driver keeps the secret from the stored outputs


def delete_access_key(account: Account, key_id: str, inputs: Inputs) -> None:
    account.client("iam").delete_access_key(UserName=inputs["user"], AccessKeyId=key_id)


# Outputs the provider always marks secret (pulumi-aws's schema: "secret": true).
SECRET_OUTPUTS: dict[str, frozenset[str]] = {
    "aws:iam/accessKey:AccessKey": frozenset({"secret", "sesSmtpPasswordV4"}),
}


# --- CloudWatch Logs ----------------------------------------------------------------------------------------

def _log_group_arn(account: Account, name: str) -> str:
    return arns.log_group(account.region, account.account_id, name)


def create_log_group(account: Account, logical: str, inputs: Inputs) -> tuple[str, Outputs]:
    name = physical_name(logical, inputs)
    logs = account.client("logs")
    logs.create_log_group(logGroupName=name, tags=dict(inputs.get("tags") or {}))
    _set_retention(logs, name, inputs)
    return name, {**inputs, "name": name, "arn": _log_group_arn(account, name)}


def _set_retention(logs: Any, name: str, inputs: Inputs) -> None:
    if inputs.get("retentionInDays"):
        logs.put_retention_policy(logGroupName=name, retentionInDays=int(inputs["retentionInDays"]))
    else:
        logs.delete_retention_policy(logGroupName=name)


def update_log_group(account: Account, name: str, old: Inputs, new: Inputs) -> Outputs:
    _set_retention(account.client("logs"), name, new)
    return {**new, "name": name, "arn": _log_group_arn(account, name)}


def delete_log_group(account: Account, name: str, inputs: Inputs) -> None:
    account.client("logs").delete_log_group(logGroupName=name)


# --- Lambda permissions ---

def create_permission(account: Account, logical: str, inputs: Inputs) -> tuple[str, Outputs]:
    """lambda.Permission: one statement of the function's resource-based policy (lambda:AddPermission)."""
    statement_id = inputs.get("statementId") or f"{logical}-{secrets.token_hex(4)}"
    args: dict[str, Any] = {"FunctionName": inputs["function"], "StatementId": statement_id,
                            "Action": inputs["action"], "Principal": inputs["principal"]}
    for name, api in (("sourceArn", "SourceArn"), ("sourceAccount", "SourceAccount"), ("qualifier", "Qualifier"),
                      ("principalOrgId", "PrincipalOrgID")):
        if inputs.get(name):
            args[api] = inputs[name]
    account.client("lambda").add_permission(**args)
    return f"{inputs['function']}|{statement_id}", {**inputs, "statementId": statement_id}


def delete_permission(account: Account, id_: str, inputs: Inputs) -> None:
    function, statement_id = id_.split("|", 1)
    extra = {"Qualifier": inputs["qualifier"]} if inputs.get("qualifier") else {}
    account.client("lambda").remove_permission(FunctionName=function, StatementId=statement_id, **extra)


# --- Lambda -------------------------------------------------------------------------------------------------

def archive_bytes(archive: Any) -> bytes:
    """The zip the provider would upload (the driver runs the program from its project directory)."""
    return archive_zip(archive, Path.cwd())


def normalize(value: Any) -> Any:
    """Inputs as JSON, with code archives as the digest of their zip and assets as the digest of their bytes: what
    state stores and diffs compare."""
    import pulumi

    if isinstance(value, pulumi.Archive):
        return {"archiveSha256": hashlib.sha256(archive_bytes(value)).hexdigest()}
    if isinstance(value, (pulumi.FileAsset, pulumi.StringAsset)):
        return {"assetSha256": hashlib.sha256(_object_body({"source": value})).hexdigest()}
    if isinstance(value, Mapping):
        return {k: normalize(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [normalize(v) for v in value]
    if isinstance(value, float):
        return plain_number(value)
    return value


def _function_configuration(inputs: Inputs) -> dict[str, Any]:
    config: dict[str, Any] = {
        "Role": inputs["role"],
        "Handler": inputs["handler"],
        "Runtime": inputs["runtime"],
        "Timeout": _int(inputs.get("timeout")) or 3,
        "MemorySize": _int(inputs.get("memorySize")) or 128,
        "Environment": {"Variables": dict((inputs.get("environment") or {}).get("variables") or {})},
        "Description": inputs.get("description") or "",
    }
    logging_config = inputs.get("loggingConfig")
    if logging_config:
        config["LoggingConfig"] = {k: v for k, v in {
            "LogFormat": logging_config.get("logFormat"),
            "LogGroup": logging_config.get("logGroup"),
        }.items() if v}
    return config


def _function_outputs(account: Account, name: str, inputs: Inputs, function: Mapping[str, Any]) -> Outputs:
    arn = function["FunctionArn"]
    return {**inputs, "name": name, "arn": arn, "qualifiedArn": f"{arn}:$LATEST", "version": "$LATEST",
            "invokeArn": arns.lambda_invoke(account.region, arn),
            "sourceCodeHash": function.get("CodeSha256", "")}


def create_function(account: Account, logical: str, inputs: Inputs) -> tuple[str, Outputs]:
    name = physical_name(logical, inputs)
    function = account.client("lambda").create_function(
        FunctionName=name,
        Code={"ZipFile": archive_bytes(inputs["code"])},
        Architectures=list(inputs.get("architectures") or ["x86_64"]),
        Tags=dict(inputs.get("tags") or {}),
        **_function_configuration(inputs),
    )
    return name, _function_outputs(account, name, inputs, function)


def update_function(account: Account, name: str, old: Inputs, new: Inputs) -> Outputs:
    lam = account.client("lambda")
    configuration = _function_configuration(new)
    if new.get("runtime") == old.get("runtime"):
        # As the provider, the runtime only when it changed: after a runtime's "Block function update" date Lambda
        # refuses a configuration update that names it, not one that leaves it out (lambda-runtimes.html).
        del configuration["Runtime"]
    function = lam.update_function_configuration(FunctionName=name, **configuration)
    if normalize(new)["code"] != normalize(old)["code"]:
        function = lam.update_function_code(FunctionName=name, ZipFile=archive_bytes(new["code"]))
    removed = sorted(set(old.get("tags") or {}) - set(new.get("tags") or {}))
    if removed:
        lam.untag_resource(Resource=function["FunctionArn"], TagKeys=removed)
    if new.get("tags"):
        lam.tag_resource(Resource=function["FunctionArn"], Tags=dict(new["tags"]))
    return _function_outputs(account, name, new, function)


def delete_function(account: Account, name: str, inputs: Inputs) -> None:
    account.client("lambda").delete_function(FunctionName=name)


_BUCKET = ResourceType(create_bucket, delete_bucket, frozenset({"bucket", "tags", "forceDestroy"}), update_bucket,
                       replace_on=("bucket",))
_ENCRYPTION = _bucket_setting(_put_encryption, lambda s3, b: s3.delete_bucket_encryption(Bucket=b), "rules",
                              nested={"rules": frozenset({"applyServerSideEncryptionByDefault", "bucketKeyEnabled"})})
_VERSIONING = _bucket_setting(_put_versioning, _suspend_versioning, "versioningConfiguration",
                              nested={"versioningConfiguration": frozenset({"status"})})

RESOURCE_TYPES: dict[str, ResourceType] = {
    "aws:s3/bucket:Bucket": _BUCKET,
    # pulumi-aws v7 still accepts v6's names (s3.BucketV2 and the V2 settings): the same inputs as the v7 types in
    # their typed args, so the same mappings.
    "aws:s3/bucketV2:BucketV2": _BUCKET,
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": _bucket_setting(
        _put_public_access_block, lambda s3, b: s3.delete_public_access_block(Bucket=b),
        "blockPublicAcls", "ignorePublicAcls", "blockPublicPolicy", "restrictPublicBuckets"),
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": _bucket_setting(
        _put_ownership_controls, lambda s3, b: s3.delete_bucket_ownership_controls(Bucket=b), "rule",
        nested={"rule": frozenset({"objectOwnership"})}),
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": _ENCRYPTION,
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2": _ENCRYPTION,
    "aws:s3/bucketVersioning:BucketVersioning": _VERSIONING,
    "aws:s3/bucketVersioningV2:BucketVersioningV2": _VERSIONING,
    "aws:s3/bucketPolicy:BucketPolicy": _bucket_setting(
        _put_bucket_policy, lambda s3, b: s3.delete_bucket_policy(Bucket=b), "policy"),
    "aws:s3/bucketObject:BucketObject": _BUCKET_OBJECT,
    "aws:s3/bucketObjectv2:BucketObjectv2": _BUCKET_OBJECT,
    "aws:iam/role:Role": ResourceType(
        create_role, delete_role, frozenset({"name", "path", "assumeRolePolicy", "maxSessionDuration", "tags",
                                             "description", "permissionsBoundary", "managedPolicyArns"}),
        update_role, replace_on=("name", "path")),
    "aws:iam/rolePolicy:RolePolicy": _inline_policy("Role"),
    "aws:iam/group:Group": ResourceType(create_group, delete_group, frozenset({"name", "path"}),
                                        replace_on=("name", "path")),
    "aws:iam/groupPolicy:GroupPolicy": _inline_policy("Group"),
    "aws:iam/user:User": ResourceType(
        create_user, delete_user, frozenset({"name", "path", "tags", "permissionsBoundary", "forceDestroy"}),
        replace_on=("name", "path", "tags", "permissionsBoundary")),
    "aws:iam/userPolicy:UserPolicy": _inline_policy("User"),
    "aws:iam/policy:Policy": ResourceType(
        create_policy, delete_policy, frozenset({"name", "path", "policy", "description", "tags"}), update_policy,
        replace_on=("name", "path", "description", "tags")),
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": _policy_attachment("Role"),
    "aws:iam/userPolicyAttachment:UserPolicyAttachment": _policy_attachment("User"),
    "aws:iam/groupPolicyAttachment:GroupPolicyAttachment": _policy_attachment("Group"),
    "aws:iam/accessKey:AccessKey": ResourceType(create_access_key, delete_access_key, frozenset({"user", "status"}),
                                                update_access_key, replace_on=("user",)),
    "aws:iam/groupMembership:GroupMembership": ResourceType(
        create_group_membership, delete_group_membership, frozenset({"group", "users", "name"}),
        update_group_membership, replace_on=("group",)),
    "aws:cloudwatch/logGroup:LogGroup": ResourceType(
        create_log_group, delete_log_group, frozenset({"name", "tags", "retentionInDays"}), update_log_group,
        replace_on=("name", "tags")),
    "aws:lambda/permission:Permission": ResourceType(
        create_permission, delete_permission,
        frozenset({"function", "action", "principal", "statementId", "sourceArn", "sourceAccount", "qualifier",
                   "principalOrgId"})),
    "aws:lambda/function:Function": ResourceType(
        create_function, delete_function,
        frozenset({"name", "code", "role", "handler", "runtime", "timeout", "memorySize", "environment",
                   "description", "loggingConfig", "architectures", "tags"}),
        update_function, replace_on=("name", "architectures"),
        nested={"loggingConfig": frozenset({"logFormat", "logGroup"}), "environment": frozenset({"variables"})}),
    **KMS_RESOURCE_TYPES,
}


def is_missing(error: ClientError) -> bool:
    """A delete of something already gone is a successful delete."""
    return error.response.get("Error", {}).get("Code") in {
        "NoSuchEntity", "NoSuchBucket", "ResourceNotFoundException", "NoSuchBucketPolicy",
        "ServerSideEncryptionConfigurationNotFoundError", "NoSuchPublicAccessBlockConfiguration",
        "OwnershipControlsNotFoundError"}

