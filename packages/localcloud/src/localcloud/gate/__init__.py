"""The gate: localcloud's front door, which authenticates, reads, authorizes and only then lets moto execute.

See ``localcloud.gate.app`` for the handler chain; ``reading`` for the one reading of a request; ``invariant`` for
the check that moto executed what was authorized; ``errors`` for the one error renderer.
"""

from localcloud.gate.app import OPERATIONS, Gate, Invoker, Operation, WSGIApp
from localcloud.gate.errors import error_response
from localcloud.gate.exchange import Exchange, GateDecision

__all__ = ["OPERATIONS", "Exchange", "Gate", "GateDecision", "Invoker", "Operation", "WSGIApp", "error_response"]
