"""Misuse caught up front (validate, and run before it sends) and the smaller details.

Every refused pipeline must exit 2 with nothing sent (the sandbox saw no request at all) and
a message naming the step, the parameter and the fix; warnings go to stderr and never fail.
"""

from __future__ import annotations

import textwrap

import pytest

from tests.adversarial.conftest import Adversary

CONTACTS = "name,phone\nAda,+14155550101\nBob,+14155550102\n"


CREATE_APP = """
- name: Create
  node: plivo
  parameters:
    resource: application
    operation: create
    app_name: "=app{{ $itemIndex }}"
    answer_url: https://example.com/answer
"""


def steps_file(*steps: str, header: str = "input: contacts.csv\noutput: out.jsonl\n") -> str:
    listed = "".join(textwrap.indent(textwrap.dedent(step).strip(), "  ") + "\n" for step in steps)
    return f"version: 1\n{header}steps:\n{listed}"


def send_step(**parameters: str) -> str:
    given = {
        "from": '"+14155550100"',
        "to": '"={{ $json.phone }}"',
        "message": '"=Hi {{ $json.name }}"',
        **parameters,
    }
    lines = "".join(f"    {name}: {value}\n" for name, value in given.items())
    return (
        "- name: Send\n  node: plivo\n  parameters:\n    resource: sms\n    operation: send\n"
        + lines
    )


async def refused_before_sending(adversary: Adversary, text: str, *fragments: str) -> str:
    """Run the pipeline: exit 2, no request reached the sandbox, every fragment in stderr."""
    adversary.write("contacts.csv", CONTACTS)
    path = adversary.write("p.yaml", text)
    run = await adversary.run("run", str(path), "--no-progress")
    assert run.code == 2, run
    assert adversary.sandbox is not None
    assert adversary.sandbox.state.request_log.total == 0, "a request was made before the refusal"
    for fragment in fragments:
        assert fragment in run.stderr, run
    adversary.assert_clean(run)
    return run.stderr


async def validated(offline: Adversary, text: str, code: int) -> str:
    offline.write("contacts.csv", CONTACTS)
    path = offline.write("p.yaml", text)
    run = await offline.run("validate", str(path))
    assert run.code == code, run
    offline.assert_clean(run)
    return run.stderr


# --- step references ------------------------------------------------------------------------------


async def test_a_reference_to_a_later_step_is_refused_before_the_first_step_creates_anything(
    adversary: Adversary,
) -> None:
    """Found today only after step 1 had created an application per item."""
    read_later = """
    - name: Read
      node: plivo
      parameters:
        resource: application
        operation: get
        app_id: "={{ $('Delete').item.json.id }}"
    """
    delete = """
    - name: Delete
      node: plivo
      parameters:
        resource: application
        operation: delete
        app_id: "={{ $('Create').item.json.app_id }}"
    """
    await refused_before_sending(
        adversary,
        steps_file(CREATE_APP, read_later, delete),
        "step 'Read': parameters.app_id: $('Delete'): 'Delete' is step 3, after this one (step 2)",
    )


async def test_an_unknown_step_in_the_node_form_is_refused_with_a_suggestion(
    adversary: Adversary,
) -> None:
    read = """
    - name: Read
      node: plivo
      parameters:
        resource: application
        operation: get
        app_id: '={{ $node["Craete"].json.app_id }}'
    """
    await refused_before_sending(
        adversary,
        steps_file(CREATE_APP, read),
        "step 'Read': parameters.app_id: $node[\"Craete\"]: there is no step named 'Craete'; "
        "did you mean 'Create'?",
    )


async def test_a_step_reading_itself_is_refused(offline: Adversary) -> None:
    stderr = await validated(
        offline, steps_file(send_step(message="\"={{ $('Send').item.json.x }}\"")), 2
    )
    assert "step 'Send': parameters.message: $('Send'): 'Send' is this step itself" in stderr


async def test_references_to_earlier_steps_and_dynamic_names_are_not_refused(
    offline: Adversary,
) -> None:
    """No false alarm: an earlier step, and a name computed per item, cannot be judged wrong."""
    read = """
    - name: Read
      node: plivo
      parameters:
        resource: application
        operation: get
        app_id: "={{ $('Create').item.json.app_id }}{{ $($json.step) ? '' : '' }}"
    """
    await validated(offline, steps_file(CREATE_APP, read), 0)


# --- {{ }} without = ------------------------------------------------------------------------------


async def test_a_template_without_the_equals_sign_is_refused_not_sent_literally(
    adversary: Adversary,
) -> None:
    await refused_before_sending(
        adversary,
        steps_file(send_step(message='"Hi {{ $json.name }}"')),
        "step 'Send': parameters.message: the value contains {{ … }} but does not start with '='",
        "start the value with =",
    )


