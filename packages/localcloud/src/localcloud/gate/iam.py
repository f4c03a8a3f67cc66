"""IAM requests as moto must see them: AWS managed policies present where they are named, and inputs moto would
ignore refused.

AWS managed policies exist in every account; localcloud loads them into an account lazily
(moto_adapter.load_aws_managed_policies), so before moto executes a request that names one (AttachRolePolicy's
PolicyArn, CreateRole's PermissionsBoundary, GetPolicy, ...) or lists them (ListPolicies), the policies it names
or lists are put in the caller's account.

GetAccountAuthorizationDetails is left to moto, which lists the AWS managed policies the account holds: those its
requests have named. AWS's API reference does not say which AWS managed policies it returns, and listing all of
them would put ~1,400 policy documents into every snapshot of an account.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from werkzeug.wrappers import Response

from localcloud import moto_adapter
from localcloud.gate.errors import GateError

if TYPE_CHECKING:
    from localcloud.gate.app import Gate
    from localcloud.gate.exchange import Exchange

# Every IAM input that holds a managed policy's ARN (the IAM API reference's PolicyArn and PermissionsBoundary).
_POLICY_ARN_INPUTS = ("PolicyArn", "PermissionsBoundary")


def refuse_ignored_inputs(gate: Gate, ex: Exchange) -> Response | None:
    """moto's CreateUser drops PermissionsBoundary and it has no PutUserPermissionsBoundary: a user created with a
    boundary would be evaluated without it, so the request is refused rather than answered as if it applied."""
    assert ex.plan is not None
    if ex.plan.operation == "CreateUser" and "PermissionsBoundary" in ex.plan.params:
        raise GateError(400, "InvalidInput", "localcloud does not emulate permissions boundaries of users (moto "
                        "ignores CreateUser's PermissionsBoundary): create the user without one, or give the "
                        "boundary to a role.")
    return None


def load_named_aws_policies(gate: Gate, ex: Exchange) -> Response | None:
    assert ex.plan is not None and ex.principal is not None
    account = ex.principal.caller.account or ""
    params = ex.plan.params
    if ex.plan.operation == "ListPolicies" and params.get("Scope", "All") in ("All", "AWS"):
        moto_adapter.load_aws_managed_policies(account)
        return None
    named = [str(params[name]) for name in _POLICY_ARN_INPUTS if name in params]
    named = [arn for arn in named if moto_adapter.is_aws_managed_policy(arn)]
    if named:
        moto_adapter.load_aws_managed_policies(account, named)
    return None

