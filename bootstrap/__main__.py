"""cross-account-s3-bootstrap: what GitHub Actions needs in one account, created once with admin credentials.

Per account, one stack named after the project stack it serves: prod (the data account) or a consumer (dev,
analytics, ...; any other name, as in the main program). Each gets GitHub's OIDC provider, and one role per
workflow, each trusting only GitHub tokens for this repository and one kind of run:

    preview      pull requests             read-only, scoped to the project's resources  (.github/workflows/preview.yml)
    deploy       environment <stack>       writes the project's resources, nothing else  (.github/workflows/deploy.yml)
    integration  environment integration   a consumer: invoke its function; prod: objects under the prefix
                                                                                    (.github/workflows/integration.yml)

The exports are the repository variables the workflows read (docs/ci.md).
"""

import sys
from pathlib import Path

# The project's pure policy helpers (components/policies.py) live one directory up.
_REPO = str(Path(__file__).resolve().parent.parent)
if _REPO not in sys.path:
    sys.path.insert(0, _REPO)

import pulumi  # noqa: E402
import pulumi_aws as aws  # noqa: E402

from bootstrap import policies, settings  # noqa: E402
from components.policies import PolicyDocument  # noqa: E402

config = settings.load()
ci = config.ci
tags = dict(ci.tags) or None
repo = ci.github_repo

if ci.existing_oidc_provider_arn:
    # An account has at most one provider per URL; reuse the one that is there.
    provider_arn: pulumi.Input[str] = ci.existing_oidc_provider_arn
else:
    provider = aws.iam.OpenIdConnectProvider(
        "github",
        url=policies.GITHUB_OIDC_URL,
        client_id_lists=[policies.STS_AUDIENCE],
        # No thumbprint_lists: optional in pulumi-aws 7, and for GitHub IAM trusts its own library of root CAs.
        tags=tags,
    )
    provider_arn = provider.arn


def ci_role(purpose: str, subject: str, permissions: PolicyDocument, description: str) -> aws.iam.Role:
    role = aws.iam.Role(
        purpose,
        name=ci.ci_role_name(purpose),
        path=ci.ci_role_path,
        description=description,
        assume_role_policy=pulumi.Output.from_input(provider_arn).apply(
            lambda arn: policies.github_trust_policy(arn, subject).to_json()
        ),
        max_session_duration=3600,
        tags=tags,
    )
    aws.iam.RolePolicy(f"{purpose}-permissions", name="permissions", role=role.id, policy=permissions.to_json())
    return role


state = policies.StateBackend(ci.state_bucket, ci.state_kms_key_arn) if ci.state_bucket else None
pull_requests = policies.pull_request_subject(repo)
deploys = policies.environment_subject(repo, ci.deploy_environment)
integration_runs = policies.environment_subject(repo, ci.integration_environment)

if isinstance(config, settings.ProdBootstrap):
    scope = policies.ProdScope(ci.account_id, ci.name_prefix, config.bucket, config.key_prefix)
    preview = ci_role("preview", pull_requests, policies.prod_preview_policy(scope, state),
                      f"pulumi preview of {repo} ({ci.stack}), from pull requests: read-only")
    deploy = ci_role("deploy", deploys, policies.prod_deploy_policy(scope, ci.ci_role_path, state),
                     f"pulumi up of {repo} ({ci.stack}), from the {ci.deploy_environment} environment")
    integration = ci_role("integration", integration_runs, policies.integration_reader_policy(scope, state),
                          f"live tests of {repo}: objects under {config.key_prefix} in the prod bucket")
else:
    # A consumer account: dev (the writer), analytics (the reader), or any further one.
    consumer = policies.ConsumerScope(ci.account_id, ci.region, ci.name_prefix, config.function_name,
                                      config.execution_role_name, config.user_names)
    preview = ci_role("preview", pull_requests, policies.consumer_preview_policy(consumer, state),
                      f"pulumi preview of {repo} ({ci.stack}), from pull requests: read-only")
    deploy = ci_role("deploy", deploys, policies.consumer_deploy_policy(consumer, ci.ci_role_path, state),
                     f"pulumi up of {repo} ({ci.stack}), from the {ci.deploy_environment} environment")
    integration = ci_role("integration", integration_runs, policies.integration_invoker_policy(consumer),
                          f"live tests of {repo}: invoke {config.function_name}")

pulumi.export("oidcProviderArn", provider_arn)
pulumi.export("previewRoleArn", preview.arn)
pulumi.export("deployRoleArn", deploy.arn)
pulumi.export("integrationRoleArn", integration.arn)
# Paste into Settings > Secrets and variables > Actions > Variables (docs/ci.md): <STACK>_<PURPOSE>_ROLE_ARN.
pulumi.export("githubVariables", {
    ci.variable("preview"): preview.arn,
    ci.variable("deploy"): deploy.arn,
    ci.variable("integration"): integration.arn,
})