async def test_a_template_without_equals_inside_a_collection_names_the_field(
    offline: Adversary,
) -> None:
    update = """
    - name: Update
      node: plivo
      parameters:
        resource: application
        operation: update
        app_id: "123"
        updateFields:
          answer_url: "https://example.com/{{ $json.path }}"
    """
    stderr = await validated(offline, steps_file(update), 2)
    assert "parameters.updateFields.answer_url: the value contains {{ … }}" in stderr
    # Reported once, as a missing '=', not a second time as a bad URL.
    assert stderr.count("updateFields.answer_url") == 1


# --- constants checked as the handlers check them -------------------------------------------------


async def test_a_bad_constant_sender_is_refused_before_any_send(adversary: Adversary) -> None:
    await refused_before_sending(
        adversary,
        steps_file(send_step(**{"from": '"+1 not-a-number!"'})),
        "step 'Send': parameters.from: '+1 not-a-number!' is not a valid phone number",
    )


async def test_a_bad_constant_callback_url_of_a_call_is_refused(adversary: Adversary) -> None:
    call = """
    - name: Call
      node: plivo
      parameters:
        resource: call
        operation: make
        from: "+14155550100"
        to: "={{ $json.phone }}"
        answer_url: "ftp://example.com/answer.xml"
        additionalFields:
          ring_url: "example.com/ring"
    """
    await refused_before_sending(
        adversary,
        steps_file(call),
        "step 'Call': parameters.answer_url: Answer URL 'ftp://example.com/answer.xml' is not "
        "an http(s) URL",
        "step 'Call': parameters.additionalFields.ring_url: Ring URL 'example.com/ring'",
    )


@pytest.mark.parametrize(
    ("step", "fragment"),
    [
        (
            (
                "- name: S\n  node: plivo\n  parameters:\n    resource: application\n"
                "    operation: get\n    app_id: app-12\n"
            ),
            "step 'S': parameters.app_id: Application ID 'app-12' is not a valid id",
        ),
        (
            (
                "- name: S\n  node: plivo\n  parameters:\n    resource: pricing\n"
                "    operation: get\n    country_iso: USA\n"
            ),
            "step 'S': parameters.country_iso: Country ISO 'USA' is not a two-letter",
        ),
        (
            (
                "- name: S\n  node: plivo\n  parameters:\n    resource: number\n"
                "    operation: get\n    number: '12'\n"
            ),
            "step 'S': parameters.number: '12' is not a phone number",
        ),
        (
            (
                "- name: S\n  node: plivo\n  parameters:\n    resource: sms\n    operation: send\n"
                '    from: "+14155550100"\n    to: "+14155550101<+1415"\n    message: hi\n'
            ),
            "step 'S': parameters.to: '+1415' (destination 2 of 2) is not a valid phone number",
        ),
    ],
    ids=["app-id", "country-iso", "rented-number", "second-destination"],
)
async def test_bad_constant_ids_and_numbers_fail_validate(
    offline: Adversary, step: str, fragment: str
) -> None:
    stderr = await validated(offline, steps_file(step, header=""), 2)
    assert fragment in stderr


async def test_a_sender_a_powerpack_replaces_is_not_checked(offline: Adversary) -> None:
    """The handler never reads From when a Powerpack is set: neither may validate."""
    step = send_step(**{"from": "not-a-sender-id-at-all"}) + (
        "    additionalFields:\n      powerpack_uuid: d3f2-pp\n"
    )
    await validated(offline, steps_file(step), 0)


# --- input ----------------------------------------------------------------------------------------


async def test_a_field_missing_from_the_csv_header_is_a_warning_naming_everything(
    offline: Adversary,
) -> None:
    stderr = await validated(
        offline, steps_file(send_step(message='"=Hi {{ $json.first_name }}"')), 0
    )
    assert (
        "plivo-node: warning: step 'Send': parameters.message reads $json.first_name, but "
        "contacts.csv has no column 'first_name' (its columns: name, phone)"
    ) in stderr


async def test_the_header_warning_follows_the_input_given_on_the_command_line(
    adversary: Adversary,
) -> None:
    """--input replaces the pipeline's input: its header is the one checked, and it runs."""
    adversary.write("contacts.csv", CONTACTS)
    adversary.write("other.csv", "mobile,name\n+14155550103,Cy\n")
    path = adversary.write("p.yaml", steps_file(send_step()))
    run = await adversary.run("run", str(path), "--input", "other.csv", "--no-progress")
    assert "parameters.to reads $json.phone, but other.csv has no column 'phone'" in run.stderr
    assert "contacts.csv" not in run.stderr
    assert run.code == 1, run  # the item fails on its empty To; nothing else is refused
    assert adversary.messages_sent() == 0
    adversary.assert_clean(run)


