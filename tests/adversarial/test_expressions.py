"""Misuse through ``={{ }}`` parameters, run through the CLI: blow-ups, sandbox escapes and type
confusions. Each must end with the right exit code, an error naming the item and the parameter,
no traceback, and nothing sent that should not be (nor anything twice)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.adversarial.conftest import Adversary, CliRun

# Each case runs the CLI in a subprocess (or two): seconds, not milliseconds.
pytestmark = pytest.mark.slow

CONTACTS = "name,phone,amount,vip,digits\n"
CONTACTS += "Ada,+14155550101,12.5,true," + "9" * 20_000 + "\n"
CONTACTS += "Bob,+14155550102,abc,false,7\n"


def _pipeline(adversary: Adversary, message: str, *, input_name: str = "contacts.csv") -> Path:
    """A one-step SMS pipeline whose message is ``message`` (YAML-quoted here)."""
    if input_name == "contacts.csv":
        adversary.write("contacts.csv", CONTACTS)
    return adversary.write(
        "p.yaml",
        f"""
version: 1
input: {input_name}
output: out.jsonl
steps:
  - name: Send
    node: plivo
    onError: continueRegularOutput
    parameters:
      resource: sms
      operation: send
      from: "+14155550100"
      to: "={{{{ $json.phone }}}}"
      message: {json.dumps(message)}
