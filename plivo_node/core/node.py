"""The node contract: what a node type gives the runtime, and what its handlers get.

A node type is its description (a YAML file validated against ``schemas/manifest.schema.json``),
its credential types, one handler per operation, and optional hooks for what the engine cannot
know by itself: how to group requests in bulk, which operations must never be repeated on
resume, what the run summary should say, how to build an API client from the node's
credentials, whether it is a trigger (for a webhook trigger, how ``serve`` verifies and reads
its requests; for a schedule trigger, when ``serve`` fires it), and the names of its outputs.

Node types are found through the entry-point group ``plivo_node.nodes``: an entry point names
a :class:`NodeType` instance, and its name is the ``node:`` a pipeline step writes (see
:mod:`plivo_node.run.registry`). The bundled nodes register themselves the same way.

Data moves one way: the runtime resolves an item's parameters, the handler gets them in an
:class:`OperationContext` and returns the json of its output items, optionally routed to an
output other than the first (:class:`Routed`); the runtime pairs each with the input item.
Handlers never see the pipeline, the credentials or other items.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, MutableMapping, Sequence
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from plivo_node.core.api import ApiClient
from plivo_node.core.errors import PlivoNodeError
from plivo_node.core.items import BinaryData, Item, JsonObject

if TYPE_CHECKING:
    from plivo_node.http.limiter import SharedLimits

# (resource, operation): the key of a node's handlers. A node whose description has no
# resource and operation parameters has a single handler, under SINGLE_OPERATION.
OperationKey = tuple[str, str]
SINGLE_OPERATION: OperationKey = ("", "")
MAIN_OUTPUTS: tuple[str, ...] = ("main",)


@dataclass(frozen=True)
class OperationContext:
    """Everything one operation on one item gets.

    ``params`` holds the item's resolved parameters: visible ones only, defaults applied,
    expressions evaluated, types checked; collections (``additionalFields``, ``updateFields``)
    are dicts holding only the fields the user gave.
    """

    params: Mapping[str, Any]
    item: Item
    item_index: int
    client: ApiClient
    # The node type's version the step's parameters were saved for (n8n's typeVersion),
    # already checked against the versions its description offers.
    type_version: float = 1
    # Whether the step has an error output (onError: continueErrorOutput), numbered after the
    # node's own outputs. A node may send items there itself, as n8n's Filter sends its
    # discarded items to it.
    error_output: bool = False


def _no_binary() -> Mapping[str, BinaryData]:
    return MappingProxyType({})


@dataclass(frozen=True)
class Routed:
    """An output item sent to a given output (If's false branch is output 1), with the binary
    entries it carries: a node that passes its input item on (If, No Operation) keeps the
    item's ``binary``; a plain json output carries none."""

    output: int
    json: JsonObject
    binary: Mapping[str, BinaryData] = field(default_factory=_no_binary)


# A handler returns its output items: one for most operations, one per object for a listing,
# none to drop the item (a filter). A plain json object goes to the first output; the engine
# wraps each in ``{"json": ..., "pairedItem": {"item": i}}``.
HandlerOutput = Sequence[JsonObject | Routed]
Handler = Callable[[OperationContext], Awaitable[HandlerOutput]]


# --- bulk request grouping -----------------------------------------------------------------

Prepared = TypeVar("Prepared")
PreparedIn_contra = TypeVar("PreparedIn_contra", contravariant=True)


class BulkGroup(Protocol[PreparedIn_contra]):
    """Consecutive prepared items that share one request."""

    def fits(self, prepared: PreparedIn_contra) -> bool:
        """Whether the request still has room for this item."""
        ...

    def add(self, index: int, prepared: PreparedIn_contra) -> None: ...

    async def send(self, client: ApiClient) -> Sequence[JsonObject | PlivoNodeError]:
        """Send the one request; every member's output json or error, in member order.

        A failure of the request itself is raised: every member gets it.
        """
        ...


class BulkOperation(Protocol[Prepared]):
    """How an operation's items are combined: a step runs it in bulk with ``bulk: true``."""

    def prepare(self, context: OperationContext) -> Prepared:
        """One item's request, validated, not sent (raises the item's error)."""
        ...

    def group_key(self, prepared: Prepared) -> str:
        """Items with equal keys may share a request (consecutive ones only)."""
        ...

    def new_group(self) -> BulkGroup[Prepared]: ...


# --- the run summary -----------------------------------------------------------------------


class RunTally(Protocol):
    """A node's share of the run summary (messages counted, a cost estimate), one per run."""

    def count(self, output: Mapping[str, Any]) -> None:
        """Take one successful output item of a step of this node."""
        ...

    async def complete(self, client: ApiClient) -> None:
        """Look up what the summary adds after the run (prices); skipped when the run was
        stopped or the pipeline turned it off (``settings.costEstimate``). Never raises."""
        ...

    def lines(self) -> list[str]:
        """The summary's lines for this node (none when it has nothing to say)."""
        ...

    def counts(self) -> JsonObject:
        """What :meth:`count` gathered, as JSON: queue workers send each chunk's counts back
        to the run, which merges them into one tally."""
        ...

    def merge(self, counts: Mapping[str, Any]) -> None:
        """Add another tally's :meth:`counts` (a chunk run elsewhere) to this one."""
        ...


# --- run-wide state ------------------------------------------------------------------------


@dataclass(frozen=True)
class RunSettings:
    """What a run tells each node type's run scope (:attr:`NodeType.run_scope`)."""

    # The pipeline's ``settings.suppression``: whether a node honours its list of recipients
    # who asked not to be messaged (off for transactional messages such as 2FA codes).
    suppression: bool = True
    dry_run: bool = False
    # The pipeline's ``settings.timezone`` (an IANA name; None: this machine's zone), which a
    # schedule trigger's item is stamped in.
    timezone: str | None = None


class RunScope(Protocol):
    """A node type's state for one run, open from before its first item to after its last."""

    def lines(self) -> list[str]:
        """The run summary's lines about it (none when it has nothing to say)."""
        ...


# --- messaging someone ---------------------------------------------------------------------


@dataclass(frozen=True)
class Messaging:
    """Operations that message (or call) a person: the pipeline's send window
    (``settings.sendWindow``) holds their items outside its hours."""

    # The parameter naming each such operation's destination(s).
    destinations: Mapping[OperationKey, str]
    # Every IANA time zone a destination (the parameter's resolved value) may be in; empty
    # when it cannot be told.
    time_zones: Callable[[str], Sequence[str]]


# --- the API client ------------------------------------------------------------------------


@dataclass(frozen=True)
class ClientOptions:
    """What a run asks of every client it opens."""

    concurrency: int  # connections in the pool: the busiest step's concurrency
    timeout: float
    rate_limit: tuple[int, float] | None  # requests per seconds; None: no client-side limit
    messages_per_second: float | None = None  # spacing of sends that share a sender
    retry_unknown: bool = False  # sends whose outcome is unknown may be retried
    # Where the rate window, the 429 pause and the pacing live when they are shared with
    # other processes (queue workers); None: the client keeps its own.
    shared_limits: SharedLimits | None = None


class RunClient(ApiClient, Protocol):
    """A client opened for a run."""

    @property
    def writes_started(self) -> int:
        """Requests other than reads handed on to be written: while 0, nothing was sent."""
        ...


@dataclass(frozen=True)
class SandboxSession:
    """An embedded stand-in for the node's service: where it listens, and credentials for it."""

    url: str
    fields: Mapping[str, str]


class ClientFactory(Protocol):
    """Builds a node's API client from its resolved credentials.

    ``fields`` are the credential type's fields (from the pipeline's credentials block, or the
    environment variables the credential type names), environment references expanded.
    """

    @property
    def credential_type(self) -> str:
        """The name of the credential type the client is built from."""
        ...

    @property
    def service(self) -> str:
        """How messages name the far end ("nothing was sent to <service>")."""
        ...

    @property
    def default_rate_limit(self) -> tuple[int, float] | None:
        """The service's documented request rate, used unless the pipeline sets its own."""
        ...

    def connect(
        self, fields: Mapping[str, str], options: ClientOptions
    ) -> AbstractAsyncContextManager[RunClient]:
        """The client, to be used as ``async with``; malformed fields raise CredentialError."""
        ...

    async def test(self, client: RunClient, fields: Mapping[str, str]) -> tuple[bool, str]:
        """One cheap read proving the credentials: ``(True, "OK: ...")`` or ``(False, why)``."""
        ...

    async def check(self, client: RunClient, fields: Mapping[str, str]) -> None:
        """The check before a run's first item: raise CredentialError (nothing sent) if the
        credentials do not work."""
        ...

    def sandbox(self) -> AbstractAsyncContextManager[SandboxSession] | None:
        """An embedded sandbox for runs without credentials, or None when there is none."""
        ...

    def dry_run(self, client: ApiClient, fields: Mapping[str, str]) -> ApiClient:
        """A client that performs reads and answers writes without sending them."""
        ...


# --- webhook triggers ----------------------------------------------------------------------


@dataclass(frozen=True)
class WebhookRequest:
    """One request to a trigger's webhook, as ``serve`` received it.

    ``url`` is the URL the caller used: the public base URL, the path and the query string as
    they arrived (signatures are computed over it). ``headers`` have lower-case names.
    ``params`` are the form fields of a POST, or the query parameters of a GET.
    """

    method: str
    url: str
    headers: Mapping[str, str]
    params: Mapping[str, Sequence[str]]


@dataclass(frozen=True)
class WebhookEvent:
    """What an accepted request becomes: one item for the pipeline, and how to queue it.

    ``kind`` is one of the trigger's event kinds (its ``events`` parameter selects which run);
    ``dedupe_key`` is equal for a request the service retried, so it runs once; events with
    equal ``order_key`` run one at a time, in arrival order (e.g. per end user).
    """

    kind: str
    params: Mapping[str, str]
    dedupe_key: str
    order_key: str


@dataclass(frozen=True)
class WebhookRejection:
    """Why a request to a webhook is not authentic (answered 403; nothing is queued)."""

    reason: str


@dataclass(frozen=True)
class WebhookReply:
    """The body of the 200 an accepted request gets (the caller may act on it: a voice
    service reads its call instructions from the answer)."""

    body: str = "OK"
    content_type: str = "text/plain"


@dataclass(frozen=True)
class WebhookOptions:
    """What a trigger step's parameters ask of its webhook, read once when ``serve`` starts."""

    # False: a request without any signature is accepted (one with a wrong signature never is).
    signatures_required: bool = True
    # The reply to an accepted request, per event kind; kinds not listed get WebhookReply().
    replies: Mapping[str, WebhookReply] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class ServedWebhook:
    """A webhook ``serve`` listens on, as a trigger's attach hook sees it."""

    pipeline: str  # the pipeline file as given on the command line
    url: str  # what the service calls: BASE/webhook/PATH
    events: frozenset[str]  # the event kinds its pipeline runs on


@dataclass(frozen=True)
class AttachRequest:
    """``serve --attach TARGET[=PIPELINE]``: point TARGET (a phone number, say) at the served
    webhooks while ``serve`` runs; ``pipeline`` is the one the user named, if any."""

    target: str
    pipeline: str | None = None


# Called with an accepted event's params before its pipeline runs (e.g. to record a delivery
# status or an opt-out). An observer must tolerate the same event twice: after a crash an
# event that had started runs again.
EventObserver = Callable[[str, Mapping[str, str]], None]


class WebhookTrigger(Protocol):
    """How ``serve`` runs a trigger node: verify, read and queue the requests to its webhook."""

    @property
    def credential_type(self) -> str:
        """The credential type whose fields sign the requests (as the node's client uses)."""
        ...

    @property
    def event_kinds(self) -> tuple[str, ...]:
        """Every kind of event the trigger can produce (the ``events`` parameter's values)."""
        ...

    @property
    def event_aliases(self) -> Mapping[str, str]:
        """Other names the ``events`` parameter accepts (another tool's), each for a kind."""
        ...

    def options(self, parameters: Mapping[str, Any]) -> WebhookOptions:
        """The trigger step's parameters as its webhook needs them; raises ConfigurationError
        (naming the parameter) when one is unusable."""
        ...

    def verify(
        self, request: WebhookRequest, fields: Mapping[str, str], *, required: bool = True
    ) -> str | WebhookRejection | None:
        """Check the request's signature with the credential fields: its replay key (e.g. its
        nonce; ``serve`` refuses a key it accepted before), or why it is refused. With
        ``required=False`` a request carrying no signature at all is accepted (None: no replay
        key); a wrong signature is refused all the same."""
        ...

    def attach(
        self,
        fields: Mapping[str, str],
        requests: Sequence[AttachRequest],
        webhooks: Sequence[ServedWebhook],
        *,
        public: bool,
        state: Path,
    ) -> AbstractAsyncContextManager[list[str]]:
        """Point each request's target at ``webhooks`` for as long as the context is open, and
        put back what was there on the way out; yields lines for ``serve`` to print.

        Called at every start, with no requests too: what a killed ``serve`` left attached
        (recorded under ``state`` before anything was changed) is restored first. Every
        refusal (ConfigurationError) comes before the service is changed. ``public`` says
        whether the webhooks' base URL was given (``--public-url``) or is the local address.
        """
        ...

    def event(self, request: WebhookRequest) -> WebhookEvent:
        """The event a verified request carries; raises PlivoNodeError if it is malformed."""
        ...

    @property
    def observers(self) -> Sequence[EventObserver]:
        """Called ``observer(kind, params)`` for each accepted event, before its pipeline."""
        ...


# --- schedule triggers ---------------------------------------------------------------------


class Timetable(Protocol):
    """When one schedule trigger step fires, in its pipeline's time zone."""

    def next_fire(self, after: datetime) -> datetime:
        """The first whole second strictly after ``after`` at which a rule may fire (both
        time-zone aware)."""
        ...

    def fires(self, at: datetime, memory: MutableMapping[str, int]) -> bool:
        """Whether a rule fires at ``at`` (a time ``next_fire`` gave). A rule that runs every
        N hours, days, weeks or months reads when it last ran from ``memory`` and records this
        run there; the caller keeps ``memory`` across restarts."""
        ...


class ScheduleTrigger(Protocol):
    """How ``serve`` runs a trigger node on a timetable: each tick queues one event."""

    def timetable(self, params: Mapping[str, Any], *, seed: str, timezone: str) -> Timetable:
        """The timetable of the step's resolved parameters; ``seed`` (stable per pipeline)
        picks the parts the rules leave free, so every replica computes the same ticks.
        Raises ConfigurationError for rules that cannot run."""
        ...

    def item(self, at: datetime, timezone: str) -> Mapping[str, str]:
        """The json of the one item a tick at ``at`` emits."""
        ...


# --- the node type -------------------------------------------------------------------------

ConstantCheck = Callable[[OperationKey, Mapping[str, Any]], Iterable[str]]


def _no_bulk() -> Mapping[OperationKey, BulkOperation[Any]]:
    return MappingProxyType({})


@dataclass(frozen=True)
class NodeType:
    """A node type, as an entry point in the group ``plivo_node.nodes`` names it.

    ``name`` is the entry point's name and the description's ``name``. ``handlers`` has one
    handler per (resource, operation) the description offers, or one under
    :data:`SINGLE_OPERATION` for a node without those parameters.
    """

    name: str
    description_file: Path
    handlers: Mapping[OperationKey, Handler]
    credential_files: tuple[Path, ...] = ()
    # Builds the API client its handlers get; nodes without one get NO_CLIENT.
    client: ClientFactory | None = None
    # Operations a step may run with ``bulk: true``, and how their items are combined.
    bulk: Mapping[OperationKey, BulkOperation[Any]] = field(default_factory=_no_bulk)
    # Operations the service may act on twice if repeated (sends, creates): an item a killed
    # run left in flight is reported as unknown_outcome on resume instead of being repeated.
    never_repeat: frozenset[OperationKey] = frozenset()
    # A new tally per run: the node's lines in the run summary.
    tally: Callable[[], RunTally] | None = None
    # Problems of constant parameter values, found before anything runs (``validate``).
    check_constants: ConstantCheck | None = None
    # Opened once per run around all of its items (before the first, closed after the last),
    # for state a node loads once rather than per item; handlers reach it through context
    # variables the scope sets. Raising ConfigurationError refuses the run (nothing sent).
    run_scope: Callable[[RunSettings], AbstractContextManager[RunScope]] | None = None
    messaging: Messaging | None = None
    trigger: bool = False
    # A trigger that receives requests (``serve``); such a pipeline cannot be ``run``.
    webhook: WebhookTrigger | None = None
    # A trigger that fires on a timetable (``serve``); ``run`` fires it once, now.
    schedule: ScheduleTrigger | None = None
    outputs: tuple[str, ...] = MAIN_OUTPUTS
    # The node type an n8n workflow file names for it (``n8n-nodes-base.plivo``): workflow
    # files that use it run on this node type. None: workflow files cannot use it.
    n8n_type: str | None = None
