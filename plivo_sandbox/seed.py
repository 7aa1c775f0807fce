"""The data a fresh sandbox starts with: an account, subaccounts, applications, an endpoint,
rented numbers, live conferences and pricing for six countries.

Every number is in a fictional 555 range; ids are fixed so documentation and tests can name them.
"""

from __future__ import annotations

from typing import Any

from plivo_node.nodes.plivo.application_defaults import APPLICATION_DEFAULTS
from plivo_sandbox.state import JsonDict, SandboxState

SEED_CREATED = "2024-01-15"

# Canadian area codes among the seeded numbers and common ones; everything else under +1 is US.
_CANADIAN_AREA_CODES = frozenset(
    {"204", "236", "250", "289", "306", "403", "416", "437", "438", "450", "506", "514", "519",
     "587", "604", "613", "647", "705", "709", "778", "780", "807", "819", "867", "902", "905"}
)  # fmt: skip
_COUNTRY_BY_CALLING_CODE = {"44": "GB", "91": "IN", "49": "DE", "61": "AU"}


def country_of(number: str) -> str | None:
    """ISO code of a normalized number among the seeded countries, else ``None``."""
    if number.startswith("1") and len(number) == 11:
        return "CA" if number[1:4] in _CANADIAN_AREA_CODES else "US"
    return _COUNTRY_BY_CALLING_CODE.get(number[:2])


def seed_state(state: SandboxState) -> None:
    """Fill a fresh state with the seeded resources."""
    base = state.base_path
    state.account.update(
        {
            "account_type": "standard",
            "address": "1 Sandbox Way",
            "auth_id": state.auth_id,
            "auto_recharge": False,
            "billing_mode": "prepaid",
            "cash_credits": "100.00000",
            "city": "San Francisco",
            "name": "Plivo Sandbox",
            "resource_uri": base,
            "state": "California",
            "timezone": "UTC",
        }
    )
    for name, enabled in (("marketing", True), ("support", True), ("archive", False)):
        add_subaccount(state, name, enabled=enabled, created=SEED_CREATED)

    voice_app = add_application(
        state,
        {
            "app_name": "sandbox-voice-app",
            "answer_url": "https://example.com/answer",
            "message_url": "https://example.com/message",
            "default_app": True,
        },
    )
    sip_app = add_application(
        state,
        {
            "app_name": "sandbox-sip-app",
            "answer_url": "https://example.com/sip-answer",
            "default_endpoint_app": True,
        },
    )
    _seed_endpoint(state, sip_app)
    _seed_numbers(state, voice_app)
    _seed_conferences(state)
    for pricing in _PRICING:
        state.pricing[pricing["country_iso"]] = pricing


def add_subaccount(state: SandboxState, name: str, *, enabled: bool, created: str) -> JsonDict:
    auth_id = state.new_subaccount_id()
    subaccount = {
        "account": state.base_path,
        "auth_id": auth_id,
        "auth_token": f"sandbox-subaccount-token-{auth_id[-4:]}",
        "created": created,
        "enabled": enabled,
        "modified": None,
        "name": name,
        "new_auth_token": None,
        "resource_uri": f"{state.base_path}Subaccount/{auth_id}/",
    }
    state.subaccounts[auth_id] = subaccount
    return subaccount


def add_application(state: SandboxState, fields: JsonDict) -> str:
    """Create an application from response-named ``fields``; returns its app_id."""
    app_id = state.new_app_id()
    application: JsonDict = {"app_id": app_id, **APPLICATION_DEFAULTS, **fields}
    if application["hangup_url"] is None:
        application["hangup_url"] = application["answer_url"]
    application["sip_uri"] = f"sip:{app_id}@app.plivo.com"
    application["resource_uri"] = f"{state.base_path}Application/{app_id}/"
    state.applications[app_id] = application
    return app_id


def _seed_endpoint(state: SandboxState, app_id: str) -> None:
    endpoint_id = state.new_endpoint_id()
    username = "frontdesk240115093000"
    state.endpoints[endpoint_id] = {
        "endpoint_id": endpoint_id,
        "alias": "Front desk",
        "username": username,
        "sip_uri": f"sip:{username}@phone.plivo.com",
        "sip_registered": "true",
        "sip_contact": f"sip:{username}@192.0.2.10:5060;ob",
        "sip_expires": "2030-01-01 00:00:00",
        "sip_user_agent": "Sandbox Softphone 1.0",
        "sub_account": None,
        "application": f"{state.base_path}Application/{app_id}/",
        "resource_uri": f"{state.base_path}Endpoint/{endpoint_id}/",
    }
    state.endpoint_passwords[endpoint_id] = "seeded-endpoint-secret"