""",
    )


async def _run(adversary: Adversary, pipeline: Path) -> CliRun:
    run = await adversary.run("run", str(pipeline), "--no-progress")
    adversary.assert_clean(run)
    adversary.assert_sent_at_most_once()
    return run


def _errors(adversary: Adversary) -> list[dict[str, object]]:
    lines = (adversary.root / "out.jsonl").read_text(encoding="utf-8").splitlines()
    return [record["error"] for record in map(json.loads, lines) if "error" in record]


def _texts(adversary: Adversary) -> dict[str, str]:
    assert adversary.sandbox is not None
    return {message["dst"]: message["text"] for message in adversary.sandbox.state.messages}


async def _every_item_refused(adversary: Adversary, message: str, fragment: str) -> None:
    """Both items fail on ``message`` with ``fragment`` in an error naming item and parameter."""
    run = await _run(adversary, _pipeline(adversary, message))
    assert run.code == 1, run
    errors = _errors(adversary)
    assert [error["itemIndex"] for error in errors] == [0, 1]
    for error in errors:
        assert error["parameter"] == "message"
        assert error["code"] == "expression_error"
        assert fragment in str(error["message"]), error
    assert adversary.messages_sent() == 0


async def _refused_up_front(adversary: Adversary, message: str, fragment: str) -> None:
    """A template that cannot compile: validate and run exit 2, nothing sent."""
    pipeline = _pipeline(adversary, message)
    for command in (("validate",), ("run", "--no-progress")):
        run = await adversary.run(*command, str(pipeline))
        adversary.assert_clean(run)
        assert run.code == 2, run
        assert "message" in run.stderr + run.stdout, run
        assert fragment in run.stderr + run.stdout, run
    assert adversary.messages_sent() == 0


# --- blow-ups ----------------------------------------------------------------------------------


async def test_an_array_built_by_split_is_bounded(adversary: Adversary) -> None:
    await _every_item_refused(
        adversary,
        "=Hi {{ 'x'.repeat(900000).split('').length }}",
        "array of 900,000 items, more than the 100,000 allowed",
    )


async def test_concat_doubling_an_input_array_is_bounded(adversary: Adversary) -> None:
    big = list(range(40_000))
    rows = [{"phone": f"+1415555010{i}", "big": big} for i in (1, 2)]
    adversary.write("rows.jsonl", "".join(json.dumps(row) + "\n" for row in rows))
    doubled = "$json.big.concat($json.big)"
    message = "={{ " + f"{doubled}.concat({doubled}, {doubled}).length" + " }}"
    run = await _run(adversary, _pipeline(adversary, message, input_name="rows.jsonl"))
    assert run.code == 1, run
    errors = _errors(adversary)
    assert [(e["itemIndex"], e["parameter"]) for e in errors] == [(0, "message"), (1, "message")]
    assert "more than the 100,000 allowed" in str(errors[0]["message"])
    assert adversary.messages_sent() == 0


async def test_many_values_each_under_the_limit_hit_the_items_budget(adversary: Adversary) -> None:
    one = "'ab'.repeat(450000)"
    await _every_item_refused(
        adversary,
        "={{ [" + ", ".join([one] * 12) + "].length }}",
        "characters and array items in total for one item",
    )


async def test_a_quadratic_replacement_pattern_is_refused_before_it_is_built(
    adversary: Adversary,
) -> None:
    # "$`" inserts everything before each match: 20,000 matches -> 200 million characters.
    await _every_item_refused(
        adversary,
        "={{ 'x'.repeat(20000).replaceAll('x', '$`') }}",
        "more than the 1,000,000 allowed",
    )


async def test_padding_and_repeat_to_a_gigabyte_are_refused(adversary: Adversary) -> None:
    await _every_item_refused(
        adversary, "=A{{ 'x'.padStart(2 ** 30, 'ab') }}{{ 'y'.repeat(2 ** 30) }}", "allowed"
    )


async def test_parsing_a_20000_digit_field_is_no_traceback(adversary: Adversary) -> None:
    # Row 0's digits are 20,000 nines: JavaScript's parseInt gives Infinity; % gives NaN.
    run = await _run(adversary, _pipeline(adversary, "=Code {{ parseInt($json.digits) % 1000 }}"))
    assert run.code == 1, run
    errors = _errors(adversary)
    assert [(e["itemIndex"], e["parameter"]) for e in errors] == [(0, "message")]
    assert "The value is NaN" in str(errors[0]["message"])
    assert _texts(adversary) == {"14155550102": "Code 7"}


# --- escapes -----------------------------------------------------------------------------------


async def test_python_dunder_access_is_refused_up_front(adversary: Adversary) -> None:
    await _refused_up_front(
        adversary, "={{ $json.name.__class__.__mro__ }}", "'__class__' is refused"
    )


async def test_the_javascript_constructor_escape_goes_nowhere(adversary: Adversary) -> None:
    await _every_item_refused(
        adversary,
        "={{ ''.constructor.constructor('return process')() }}",
        "A string has no property or method 'constructor'",
    )


async def test_jinja_syntax_is_not_jinja_here(adversary: Adversary) -> None:
    await _refused_up_front(
        adversary, "={{ $json.name|attr('__class__') }}", "bitwise '|' is not supported"
    )


async def test_jinja_globals_are_unknown_names(adversary: Adversary) -> None:
    await _refused_up_front(adversary, "={{ cycler.__init__ }}", "Unknown name 'cycler'")


async def test_template_literals_are_refused_with_a_hint(
    adversary: Adversary,
) -> None:
    await _refused_up_front(adversary, "={{ `Hi ${$json.name}` }}", "join text with +")


async def test_nesting_past_the_parser_limit_is_refused_up_front(adversary: Adversary) -> None:
    await _refused_up_front(adversary, "={{ " + "(" * 300 + "1" + ")" * 300 + " }}", "nested")


# --- type confusions ---------------------------------------------------------------------------


async def test_loose_and_strict_equality_follow_javascript(adversary: Adversary) -> None:
    # CSV gives text: "true" == true is false in JavaScript ("true" -> NaN vs 1), === 'true' holds.
    message = (
        "={{ $json.vip == true ? 'loose' : 'no' }}/{{ $json.vip === 'true' ? 'strict' : 'no' }}"
        "/{{ $json.amount == 12.5 }}/{{ 1 === true }}/{{ '5' == 5 }}"
    )
    run = await _run(adversary, _pipeline(adversary, message))
    assert run.code == 0, run
    assert _texts(adversary) == {
        "14155550101": "no/strict/true/false/true",
        "14155550102": "no/no/false/false/true",
    }


async def test_arithmetic_on_text_that_is_no_number_fails_that_item_only(
    adversary: Adversary,
) -> None:
    # Bob's amount is "abc": amount * 2 is NaN in JavaScript; no message says "NaN".
    run = await _run(adversary, _pipeline(adversary, "=Total {{ ($json.amount * 2).toFixed(2) }}"))
    assert run.code == 1, run
    assert _texts(adversary) == {"14155550101": "Total 25.00"}
    errors = _errors(adversary)
    assert [(e["itemIndex"], e["parameter"]) for e in errors] == [(1, "message")]
    # JavaScript's (NaN).toFixed(2) is the text "NaN"; here it is refused like the value.
    assert "The value is NaN" in str(errors[0]["message"])


async def test_javascript_coercions_in_a_message(adversary: Adversary) -> None:
    message = (
        "={{ null + 1 }} {{ -'5' }} {{ (2.5).toFixed(0) }} {{ (1.005).toFixed(2) }} "
        "{{ 0.1 + 0.2 }} {{ [1, [2, 3]] + '' }} {{ $json.missing ?? 'none' }} {{ typeof $json.x }}"
    )
    run = await _run(adversary, _pipeline(adversary, message))
    assert run.code == 0, run
    expected = "1 -5 3 1.00 0.30000000000000004 1,2,3 none undefined"
    assert set(_texts(adversary).values()) == {expected}


async def test_a_missing_field_in_arithmetic_is_named_not_sent_as_nan(
    adversary: Adversary,
) -> None:
    await _every_item_refused(adversary, "=You owe {{ $json.balance + 1 }}", "The value is NaN")
