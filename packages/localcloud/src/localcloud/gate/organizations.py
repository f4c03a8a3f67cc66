"""AWS Organizations as far as localcloud emulates it: DescribeOrganization, answered from the cloud's organization
(localcloud.organizations) after the gate authorized it like any request; every other operation refused by name.

moto has an Organizations backend of its own, but it knows nothing of the organization the cloud was given: its
answers (another organization ID, or one created by CreateOrganization that no condition key reflects) would
contradict the aws:PrincipalOrgID the gate puts in every member's requests. So nothing of Organizations reaches it.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from werkzeug.wrappers import Response

from localcloud.gate.errors import GateError

if TYPE_CHECKING:
    from localcloud.gate.app import Gate
    from localcloud.gate.exchange import Exchange

EMULATED = frozenset({"DescribeOrganization"})
# AWS's answer to a caller whose account is in no organization (botocore's organizations model:
# AWSOrganizationsNotInUseException, a 400 of the JSON protocol).
NOT_IN_USE_CODE = "AWSOrganizationsNotInUseException"
NOT_IN_USE_MESSAGE = "Your account is not a member of an organization."


def check_emulated(gate: Gate, ex: Exchange) -> Response | None:
    """Before authorization, as S3's unemulated operations are refused: nothing else of Organizations is
    emulated, and moto must not answer for an organization it does not know."""
    assert ex.plan is not None
    if ex.plan.operation not in EMULATED:
        raise GateError(501, "NotImplemented", f"localcloud does not emulate Organizations {ex.plan.operation}: of "
                        f"AWS Organizations it answers only {', '.join(sorted(EMULATED))}, from the organization "
                        "the cloud was started with.", sender=False)
    return None


def describe_organization(gate: Gate, ex: Exchange) -> Response:
    """The caller's organization (API_DescribeOrganization.html), or AWSOrganizationsNotInUseException for an
    account outside it."""
    assert ex.principal is not None
    organization = gate.organization
    if organization is None or not organization.is_member(ex.principal.caller.account):
        raise GateError(400, NOT_IN_USE_CODE, NOT_IN_USE_MESSAGE)
    body = json.dumps({"Organization": organization.describe()})
    return Response(body.encode(), status=200, headers={"Content-Type": "application/x-amz-json-1.1",
                                                        "x-amzn-RequestId": ex.request_id})
