"""The ``espview`` command: exit codes and one-line messages (ARCHITECTURE.md, "Command line")."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from core import cli


def _run(args: list[str]) -> tuple[int, str]:
    out = io.StringIO()
    return cli.main(args, out=out), out.getvalue()


def test_unusable_input_is_exit_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    junk = tmp_path / "holiday.jpg"
    junk.write_bytes(b"\xff\xd8\xff\xe0 not evidence")
    code, out = _run(["report", str(junk), "--json"])
    err = capsys.readouterr().err
    assert code == cli.EXIT_UNUSABLE
    assert out == ""
    assert err.count("\n") == 1
    assert "holiday.jpg" in err
    assert "Traceback" not in err


def test_missing_path_is_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _ = _run(["events", str(tmp_path / "nope.cab")])
    assert code == cli.EXIT_UNUSABLE
    assert "no such file" in capsys.readouterr().err


def test_internal_error_is_exit_3_with_crash_log(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    def boom(args: object, out: object) -> int:
        raise ZeroDivisionError("bug")

    monkeypatch.setattr(cli, "cmd_events", boom)
    code, _ = _run(["events", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == cli.EXIT_INTERNAL
    assert err.startswith("espview: internal error: ZeroDivisionError: bug")
    assert "Traceback" not in err


def test_subcommand_usage_error_is_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        cli.main(["report", "--json", "--text"])
    assert exc.value.code == 2
    assert "not allowed with" in capsys.readouterr().err


def test_events_json_is_one_object_per_line() -> None:
    import json

    code, out = _run(["events", "--sample", "--json"])
    assert code == cli.EXIT_OK
    lines = out.splitlines()
    assert lines
    for line in lines:
        event = json.loads(line)
        assert list(event) == [
            "time", "channel", "provider", "event_id", "level", "record_id", "data", "origin",
            "message",
        ]
        assert event["message"]
        assert event["time"].endswith("Z")
        assert "#" in event["origin"]


def test_registry_prints_a_key_tree_and_rejects_a_missing_key() -> None:
    key = r"HKLM\SOFTWARE\Microsoft\Provisioning\AutopilotSettings"
    code, out = _run(["registry", "--sample", key])
    assert code == cli.EXIT_OK
    assert "DeviceSetupCategory.Status" in out
    code, out = _run(["registry", "--sample", r"HKLM\SOFTWARE\NoSuchKey"])
    assert code == cli.EXIT_UNUSABLE


def test_report_on_the_sample_in_every_format(tmp_path: Path) -> None:
    import json

    code, out = _run(["report", "--sample", "--json"])
    assert code == cli.EXIT_OK
    assert json.loads(out)["schema"] == "espview.report/1"
    code, out = _run(["report", "--sample", "--text"])
    assert out.splitlines()[0].startswith("FAILED at Device setup › Apps")
    html = tmp_path / "r.html"
    code, _ = _run(["report", "--sample", "--html", str(html)])
    assert code == cli.EXIT_OK
    assert html.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_code_looks_up_every_notation() -> None:
    code, out = _run(["code", "0x87D1041C", "-2016345060", "3399942148", "1603"])
    assert code == cli.EXIT_OK
    assert out.count("0x87D1041C") == 2
    assert "ERROR_INET_RESOURCE_NOT_FOUND" in out
    assert "ERROR_INSTALL_FAILURE" in out
    assert "First step" in out
    assert "Source" in out


def test_code_json_has_the_documented_fields() -> None:
    import json

    code, out = _run(["code", "0x81036502", "--json"])
    assert code == cli.EXIT_OK
    (row,) = json.loads(out)
    assert list(row) == ["input", "code", "known", "name", "meaning", "facility",
                         "facility_number", "cause", "first_step", "source", "cause_source"]
    assert row["code"] == "0x81036502"
    assert row["known"] is True


def test_code_unknown_is_exit_1_with_facility() -> None:
    code, out = _run(["code", "0x8018FFFF", "0x80070005"])
    assert code == cli.EXIT_PROBLEMS
    assert "unknown code" in out
    assert "MDM enrollment" in out


def test_code_not_a_number_is_exit_2_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, _ = _run(["code", "0x80070005", "banana"])
    err = capsys.readouterr().err
    assert code == cli.EXIT_UNUSABLE
    assert err.count("\n") == 1
    assert "banana" in err
    assert "Traceback" not in err


def test_report_on_a_lone_side_file_is_a_valid_report(tmp_path: Path) -> None:
    """A single ``AutopilotDDSZTDFile.json`` opened on its own: source kind ``json``, and the
    report (validated against the schema in the test run) says what the file holds."""
    import json

    ztd = tmp_path / "AutopilotDDSZTDFile.json"
    ztd.write_text(json.dumps({"PolicyDownloadDate": "2024-04-02T10:00:00Z"}), encoding="utf-8")
    code, out = _run(["report", str(ztd), "--json"])
    assert code in (0, 1)
    assert json.loads(out)["source"]["kind"] == "json"


def _process(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )


def test_a_finished_one_shot_command_ends_the_process_with_its_exit_handlers_run() -> None:
    # run() skips tearing the objects down, not the exit handlers, the output or the code.
    done = _process(
        "import atexit, sys\n"
        "from core import cli\n"
        "atexit.register(lambda: print('handler ran', file=sys.stderr))\n"
        "class Kept:\n"
        "    def __del__(self): print('torn down', file=sys.stderr)\n"
        "kept = Kept()\n"
        "sys.argv = ['espview', 'report', '--sample', '--json']\n"
        "cli.run()\n"
    )
    assert done.returncode == cli.EXIT_OK
    assert json.loads(done.stdout)["schema"] == "espview.report/1"
    assert done.stderr.strip() == "handler ran"


def test_run_exits_with_the_command_s_code() -> None:
    done = _process(
        "import sys\nfrom core import cli\nsys.argv = ['espview', 'code', '0x1234567']\ncli.run()\n"
    )
    assert done.returncode == 1  # an unknown code, after a finished one-shot command
    assert "0x01234567" in done.stdout
    done = _process(
        "import sys\nfrom core import cli\nsys.argv = ['espview', 'report']\ncli.run()\n"
    )
    assert done.returncode == cli.EXIT_UNUSABLE
