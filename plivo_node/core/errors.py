"""Every error plivo-node raises, in one tree.

    PlivoNodeError                      code            exit / item behaviour
    ├── RunAbortedError                 run_aborted     a problem part-way through a run, exit 1
    ├── ConfigurationError              configuration   whole run stops, exit code 2
    │   ├── DescriptionError            invalid_description  (node_manifest.yaml, credential types)
    │   ├── PipelineError               invalid_pipeline
    │   ├── WorkflowError               invalid_workflow     (an n8n workflow file)
    │   └── CredentialError             invalid_credentials
    ├── ItemError                       (per item: the item fails, the batch goes on)
    │   ├── ParameterError              invalid_parameter
    │   ├── ExpressionError             expression_error
    │   └── UnknownOutcomeError         unknown_outcome  (a send may or may not have reached it)
    ├── ApiError                        (the service answered with an error status)
    │   ├── BadRequestError        400  bad_request
    │   ├── AuthenticationError    401  authentication_failed
    │   ├── ForbiddenError         403  forbidden
    │   ├── NotFoundError          404  not_found
    │   ├── InvalidRequestError    405, 409, 422 and other 4xx  invalid_request
    │   ├── RateLimitedError       429  rate_limited          retriable
    │   └── ServerError            5xx  server_error          retriable
    └── TransportError                  (no HTTP answer at all)
        ├── ConnectionFailedError       connection_error      retriable
        └── RequestTimeoutError         timeout               retriable

Every error has a stable ``code`` (what the CLI summary counts and output items carry), a
``message`` that says what is wrong, and an optional ``hint`` that says how to fix it. Errors
about one item carry ``item_index`` and, when one parameter is at fault, ``parameter``; the
executor fills ``item_index`` in for errors raised below it. No error ever holds a secret: the
transport builds messages from the service's answer, never from the request's credentials; ``str``
and ``to_dict`` pass every text through :func:`plivo_node.core.redaction.redact` as a last guard,
and :meth:`PlivoNodeError.redact_in_place` masks an item's error with that item's own secrets
(its password, say) before the error leaves the item's scope.
"""

from __future__ import annotations

from typing import Any, ClassVar

from plivo_node.core.redaction import redact

# The standard texts n8n shows for HTTP failures; the service's own text goes in ``description``.
_STATUS_MESSAGES: dict[int, str] = {
    400: "Bad request - please check your parameters",
    401: "Authorization failed - please check your credentials",
    402: "Payment required - perhaps check your payment details?",
    403: "Forbidden - perhaps check your credentials?",
    404: "The resource you are requesting could not be found",
    405: "Method not allowed - please check you are using the right HTTP method",
    429: "The service is receiving too many requests from you",
    500: "The service was not able to process your request",
    502: "Bad gateway - the service failed to handle your request",
    503: "Service unavailable - try again later",
    504: "Gateway timed out - perhaps try again later?",
}


def status_message(status: int) -> str:
    """n8n's standard sentence for an HTTP status."""
    if status in _STATUS_MESSAGES:
        return _STATUS_MESSAGES[status]
    if 400 <= status < 500:
        return "Your request is invalid or could not be processed by the service"
    return "The service failed to process your request"


class PlivoNodeError(Exception):
    """Base of every error plivo-node raises on purpose."""

    code: ClassVar[str] = "error"
    retriable: ClassVar[bool] = False

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        item_index: int | None = None,
        parameter: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.item_index = item_index
        self.parameter = parameter

    def __str__(self) -> str:
        where = []
        if self.item_index is not None:
            where.append(f"item {self.item_index}")
        if self.parameter:
            where.append(f"parameter '{self.parameter}'")
        prefix = ", ".join(where)
        text = f"{prefix[:1].upper()}{prefix[1:]}: {self.message}" if where else self.message
        if self.hint:
            text = f"{text} ({self.hint})"
        return redact(text)

    def redact_in_place(self) -> None:
        """Mask every secret known now in the error's texts (an item's secrets are forgotten
        once the item is done, and the error may be printed later)."""
        self.message = redact(self.message)
        if self.hint:
            self.hint = redact(self.hint)

    def to_dict(self) -> dict[str, Any]:
        """The error as an output item's ``error`` object."""
        data: dict[str, Any] = {"message": redact(self.message), "code": self.code}
        if self.hint:
            data["description"] = redact(self.hint)
        if self.item_index is not None:
            data["itemIndex"] = self.item_index
        if self.parameter:
            data["parameter"] = self.parameter
        return data