async def test_a_missing_input_file_fails_validate(offline: Adversary) -> None:
    path = offline.write("p.yaml", steps_file(send_step(), header="input: nowhere.csv\n"))
    run = await offline.run("validate", str(path))
    assert run.code == 2, run
    assert "input file" in run.stderr
    assert "nowhere.csv does not exist" in run.stderr


# --- the smaller details --------------------------------------------------------------------------


async def test_parameters_as_n8n_saves_them_run_unchanged(adversary: Adversary) -> None:
    """n8n omits parameters at their default: resource sms, operation send."""
    step = (
        "- name: Plivo\n  node: plivo\n  parameters:\n"
        '    from: "+14155550100"\n    to: "={{ $json.phone }}"\n    message: hi\n'
    )
    adversary.write("contacts.csv", CONTACTS)
    path = adversary.write("p.yaml", steps_file(step))
    run = await adversary.run("run", str(path), "--no-progress")
    assert run.code == 0, run
    assert adversary.messages_sent() == 2
    adversary.assert_sent_at_most_once()


async def test_a_call_sends_only_what_the_user_set(adversary: Adversary) -> None:
    call = """
    - name: Call
      node: plivo
      parameters:
        resource: call
        operation: make
        from: "+14155550100"
        to: "={{ $json.phone }}"
        answer_url: https://example.com/answer.xml
        additionalFields:
          hangup_on_ring: 20
    """
    adversary.write("contacts.csv", CONTACTS)
    path = adversary.write("p.yaml", steps_file(call))
    run = await adversary.run("run", str(path), "--no-progress")
    assert run.code == 0, run
    assert adversary.sandbox is not None
    bodies = [r.body or {} for r in adversary.sandbox.state.request_log if r.method == "POST"]
    assert len(bodies) == 2
    for body in bodies:
        assert set(body) == {"from", "to", "answer_url", "answer_method", "hangup_on_ring"}


async def test_an_optional_call_number_at_the_top_level_is_pointed_to_its_collection(
    adversary: Adversary,
) -> None:
    call = """
    - name: Call
      node: plivo
      parameters:
        resource: call
        operation: make
        from: "+14155550100"
        to: "={{ $json.phone }}"
        answer_url: https://example.com/answer.xml
        machine_detection_time: 3000
    """
    await refused_before_sending(
        adversary,
        steps_file(call),
        "parameters.machine_detection_time: for call make this is a field of 'Additional Fields'",
        "move it under additionalFields",
    )


async def test_a_hangup_on_ring_below_the_manifests_bound_is_refused(
    adversary: Adversary,
) -> None:
    call = """
    - name: Call
      node: plivo
      parameters:
        resource: call
        operation: make
        from: "+14155550100"
        to: "={{ $json.phone }}"
        answer_url: https://example.com/answer.xml
        additionalFields:
          hangup_on_ring: 0
    """
    await refused_before_sending(
        adversary,
        steps_file(call),
        "parameters.additionalFields.hangup_on_ring: 0 is below the minimum of 1",
    )


async def test_the_cost_lookup_can_be_switched_off(adversary: Adversary) -> None:
    adversary.write("contacts.csv", CONTACTS)
    header = "input: contacts.csv\noutput: out.jsonl\nsettings:\n  costEstimate: false\n"
    path = adversary.write("p.yaml", steps_file(send_step(), header=header))
    run = await adversary.run("run", str(path), "--no-progress")
    assert run.code == 0, run
    assert "estimated cost" not in run.stderr
    assert adversary.sandbox is not None
    assert not [r for r in adversary.sandbox.state.request_log if "Pricing" in r.path]


@pytest.mark.slow
async def test_no_progress_prints_no_progress(adversary: Adversary) -> None:
    """--no-progress still wrote a 'progress:' line every 5 s into logs."""
    rows = "".join(f"P{n},+1415555{n:04d}\n" for n in range(110, 140))
    adversary.write("contacts.csv", "name,phone\n" + rows)
    header = "input: contacts.csv\noutput: out.jsonl\nsettings:\n  messagesPerSecond: 5\n"
    path = adversary.write("p.yaml", steps_file(send_step(), header=header))
    run = await adversary.run("run", str(path), "--no-progress")
    assert run.code == 0, run
    assert adversary.messages_sent() == 30  # 6 s at 5/s: past the 5 s progress interval
    assert "progress:" not in run.stderr
    assert "items" in run.stderr  # the summary is still printed


async def test_credentials_without_a_subcommand_prints_its_help(offline: Adversary) -> None:
    run = await offline.run("credentials")
    assert run.code == 2, run
    assert "usage: plivo-node credentials" in run.stderr
    assert "check the configured credentials" in run.stderr