def _number(
    state: SandboxState,
    number: str,
    *,
    number_type: str,
    country: str,
    region: str,
    services: tuple[str, ...],
    renewal_date: str,
    rental: str,
    alias: str | None = None,
    sub_account: str | None = None,
    app_id: str | None = None,
) -> None:
    state.numbers[number] = {
        "number": number,
        "alias": alias,
        "number_type": number_type,
        "active": True,
        "added_on": SEED_CREATED,
        "renewal_date": renewal_date,
        "carrier": "Plivo",
        "country": country,
        "region": region,
        "monthly_rental_rate": rental,
        "voice_enabled": "voice" in services,
        "voice_rate": "0.00850" if "voice" in services else "0.00000",
        "sms_enabled": "sms" in services,
        "sms_rate": "0.00000",
        "mms_enabled": "mms" in services,
        "mms_rate": "0.00000",
        "cnam_lookup": "disabled",
        "tendlc_registration_status": "UNREGISTERED" if number_type == "local" else None,
        "tendlc_campaign_id": None,
        "toll_free_sms_verification": "verified" if number_type == "tollfree" else None,
        "sub_account": sub_account,
        "application": f"{state.base_path}Application/{app_id}/" if app_id else None,
        "resource_uri": f"{state.base_path}Number/{number}/",
    }


def _seed_numbers(state: SandboxState, app_id: str) -> None:
    first_subaccount = next(iter(state.subaccounts))
    _number(
        state,
        "14155550100",
        number_type="local",
        country="United States",
        region="California, UNITED STATES",
        services=("voice", "sms", "mms"),
        renewal_date="2026-12-15",
        rental="0.80000",
        alias="main line",
        app_id=app_id,
    )
    _number(
        state,
        "12125550188",
        number_type="local",
        country="United States",
        region="New York, UNITED STATES",
        services=("voice",),
        renewal_date="2026-11-15",
        rental="0.80000",
        alias="support",
        sub_account=first_subaccount,
    )
    _number(
        state,
        "18005550123",
        number_type="tollfree",
        country="United States",
        region="UNITED STATES",
        services=("voice", "sms", "mms"),
        renewal_date="2027-01-15",
        rental="1.00000",
        app_id=app_id,
    )
    _number(
        state,
        "16045550142",
        number_type="local",
        country="Canada",
        region="British Columbia, CANADA",
        services=("voice", "sms", "mms"),
        renewal_date="2026-12-01",
        rental="0.80000",
    )
    _number(state, "18885550177", number_type="tollfree", country="Canada",
            region="CANADA", services=("voice", "sms"),
            renewal_date="2027-02-01", rental="1.00000", alias="ca-tollfree")  # fmt: skip


def _member(member_id: str, call_uuid: str, name: str, *, frm: str, to: str, join: str) -> JsonDict:
    return {
        "member_id": member_id,
        "call_uuid": call_uuid,
        "caller_name": name,
        "direction": "inbound",
        "from": frm,
        "to": to,
        "muted": False,
        "deaf": False,
        "join_time": join,
    }


def _seed_conferences(state: SandboxState) -> None:
    rooms: list[tuple[str, str, list[JsonDict]]] = [
        ("My Conf Room", "590", [
            _member("17", "acfbf0b5-12c7-4f3a-9d1e-5b0a2f6c8e01", "John",
                    frm="14155550101", to="14155550100", join="590"),
            _member("18", "b4e1c2d3-7a8b-4c9d-8e0f-1a2b3c4d5e02", "Mary",
                    frm="16045550143", to="14155550100", join="312"),
        ]),
        ("Sales Standup", "125", [
            _member("21", "c5f2d3e4-8b9c-4dae-9f10-2b3c4d5e6f03", "Sales Lead",
                    frm="12125550189", to="18005550123", join="125"),
        ]),
        ("Support Bridge", "42", [
            {**_member("30", "d6a3e4f5-9cad-4ebf-a021-3c4d5e6f7a04", "Agent",
                       frm="14155550102", to="18005550123", join="42"), "muted": True},
        ]),
    ]  # fmt: skip
    for name, run_time, members in rooms:
        state.conferences[name] = {
            "conference_name": name,
            "conference_run_time": run_time,
            "conference_member_count": str(len(members)),
            "members": members,
        }


def _rate(value: str | None) -> JsonDict:
    return {"rate": value}


