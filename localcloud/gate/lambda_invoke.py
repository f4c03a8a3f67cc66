"""Lambda Invoke, answered by localcloud's invoker (moto's own needs Docker)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from werkzeug.wrappers import Response

from localcloud.actions import lambda_target
from localcloud.gate.errors import GateError

if TYPE_CHECKING:
    from localcloud.gate.app import Gate
    from localcloud.gate.exchange import Exchange


def invoke(gate: Gate, ex: Exchange) -> Response:
    assert ex.plan is not None and ex.signed is not None and ex.principal is not None and ex.request is not None
    params = ex.plan.params
    target = lambda_target(str(params.get("FunctionName", "")), params.get("Qualifier"), ex.signed.region,
                           ex.principal.caller.account or "")
    if not gate.directory.lambda_function_exists(target.account, target.region, target.name, target.qualifier):
        raise GateError(404, "ResourceNotFoundException", f"Function not found: {target.arn}")
    if gate.invoker is None:
        raise GateError(501, "ServiceException", "localcloud has no Lambda invoker: pass invoker=... to Gate (or "
                        "LocalCloud) to run functions; moto's own Invoke needs Docker", sender=False)
    headers = dict(ex.request.headers)
    if target.qualifier:
        headers.setdefault("x-localcloud-qualifier", target.qualifier)
    try:
        status, response_headers, body = gate.invoker(target.account, target.region, target.name, ex.request.body,
                                                      headers)
    except Exception as error:  # noqa: BLE001 - the invoker's failure is the service's failure
        gate.log.exception("Lambda invoker failed for %s", target.arn)
        raise GateError(500, "ServiceException", f"localcloud Lambda invoker failed: {error}", sender=False) from None
    response = Response(body, status=status, headers=list(response_headers))
    response.headers.setdefault("x-amzn-RequestId", ex.request_id)
    return response


def not_emulated(gate: Gate, ex: Exchange) -> Response:
    assert ex.plan is not None
    raise GateError(501, "ServiceException", f"localcloud does not emulate Lambda {ex.plan.operation}; call Invoke "
                    "(InvocationType Event for async)", sender=False)
