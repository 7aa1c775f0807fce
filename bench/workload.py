"""The benchmark's workload: N contacts, the pipeline that texts them, and its wire bodies.

Every variant (plivo-node, raw aiohttp, sequential loop) sends the same requests: one POST
Message/ per contact, from the same sender, with the same personalised text.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

import phonenumbers

SENDER = "+16505550100"  # outside every destination range: a sender may not be its own dst
# Ten US area codes x 10,000 numbers in the 555 exchange: 100,000 distinct valid numbers.
AREA_CODES = ("415", "202", "212", "312", "617", "303", "206", "512", "713", "404")
MAX_CONTACTS = len(AREA_CODES) * 10_000
TEMPLATE = "=Hi {{ $json.name }}, this is a reminder of your appointment. Reply STOP to opt out."
CONCURRENCY = 100


def phone_number(index: int) -> str:
    area = AREA_CODES[index // 10_000]
    return f"+1{area}555{index % 10_000:04d}"


def contact_name(index: int) -> str:
    return f"Contact {index}"


def message_text(index: int) -> str:
    """What the template renders for contact ``index`` (the raw clients build the same)."""
    return TEMPLATE[1:].replace("{{ $json.name }}", contact_name(index))


def write_contacts(path: Path, count: int) -> Path:
    """A CSV of ``count`` contacts with distinct numbers, each checked by phonenumbers."""
    if count > MAX_CONTACTS:
        raise ValueError(f"at most {MAX_CONTACTS} distinct contacts")
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(["name", "phone"])
        for index in range(count):
            number = phone_number(index)
            if not phonenumbers.is_valid_number(phonenumbers.parse(number)):
                raise ValueError(f"{number} is not a valid number; pick another range")
            writer.writerow([contact_name(index), number])
    return path


def write_pipeline(path: Path, contacts: Path, output: Path) -> Path:
    """The pipeline under test: rate limiter off, ``CONCURRENCY`` requests in flight."""
    steps = [
        {
            "name": "Send",
            "node": "plivo",
            "onError": "continueRegularOutput",
            "parameters": {
                "resource": "sms",
                "operation": "send",
                "from": SENDER,
                "to": "={{ $json.phone }}",
                "message": TEMPLATE,
            },
        }
    ]
    pipeline = {
        "version": 1,
        "name": "Benchmark",
        "input": str(contacts),
        "output": str(output),
        "settings": {"rateLimit": False, "concurrency": CONCURRENCY},
        "steps": steps,
    }
    # JSON is valid YAML: no YAML writer needed.
    path.write_text(json.dumps(pipeline, indent=2), encoding="utf-8")
    return path


def wire_bodies(count: int) -> Iterator[bytes]:
    """The JSON bodies plivo-node sends for the same contacts (see resources/sms.py)."""
    src = SENDER.removeprefix("+")
    for index in range(count):
        body = {
            "src": src,
            "dst": phone_number(index).removeprefix("+"),
            "text": message_text(index),
            "type": "sms",
            "method": "POST",
            "log": "true",
            "trackable": False,
        }
        yield json.dumps(body, separators=(",", ":")).encode()
