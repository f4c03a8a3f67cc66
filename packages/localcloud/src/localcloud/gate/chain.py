"""The handler chain the gate runs every request through (on the lines of LocalStack's ``aws/chain.py``).

Request handlers run in order; each returns None to let the request continue, or a Response that answers it.
A handler that refuses raises a ``GateError``; exception handlers turn any exception into a Response (the first
that returns one wins). Response handlers then see every response, whichever handler produced it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from werkzeug.wrappers import Response

if TYPE_CHECKING:
    from localcloud.gate.app import Gate
    from localcloud.gate.exchange import Exchange

RequestHandler = Callable[["Gate", "Exchange"], "Response | None"]
ResponseHandler = Callable[["Gate", "Exchange", Response], Response]
ExceptionHandler = Callable[["Gate", "Exchange", Exception], "Response | None"]


class HandlerChain:
    def __init__(self, request_handlers: list[RequestHandler], response_handlers: list[ResponseHandler],
                 exception_handlers: list[ExceptionHandler]) -> None:
        self.request_handlers = request_handlers
        self.response_handlers = response_handlers
        self.exception_handlers = exception_handlers

    def handle(self, gate: Gate, ex: Exchange, *, start_after: RequestHandler | None = None) -> Response:
        """Run the request handlers (those after ``start_after`` only, if given), then the response handlers."""
        handlers = list(self.request_handlers)
        if start_after is not None:
            handlers = handlers[handlers.index(start_after) + 1:]
        try:
            response = self._first_answer(gate, ex, handlers)
        except Exception as error:  # noqa: BLE001 - every failure becomes an answer; none lets a request through
            response = self._on_error(gate, ex, error)
        for handler in list(self.response_handlers):
            response = handler(gate, ex, response)
        return response

    @staticmethod
    def _first_answer(gate: Gate, ex: Exchange, handlers: list[RequestHandler]) -> Response:
        for handler in handlers:
            response = handler(gate, ex)
            if response is not None:
                return response
        raise RuntimeError("no request handler answered: the gate's last handler must answer every request")

    def _on_error(self, gate: Gate, ex: Exchange, error: Exception) -> Response:
        for handler in list(self.exception_handlers):
            response = handler(gate, ex, error)
            if response is not None:
                return response
        raise error


def index_of(handlers: list[RequestHandler], name: str | RequestHandler) -> int:
    """The position of the handler called ``name`` (its ``__name__``), or of the handler itself."""
    if callable(name):
        return handlers.index(name)
    names = [getattr(handler, "__name__", "") for handler in handlers]
    return names.index(name)
