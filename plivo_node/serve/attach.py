"""``serve --attach TARGET[=PIPELINE]``: hand each trigger type its attach requests.

What attaching means (which account object points where, how it is restored) is the
trigger's business (:meth:`plivo_node.core.node.WebhookTrigger.attach`); the runtime only
parses the flag, checks that a named pipeline is one being served, and opens every trigger
type's attach context once, so a trigger restores what a killed ``serve`` left attached
even when this start attaches nothing.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path

from plivo_node.core.errors import ConfigurationError
from plivo_node.core.node import AttachRequest, ServedWebhook, WebhookTrigger
from plivo_node.serve.pipelines import ServedPipeline

ATTACH_FLAG = "--attach"


def _named(named: str, file: Path, webhook: str) -> bool:
    """Whether ``=PIPELINE`` names this pipeline: its file (as given or resolved) or its
    webhook path."""
    return named in {str(file), webhook} or Path(named).resolve() == file.resolve()


def attach_requests(
    values: Sequence[str], pipelines: Sequence[tuple[Path, str]]
) -> list[AttachRequest]:
    """The ``--attach`` values, each naming one of the ``(file, webhook path)`` pipelines
    being served, or none (checked before anything is opened or changed)."""
    requests: list[AttachRequest] = []
    for value in values:
        target, sep, named = value.partition("=")
        target, named = target.strip(), named.strip()
        if not target or (sep and not named):
            raise ConfigurationError(
                f"{ATTACH_FLAG} {value!r} is not TARGET or TARGET=PIPELINE",
                hint=f"e.g. {ATTACH_FLAG} +14155550100 or "
                f"{ATTACH_FLAG} +14155550100={pipelines[0][0]}",
            )
        if not sep:
            requests.append(AttachRequest(target))
            continue
        match = [file for file, webhook in pipelines if _named(named, file, webhook)]
        if not match:
            served = ", ".join(str(file) for file, _ in pipelines)
            raise ConfigurationError(
                f"{ATTACH_FLAG} {value}: '{named}' is not a pipeline this serve runs",
                hint=f"name one of {served} (or its webhook path)",
            )
        requests.append(AttachRequest(target, str(match[0])))
    return requests


def served_webhooks(pipelines: Sequence[ServedPipeline], base: str) -> list[ServedWebhook]:
    return [
        ServedWebhook(pipeline=str(p.file), url=p.url(base), events=p.settings.events)
        for p in pipelines
    ]


def _same_fields(pipelines: Sequence[ServedPipeline]) -> Mapping[str, str]:
    first = pipelines[0].fields
    if any(dict(p.fields) != dict(first) for p in pipelines[1:]):
        raise ConfigurationError(
            f"{ATTACH_FLAG} needs every pipeline served with the same trigger to use the same "
            "credentials (one account to attach to)",
            hint="serve the pipelines of each account separately",
        )
    return first


@contextlib.asynccontextmanager
async def attached(
    requests: Sequence[AttachRequest],
    pipelines: Sequence[ServedPipeline],
    base: str,
    *,
    public: bool,
    state: Path,
) -> AsyncIterator[list[str]]:
    """Every trigger type's attach context, open until the server stops; yields the lines to
    print. Requests go to the trigger of the pipelines they may use (all served ones, or the
    one named)."""
    triggers: dict[int, tuple[WebhookTrigger, list[ServedPipeline]]] = {}
    for pipeline in pipelines:
        if pipeline.trigger is None:  # a schedule: nothing calls it
            continue
        triggers.setdefault(id(pipeline.trigger), (pipeline.trigger, []))[1].append(pipeline)
    lines: list[str] = []
    async with contextlib.AsyncExitStack() as stack:
        for trigger, served in triggers.values():
            files = {str(p.file) for p in served}
            mine = [r for r in requests if r.pipeline is None or r.pipeline in files]
            fields = _same_fields(served) if mine else served[0].fields
            lines += await stack.enter_async_context(
                trigger.attach(
                    fields, mine, served_webhooks(served, base), public=public, state=state
                )
            )
        yield lines
