"""`plivo-node suppression list | add | remove | import`."""

from __future__ import annotations

from pathlib import Path

import pytest

from plivo_node.cli import EXIT_OK, EXIT_USAGE, main
from plivo_node.nodes.plivo.suppression import opened


def numbers() -> dict[str, tuple[str, str]]:
    with opened() as suppression:
        return {e.number: (e.source, e.reason) for e in suppression.entries()}


def test_add_list_remove(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["suppression", "add", "+1 (415) 555-0101", "--reason", "asked by phone"]) == 0
    assert main(["suppression", "add", "14155550101"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "+14155550101 added" in out
    assert "already on the list: +14155550101 is suppressed since" in out
    assert numbers() == {"14155550101": ("manual", "asked by phone")}
    assert main(["suppression", "list"]) == EXIT_OK
    table = capsys.readouterr().out.splitlines()
    assert table[0].split() == ["number", "reason", "source", "since", "via"]
    assert table[1].startswith("+14155550101  asked by phone  manual  20")
    assert table[-1] == "1 numbers"
    assert main(["suppression", "list", "--csv"]) == EXIT_OK
    rows = capsys.readouterr().out.splitlines()
    assert rows[0] == "number,reason,source,since,via"
    assert rows[1].startswith("+14155550101,asked by phone,manual,20")
    assert main(["suppression", "remove", "+14155550101"]) == EXIT_OK
    assert main(["suppression", "remove", "+14155550101"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "+14155550101 removed" in out
    assert "+14155550101 was not on the suppression list" in out
    assert numbers() == {}


def test_a_bad_number_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["suppression", "add", "12345"]) == EXIT_USAGE
    assert "'12345' is not a valid phone number" in capsys.readouterr().err
    assert numbers() == {}


def test_import_csv_reports_added_already_and_invalid_rows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["suppression", "add", "+14155550103"])
    path = tmp_path / "optouts.csv"
    path.write_text(
        "\ufeffName,Number,Reason\n"  # a spreadsheet's byte-order mark and capitals
        "Ada,+14155550101,complaint\n"
        "Bad,999,\n"
        "\n"
        "Ada again,+1 415 555 0101,\n"
        "Cy,+14155550103,\n"
        "Di,+442079460000,\n"
    )
    capsys.readouterr()
    assert main(["suppression", "import", str(path)]) == EXIT_OK
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "added 2, already suppressed 2, invalid 1"
    assert out[1] == "  row 3: '999' is not a valid phone number"
    assert numbers() == {
        "14155550101": ("import", "complaint"),
        "14155550103": ("manual", "added by hand"),
        "442079460000": ("import", "imported"),
    }


def test_import_one_number_a_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "optouts.txt"
    path.write_text("+14155550101\n\n14155550102\nnot a number\n")
    assert main(["suppression", "import", str(path), "--reason", "old CRM export"]) == EXIT_OK
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "added 2, already suppressed 0, invalid 1",
        "  row 4: 'not a number' is not a valid phone number",
    ]
    assert numbers()["14155550102"] == ("import", "old CRM export")


def test_import_refuses_a_csv_without_a_number_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "contacts.csv"
    path.write_text("name,phone\nAda,+14155550101\n")
    assert main(["suppression", "import", str(path)]) == EXIT_USAGE
    assert "none is named 'number'" in capsys.readouterr().err
    assert numbers() == {}


def test_suppression_without_a_subcommand_is_a_usage_error() -> None:
    with pytest.raises(SystemExit) as exited:
        main(["suppression"])
    assert exited.value.code == EXIT_USAGE
