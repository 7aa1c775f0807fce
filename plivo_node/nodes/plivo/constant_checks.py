"""The Plivo node's static checks: constant parameter values, checked before anything runs.

Constant phone numbers, URLs and ids are checked by the validators the handlers use at run
time, so ``validate`` reports a mistake that would otherwise surface only after earlier steps
had created resources. Expressions are checked per item at run time.

Values that passed are remembered in the description cache (:mod:`plivo_node.description.cache`)
under a key covering the values, this node's code, the runtime helpers used here and the
``phonenumbers`` release, so validating or running the same pipeline again neither imports
``phonenumbers`` nor repeats the checks. Values with problems are checked every time.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, Final

from plivo_node.core.errors import ParameterError
from plivo_node.core.node import OperationKey
from plivo_node.description import cache
from plivo_node.expressions import is_expression
from plivo_node.nodes.plivo.resources._messaging import resolve_sender
from plivo_node.nodes.plivo.resources.number import rented_number
from plivo_node.nodes.plivo.validation.fields import (
    check_country_iso,
    check_http_url,
    check_numeric_id,
)
from plivo_node.nodes.plivo.validation.media import parse_media_urls
from plivo_node.nodes.plivo.validation.phone import normalize_number, parse_destinations
from plivo_node.run.pipeline_checks import looks_like_template, parameter_values

ValueCheck = Callable[[Any, str], object]


def _url(label: str) -> ValueCheck:
    return lambda value, parameter: check_http_url(value, parameter=parameter, label=label)


def _numeric_id(label: str) -> ValueCheck:
    return lambda value, parameter: check_numeric_id(value, parameter=parameter, label=label)


def _sender(*, allow_sender_id: bool) -> ValueCheck:
    # The same function the handlers call; a Powerpack overriding From is handled in _constants.
    return lambda value, _parameter: resolve_sender(
        {"from": value}, "", allow_sender_id=allow_sender_id
    )


_DESTINATIONS: Final[ValueCheck] = lambda value, parameter: parse_destinations(  # noqa: E731
    value, parameter=parameter
)

# (resource, operation) -> parameter path -> the handler's check for it.
_CONSTANT_CHECKS: Final[dict[tuple[str, str], dict[str, ValueCheck]]] = {
    ("sms", "send"): {
        "from": _sender(allow_sender_id=True),
        "to": _DESTINATIONS,
        "url": _url("URL"),
        "additionalFields.media_urls": lambda value, parameter: parse_media_urls(
            value, parameter=parameter
        ),
    },
    ("mms", "send"): {
        "from": _sender(allow_sender_id=False),
        "to": _DESTINATIONS,
        "url": _url("URL"),
        "media_urls": lambda value, parameter: parse_media_urls(value, parameter=parameter),
    },
    ("call", "make"): {
        "from": lambda value, parameter: normalize_number(value, parameter=parameter),
        "to": lambda value, parameter: parse_destinations(
            value, parameter=parameter, allow_sip=True
        ),
        "answer_url": _url("Answer URL"),
        "hangup_url": _url("Hangup URL"),
        "fallback_url": _url("Fallback URL"),
        "additionalFields.machine_detection_url": _url("Machine Detection URL"),
        "additionalFields.ring_url": _url("Ring URL"),
    },
    ("application", "create"): {
        "answer_url": _url("Answer URL"),
        "additionalFields.fallback_answer_url": _url("Fallback Answer URL"),
        "additionalFields.hangup_url": _url("Hangup URL"),
        "additionalFields.message_url": _url("Message URL"),
    },
    ("application", "delete"): {"app_id": _numeric_id("Application ID")},
    ("application", "get"): {"app_id": _numeric_id("Application ID")},
    ("application", "update"): {
        "app_id": _numeric_id("Application ID"),
        "updateFields.answer_url": _url("Answer URL"),
        "updateFields.fallback_answer_url": _url("Fallback Answer URL"),
        "updateFields.hangup_url": _url("Hangup URL"),
        "updateFields.message_url": _url("Message URL"),
    },
    ("endpoint", "create"): {"additionalFields.app_id": _numeric_id("Application ID")},
    ("endpoint", "delete"): {"endpoint_id": _numeric_id("Endpoint ID")},
    ("endpoint", "get"): {"endpoint_id": _numeric_id("Endpoint ID")},
    ("endpoint", "update"): {
        "endpoint_id": _numeric_id("Endpoint ID"),
        "updateFields.app_id": _numeric_id("Application ID"),
    },
    ("number", "get"): {"number": lambda value, _parameter: rented_number(value)},
    ("pricing", "get"): {
        "country_iso": lambda value, parameter: check_country_iso(value, parameter=parameter)
    },
}


def constant_problems(operation: OperationKey, parameters: Mapping[str, Any]) -> list[str]:
    """Problems of the constant values of a step's parameters (the node's ``check_constants``)."""
    source = f"plivo node constants {'.'.join(operation)}"
    key = _verdict_key(operation, parameters)
    if key is not None and cache.passed_recently(source, key):
        return []
    problems = list(_problems(operation, parameters))
    if key is not None and not problems:
        cache.remember_passed_recently(source, key)
    return problems


# This node's own code: its checks, validators and the handlers' helpers they share.
_NODE_DIR = Path(__file__).resolve().parent


def _verdict_key(operation: OperationKey, parameters: Mapping[str, Any]) -> str | None:
    """What a verdict depends on: the values, the code that checks them, phonenumbers' data."""
    try:
        document = repr((operation, sorted(parameters.items())))
    except (RecursionError, TypeError):  # too deep, or keys that do not sort: not remembered
        return None
    phonenumbers = importlib.util.find_spec("phonenumbers")  # found, not imported
    if phonenumbers is None or phonenumbers.origin is None:
        return None
    files = [
        *sorted(_NODE_DIR.rglob("*.py")),
        # The runtime's helpers called above: which values are expressions or templates.
        *(Path(str(sys.modules[name].__file__)) for name in _RUNTIME_HELPERS),
        Path(phonenumbers.origin),  # its __init__ names the release, and so its metadata
    ]
    return cache.content_key(f"plivo constants\0{document}", files)


_RUNTIME_HELPERS = (
    "plivo_node.expressions.compiled",
    "plivo_node.run.pipeline_checks",
)


def _problems(operation: OperationKey, parameters: Mapping[str, Any]) -> Iterator[str]:
    checks = _CONSTANT_CHECKS.get(operation, {})
    powerpack = parameter_values(parameters.get("additionalFields") or {}, "additionalFields.")
    uses_powerpack = any(path.endswith("powerpack_uuid") and value for path, value in powerpack)
    for path, value in parameter_values(parameters):
        check = checks.get(path)
        # Empty: 'required' is the resolver's check, and optional fields are left out.
        if check is None or is_expression(value) or value is None or value == "":
            continue
        if isinstance(value, str) and looks_like_template(value):
            continue  # reported as a missing '=' already
        if path == "from" and uses_powerpack:
            continue  # a Powerpack picks the sender; the handler never reads From
        try:
            check(value, path)
        except ParameterError as error:
            hint = f" ({error.hint})" if error.hint else ""
            yield f"parameters.{error.parameter or path}: {error.message}{hint}"
