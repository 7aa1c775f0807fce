"""What Plivo fills in when an application is created without them.

One source for the two places that answer as Plivo would: the dry run (which pretends to create
applications) and the sandbox (which creates them).
"""

from __future__ import annotations

from typing import Any

APPLICATION_DEFAULTS: dict[str, Any] = {
    "answer_url": "",
    "answer_method": "POST",
    "hangup_url": None,  # None: copies answer_url on create
    "hangup_method": "POST",
    "fallback_answer_url": "",
    "fallback_method": "POST",
    "message_url": "",
    "message_method": "POST",
    "default_app": False,
    "default_endpoint_app": False,
    "enabled": True,
    "log_incoming_messages": True,
    "public_uri": False,
    "sub_account": None,
}