def _pricing(
    country: str,
    code: int,
    iso: str,
    *,
    sms: str,
    networks: list[str],
    numbers: dict[str, str],
    voice_in: dict[str, str],
    voice_out: dict[str, str | None],
    prefixes: list[tuple[list[str], str]],
) -> JsonDict:
    voice_outbound: dict[str, Any] = {kind: _rate(rate) for kind, rate in voice_out.items()}
    voice_outbound["rates"] = [
        {"origination_prefix": [""], "prefix": prefix, "rate": rate} for prefix, rate in prefixes
    ]
    return {
        "country": country,
        "country_code": code,
        "country_iso": iso,
        "message": {
            "inbound": _rate("0.00000"),
            "outbound": _rate(sms),
            "outbound_networks_list": [{"group_name": name, "rate": sms} for name in networks],
        },
        "phone_numbers": {kind: _rate(rate) for kind, rate in numbers.items()},
        "voice": {
            "inbound": {kind: _rate(rate) for kind, rate in voice_in.items()},
            "outbound": voice_outbound,
        },
    }


_PRICING: list[JsonDict] = [
    _pricing("United States", 1, "US", sms="0.00650", networks=["US"],
             numbers={"local": "0.80000", "tollfree": "1.00000"},
             voice_in={"ip": "0.00300", "local": "0.00850", "tollfree": "0.02100"},
             voice_out={"ip": "0.00300", "local": "0.01200", "tollfree": "0.00300"},
             prefixes=[(["1"], "0.01200"), (["1340"], "0.02400"), (["1808"], "0.03400"),
                       (["1907"], "0.17900"), (["1900"], "0.60300")]),
    _pricing("Canada", 1, "CA", sms="0.00350", networks=["Canada"],
             numbers={"local": "0.80000", "tollfree": "1.00000"},
             voice_in={"ip": "0.00300", "local": "0.00850", "tollfree": "0.02100"},
             voice_out={"ip": "0.00300", "local": "0.01200", "tollfree": None},
             prefixes=[(["1"], "0.01200"), (["1867"], "0.05400")]),
    _pricing("United Kingdom", 44, "GB", sms="0.04000", networks=["Vodafone UK", "EE", "O2 UK"],
             numbers={"local": "0.80000", "mobile": "1.50000", "tollfree": "4.00000"},
             voice_in={"ip": "0.00300", "local": "0.00850", "tollfree": "0.03500"},
             voice_out={"ip": "0.00300", "local": "0.01300", "tollfree": None},
             prefixes=[(["44"], "0.01300"), (["447"], "0.03900")]),
    _pricing("India", 91, "IN", sms="0.00290", networks=["Airtel", "Jio", "Vodafone Idea"],
             numbers={},
             voice_in={"ip": "0.00300"},
             voice_out={"ip": "0.00300", "local": "0.01750", "tollfree": None},
             prefixes=[(["91"], "0.01750"), (["917", "918", "919"], "0.01900")]),
    _pricing("Germany", 49, "DE", sms="0.08500", networks=["Telekom", "Vodafone DE", "O2 DE"],
             numbers={"local": "1.00000", "mobile": "10.00000", "tollfree": "20.00000"},
             voice_in={"ip": "0.00300", "local": "0.00850", "tollfree": "0.05000"},
             voice_out={"ip": "0.00300", "local": "0.01500", "tollfree": None},
             prefixes=[(["49"], "0.01500"), (["4915", "4916", "4917"], "0.06000")]),
    _pricing("Australia", 61, "AU", sms="0.04600", networks=["Telstra", "Optus", "Vodafone AU"],
             numbers={"local": "3.00000", "mobile": "6.00000", "tollfree": "20.00000"},
             voice_in={"ip": "0.00300", "local": "0.01000", "tollfree": "0.04000"},
             voice_out={"ip": "0.00300", "local": "0.01500", "tollfree": None},
             prefixes=[(["61"], "0.01500"), (["614"], "0.03000")]),
]  # fmt: skip

# A message's and a call minute's rate per destination country; other countries use the fallback.
FALLBACK_MESSAGE_RATE = "0.05000"
MESSAGE_RATES: dict[str, str] = {
    p["country_iso"]: p["message"]["outbound"]["rate"] for p in _PRICING
}
FALLBACK_VOICE_RATE = "0.01500"
VOICE_RATES: dict[str, str] = {
    p["country_iso"]: p["voice"]["outbound"]["local"]["rate"] for p in _PRICING
}
