"""Misused inputs, through the CLI: never a traceback, and a stop before anything is sent
whenever the problem can be known up front (exit 2); a bad row further on stops the run with
the rows before it sent once (exit 1).

Each case is one misuse: input files (depth, numbers, NaN, encodings, binary, shape, short
rows, pipes, stdin), pipeline files (encoding, paths, YAML aliases and nesting, numbers) and
a damaged journal.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from typing import Any

import pytest

from tests.adversarial.conftest import SMS_SEND_STEPS, Adversary, CliRun

STEPS = SMS_SEND_STEPS
PIPELINE = "version: 1\noutput: out.jsonl\n" + STEPS
PHONES = [f"+1415555{n:04d}" for n in range(101, 111)]


def csv_rows(count: int) -> str:
    return "".join(f"N{n},{PHONES[n]}\n" for n in range(count))


def strict_json(text: str) -> Any:
    def refuse(name: str) -> Any:
        raise ValueError(f"{name} is not JSON")

    return json.loads(text, parse_constant=refuse)


def output_lines(adversary: Adversary) -> list[Any]:
    path = adversary.root / "out.jsonl"
    if not path.exists():
        return []
    return [strict_json(line) for line in path.read_text(encoding="utf-8").splitlines()]


async def run_with_input(adversary: Adversary, name: str, data: str | bytes, *extra: str) -> CliRun:
    adversary.write(name, data)
    pipeline = adversary.write("p.yaml", PIPELINE)
    return await adversary.run("run", str(pipeline), "--input", name, "--no-progress", *extra)


async def assert_refused_up_front(
    adversary: Adversary, name: str, data: str | bytes, *needles: str
) -> CliRun:
    """Exit 2, nothing sent, a message naming the file and what is wrong, no secret."""
    run = await run_with_input(adversary, name, data)
    assert run.code == 2, run
    assert adversary.messages_sent() == 0
    for needle in (name, *needles):
        assert needle in run.stderr, run
    adversary.assert_clean(run)
    return run


# --- input files: found before the first send --------------------------------------------


@pytest.mark.parametrize("name", ["deep.jsonl", "deep.json"])
async def test_json_nested_100000_deep(adversary: Adversary, name: str) -> None:
    deep = '{"phone": "+14155550101", "x": ' + "[" * 100_000 + "]" * 100_000 + "}"
    data = deep + "\n" if name.endswith(".jsonl") else f"[{deep}]"
    await assert_refused_up_front(adversary, name, data, "nested more than 100 levels deep")


async def test_a_5000_digit_number(adversary: Adversary) -> None:
    data = '{"phone": "+14155550101", "n": ' + "7" * 5000 + "}\n"
    await assert_refused_up_front(adversary, "big.jsonl", data, "line 1", "more than 4300 digits")


async def test_nan_in_the_first_row(adversary: Adversary) -> None:
    data = '[{"phone": "+14155550101", "score": NaN}]'
    await assert_refused_up_front(adversary, "nan.json", data, "NaN is not a JSON value")


async def test_a_lone_surrogate_escape(adversary: Adversary) -> None:
    data = '{"phone": "+14155550101", "name": "\\ud83d"}\n'
    await assert_refused_up_front(adversary, "s.jsonl", data, "half of a surrogate pair")


async def test_invalid_utf8_on_the_last_line_is_found_before_the_first_send(
    adversary: Adversary,
) -> None:
    data = ("name,phone\n" + csv_rows(5)).encode() + b"Jos\xe9,+14155550110\n"
    await assert_refused_up_front(adversary, "latin1.csv", data, "line 7 is not UTF-8 text")


async def test_a_utf16_spreadsheet_export(adversary: Adversary) -> None:
    data = ("name,phone\n" + csv_rows(2)).encode("utf-16")
    await assert_refused_up_front(adversary, "u16.csv", data, "UTF-16 text, not UTF-8")


async def test_a_binary_file_named_csv(adversary: Adversary) -> None:
    data = b"name,phone\nPK\x03\x04\x00\x00\x08\x00,+14155550101\n"
    await assert_refused_up_front(adversary, "zip.csv", data, "line 2 holds a NUL byte")


async def test_duplicate_csv_headers(adversary: Adversary) -> None:
    data = "phone,name,phone\n+14155550101,A,+14155550102\n"
    await assert_refused_up_front(adversary, "dup.csv", data, "names column 'phone' twice")


async def test_a_json_file_that_is_not_an_array(adversary: Adversary) -> None:
    data = '{"phone": "+14155550101", "name": "A"}\n'
    await assert_refused_up_front(adversary, "one.json", data, "one JSON array")


async def test_a_short_first_row(adversary: Adversary) -> None:
    data = "name,phone,city\nA,+14155550101\n"
    await assert_refused_up_front(adversary, "short.csv", data, "line 2: the row has 2 fields")


async def test_jsonl_read_as_csv(adversary: Adversary) -> None:
    adversary.write("rows.jsonl", '{"phone": "+14155550101", "name": "A"}\n')
    pipeline = adversary.write("p.yaml", PIPELINE)
    run = await adversary.run(
        "run", str(pipeline), "--input", "rows.jsonl", "--input-format", "csv", "--no-progress"
    )
    assert run.code == 2, run
    assert "looks like JSON, not CSV" in run.stderr
    assert adversary.messages_sent() == 0


async def test_a_directory_as_input(adversary: Adversary) -> None:
    (adversary.root / "contacts.csv").mkdir()
    pipeline = adversary.write("p.yaml", PIPELINE)
    run = await adversary.run("run", str(pipeline), "--input", "contacts.csv", "--no-progress")
    assert run.code == 2, run
    assert "is a directory" in run.stderr
    assert adversary.messages_sent() == 0


async def test_invalid_utf8_on_stdin(adversary: Adversary) -> None:
    pipeline = adversary.write("p.yaml", PIPELINE)
    stdin = b'{"phone": "+14155550101", "name": "Jos\xe9"}\n'
    run = await adversary.run(
        "run",
        str(pipeline),
        "--input",
        "-",
        "--no-progress",
        stdin=stdin,
        env=adversary.env(LC_ALL="C", PYTHONIOENCODING=None),
    )
    assert run.code == 2, run
    assert "stdin is not UTF-8 text" in run.stderr
    assert adversary.messages_sent() == 0


# --- input files: accepted as they are meant ---------------------------------------------


async def test_a_spreadsheet_csv_with_bom_and_crlf(adversary: Adversary) -> None:
    data = b"\xef\xbb\xbfname,phone\r\nAda,+14155550101\r\nBo,+14155550102\r\n"
    run = await run_with_input(adversary, "excel.csv", data)
    assert run.code == 0, run
    assert adversary.messages_sent() == 2
    adversary.assert_sent_at_most_once()
    assert adversary.sandbox is not None
    texts = sorted(str(message) for message in adversary.sandbox.state.messages)
    assert "Hi Ada" in texts[0], texts  # the column is "name", not "\ufeffname"


async def test_a_named_pipe_is_sent_once_not_consumed_by_counting(adversary: Adversary) -> None:
    fifo = adversary.root / "pipe.csv"
    os.mkfifo(fifo)

    def feed() -> None:
        with fifo.open("w", encoding="utf-8") as pipe:
            pipe.write("name,phone\n" + csv_rows(3))

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    pipeline = adversary.write("p.yaml", PIPELINE)
    run = await adversary.run("run", str(pipeline), "--input", "pipe.csv", "--no-progress")
    writer.join(timeout=10)
    assert run.code == 0, run
    assert adversary.messages_sent() == 3
    adversary.assert_sent_at_most_once()


async def test_nesting_at_the_bound_goes_through_and_out_as_json(adversary: Adversary) -> None:
    deep: Any = "leaf"
    for _ in range(98):
        deep = {"d": deep}
    data = json.dumps({"phone": "+14155550101", "name": "A", "deep": deep}) + "\n"
    run = await run_with_input(adversary, "deep.jsonl", data)
    assert run.code == 0, run
    assert adversary.messages_sent() == 1
    assert len(output_lines(adversary)) == 1


# --- a bad row further on: exit 1, the rows before it sent once --------------------------


@pytest.mark.parametrize(
    ("name", "bad_row", "needle"),
    [
        ("mid.csv", "X,+14155550199,extra\n", "line 4: the row has 3 fields"),
        ("mid-short.csv", "X\n", "line 4: the row has 1 field but"),
        ("mid.jsonl", '{"phone": "+14155550199", "n": Infinity}\n', "line 3: Infinity is not"),
    ],
)
async def test_a_bad_row_in_the_middle_stops_after_the_rows_before_it(
    adversary: Adversary, name: str, bad_row: str, needle: str
) -> None:
    if name.endswith(".csv"):
        data = "name,phone\n" + csv_rows(2) + bad_row + csv_rows(4)[len(csv_rows(2)) :]
    else:
        rows = [json.dumps({"name": f"N{n}", "phone": PHONES[n]}) for n in range(2)]
        data = "\n".join(rows) + "\n" + bad_row + json.dumps({"phone": PHONES[3]}) + "\n"
    run = await run_with_input(adversary, name, data)
    assert run.code == 1, run
    assert needle in run.stderr, run
    assert adversary.messages_sent() == 2
    adversary.assert_sent_at_most_once()
    assert all(line["json"] for line in output_lines(adversary))
    adversary.assert_clean(run)


# --- pipeline files ----------------------------------------------------------------------


async def validate(adversary: Adversary, text: str | bytes) -> CliRun:
    pipeline = adversary.write("p.yaml", text)
    run = await adversary.run("validate", str(pipeline), limit_seconds=30)
    assert run.code == 2, run
    adversary.assert_clean(run)
    return run


async def test_a_yaml_alias_bomb_is_refused_at_once(offline: Adversary) -> None:
    levels = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    levels += [f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 9)}]" for n in range(1, 9)]
    run = await validate(offline, "version: 1\n" + "\n".join(levels) + "\n" + STEPS)
    assert "aliases (*name) expand it to over 1,000,000 characters" in run.stderr
    assert len(run.stderr) < 2000


async def test_yaml_nested_100000_deep(offline: Adversary) -> None:
    run = await validate(offline, "version: 1\nx: " + "[" * 100_000 + "]" * 100_000 + STEPS)
    assert "nested more than 100 levels deep" in run.stderr


async def test_a_pipeline_file_that_is_not_utf8(offline: Adversary) -> None:
    text = PIPELINE.replace("Hi", "Ol\xe1").encode("latin-1")
    run = await validate(offline, text)
    assert "is not UTF-8 text" in run.stderr
    assert "line 12" in run.stderr


async def test_an_input_under_an_unknown_user(offline: Adversary) -> None:
    run = await validate(offline, PIPELINE.replace("output:", "input: ~nouser-x7/a.csv\noutput:"))
    assert "there is no user 'nouser-x7'" in run.stderr


@pytest.mark.parametrize(
    ("setting", "needle"),
    [
        ("timeoutSeconds: .inf", "'.inf' is not a finite number"),
        ("concurrency: " + "9" * 5000, "more than 4300 digits"),
    ],
)
async def test_settings_numbers_json_cannot_hold(
    offline: Adversary, setting: str, needle: str
) -> None:
    run = await validate(offline, PIPELINE.replace("steps:", f"settings:\n  {setting}\nsteps:"))
    assert needle in run.stderr


@pytest.mark.slow
async def test_megabyte_values_and_keys_give_short_messages(offline: Adversary) -> None:
    huge = "x" * 1_000_000
    text = PIPELINE.replace("output: out.jsonl", f"output: {{k: {huge}}}\n? {huge}\n: 1")
    run = await validate(offline, text)
    assert "output: {'k': 'xxxx" in run.stderr
    assert "Additional properties are not allowed" in run.stderr
    assert len(run.stderr) < 2000


# --- a damaged journal ---------------------------------------------------------------------


@pytest.mark.slow
async def test_a_corrupted_journal_row_stops_a_resume_with_nothing_sent(
    adversary: Adversary,
) -> None:
    adversary.write("contacts.csv", "name,phone\n" + csv_rows(4))
    pipeline = adversary.write(
        "p.yaml", PIPELINE.replace("output:", "input: contacts.csv\noutput:")
    )
    first = await adversary.run("run", str(pipeline), "--no-progress")
    assert first.code == 0, first
    journal = adversary.root / "out.jsonl.journal.sqlite"
    with sqlite3.connect(journal) as connection:
        connection.execute("UPDATE run SET finished_at = NULL")
        connection.execute("UPDATE item SET outputs = '[{\"json\": ' WHERE idx = 2")
    connection.close()
    run = await adversary.run("run", str(pipeline), "--no-progress", "--resume")
    assert run.code == 2, run
    assert f"the run journal {journal} is damaged: step 0, item 2" in run.stderr
    assert "--restart" in run.stderr
    assert adversary.messages_sent() == 4  # the first run's, none more
    adversary.assert_sent_at_most_once()
    adversary.assert_clean(first, run)