class RunAbortedError(PlivoNodeError):
    """The run stopped part-way (an unreadable input row, a full disk): some items were sent."""

    code = "run_aborted"


# --- configuration: the whole run cannot start -------------------------------------------


class ConfigurationError(PlivoNodeError):
    """Something the run is configured with is wrong; nothing is sent."""

    code = "configuration_error"


class ProblemListError(ConfigurationError):
    """A configuration error made of several located problems, all reported at once."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = list(problems)
        listing = "\n".join(f"  - {p}" for p in self.problems)
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        super().__init__(f"{source}: {count} {noun}:\n{listing}")

    def redact_in_place(self) -> None:
        super().redact_in_place()
        self.problems = [redact(p) for p in self.problems]

    def to_dict(self) -> dict[str, Any]:
        data = super().to_dict()
        data["problems"] = [redact(p) for p in self.problems]
        return data


class DescriptionError(ProblemListError):
    """node_manifest.yaml or a credential type does not describe a valid node."""

    code = "invalid_description"


class PipelineError(ProblemListError):
    """A pipeline file is malformed or refers to things that do not exist."""

    code = "invalid_pipeline"


class WorkflowError(ProblemListError):
    """An n8n workflow file is malformed, or uses what this runtime cannot run as n8n would."""

    code = "invalid_workflow"


class CredentialError(ConfigurationError):
    """Credentials are missing or malformed (checked before any request)."""

    code = "invalid_credentials"


# --- one item fails ------------------------------------------------------------------------


class ItemError(PlivoNodeError):
    """One item cannot be processed; the others go on (unless onError says stop)."""

    code = "item_error"


class ParameterError(ItemError):
    """A parameter's value fails a check the node makes itself, before any request."""

    code = "invalid_parameter"


class ExpressionError(ItemError):
    """An ``={{ }}`` expression could not be compiled or evaluated, or was refused."""

    code = "expression_error"


class UnknownOutcomeError(ItemError):
    """A send went out but no answer came back: the service may or may not have acted on it.

    Without idempotency keys a repeat could act twice, so such a send is never re-sent
    automatically.
    """

    code = "unknown_outcome"


# --- the service answered with an error status ----------------------------------------------


class ApiError(PlivoNodeError):
    """The service (or a compatible server) answered with an error status."""

    code = "api_error"

    def __init__(
        self,
        *,
        status: int,
        method: str,
        path: str,
        api_id: str | None = None,
        error_text: str | None = None,
        retry_after: float | None = None,
        service: str = "the service",
    ) -> None:
        self.status = status
        self.method = method
        self.path = path
        self.api_id = api_id
        self.error_text = error_text
        self.retry_after = retry_after
        hint = f"{service[:1].upper()}{service[1:]} said: {error_text}" if error_text else None
        super().__init__(f"{status_message(status)} ({method} {path} -> {status})", hint=hint)

    def redact_in_place(self) -> None:
        super().redact_in_place()
        if self.error_text:
            self.error_text = redact(self.error_text)

    def to_dict(self) -> dict[str, Any]:
        data = super().to_dict()
        data["httpCode"] = self.status
        if self.api_id:
            data["api_id"] = self.api_id
        return data


class BadRequestError(ApiError):
    code = "bad_request"


class AuthenticationError(ApiError):
    code = "authentication_failed"


class ForbiddenError(ApiError):
    code = "forbidden"


class NotFoundError(ApiError):
    code = "not_found"


class InvalidRequestError(ApiError):
    code = "invalid_request"


class RateLimitedError(ApiError):
    code = "rate_limited"
    retriable = True


class ServerError(ApiError):
    code = "server_error"
    retriable = True


# The single status-to-error table; other 4xx are InvalidRequestError, 5xx ServerError.
_ERROR_FOR_STATUS: dict[int, type[ApiError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: ForbiddenError,
    404: NotFoundError,
    429: RateLimitedError,
}


def api_error_for_status(status: int) -> type[ApiError]:
    """The class for an error status."""
    if status in _ERROR_FOR_STATUS:
        return _ERROR_FOR_STATUS[status]
    return ServerError if status >= 500 else InvalidRequestError


# --- no HTTP answer ------------------------------------------------------------------------


class TransportError(PlivoNodeError):
    """The request got no HTTP answer (connection failed, timed out)."""

    code = "transport_error"
    retriable = True

    def __init__(self, message: str, *, request_sent: bool, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        # Whether the request may have reached the server: decides if a send may be retried.
        self.request_sent = request_sent


class ConnectionFailedError(TransportError):
    code = "connection_error"


class RequestTimeoutError(TransportError):
    code = "timeout"
