"""The ``espview`` command.

``espview [PATH] [--sample] [--live] [--screenshot PNG]`` opens the desktop app; the
subcommands ``report``, ``extract``, ``events``, ``registry``, ``code`` and ``cache`` work
headless. :func:`main` is the edge: it reads the environment once into
:class:`core.config.Settings`.

Exit codes (ARCHITECTURE.md, "Command line"): 0 ok; 1 read, but with problems; 2 unusable
input (one line on stderr, no traceback); 3 internal error (one line on stderr, details in a
crash log).
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import logging
import os
import sys
import threading
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn, TextIO

from core import __version__, config
from core.config import Settings
from core.errors import Cancelled, EspViewError
from core.paths import cache_dir, resource_path
from core.perf import gc_paused

log = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_UNUSABLE = 2
EXIT_INTERNAL = 3

SUBCOMMANDS = ("report", "extract", "events", "registry", "diff", "batch", "code", "cache")


def sample_path() -> Path:
    """The bundled synthetic capture (``resources/samples/sample.cab``)."""
    return resource_path("samples", "sample.cab")


def _input_path(args: argparse.Namespace) -> Path:
    if getattr(args, "sample", False):
        return sample_path()
    if args.path is None:
        raise EspViewError("no input: give a PATH or --sample")
    return Path(args.path)


# -- subcommands ---------------------------------------------------------------------------


def _settings(args: argparse.Namespace) -> Settings:
    """The settings :func:`main` read at start-up (the current ones when called directly)."""
    found = getattr(args, "settings", None)
    return found if isinstance(found, Settings) else config.current()


def cmd_extract(args: argparse.Namespace, out: TextIO) -> int:
    from core.outputs import check_output_folder, refuse_input_targets  # noqa: PLC0415
    from core.problems import Problem  # noqa: PLC0415
    from core.sources.cab import CabFile, extract_cab  # noqa: PLC0415 - heavy, load on use
    from core.sources.container import open_regular  # noqa: PLC0415

    cab, dest = Path(args.cab), Path(args.dest)
    _check_readable(cab, open_regular)
    check_output_folder(dest, [cab])
    with CabFile(cab) as parsed:
        declared = len(parsed.members)
        refuse_input_targets(parsed.targets(dest), [cab])
    problems: list[Problem] = []
    written = extract_cab(cab, dest, problems=problems, settings=_settings(args))
    print(f"{len(written)} of {declared} members extracted to {dest}", file=out)
    _print_problems(problems)
    return EXIT_PROBLEMS if problems else EXIT_OK


def _check_readable(path: Path, open_regular: Callable[[Path], int]) -> None:
    """One line for a missing, special or unreadable input (not "not a cab")."""
    try:
        os.close(open_regular(path))
    except FileNotFoundError:
        raise EspViewError(f"{path}: no such file") from None
    except OSError as exc:
        raise EspViewError(f"{path}: cannot read: {exc.strerror or exc}") from None


def cmd_cache(args: argparse.Namespace, out: TextIO) -> int:
    from core.sources.container import cache_usage, clear_cache  # noqa: PLC0415

    if args.clear:
        folder, freed = clear_cache(_settings(args))
        print(f"cache {folder} cleared: {freed / 1024**2:,.1f} MB freed", file=out)
    else:
        folder, count, size = cache_usage(_settings(args))
        print(f"cache {folder}: {count} extraction(s), {size / 1024**2:,.1f} MB", file=out)
    return EXIT_OK


def cmd_events(args: argparse.Namespace, out: TextIO) -> int:
    from core.events.render import event_to_json, format_event_line  # noqa: PLC0415
    from core.evidence import load_evidence  # noqa: PLC0415

    evidence = load_evidence(_input_path(args), settings=_settings(args))
    if args.json:
        import json  # noqa: PLC0415

        write = out.write
        for record in evidence.events:
            write(json.dumps(event_to_json(record), ensure_ascii=False, separators=(",", ":")))
            write("\n")
    else:
        for record in evidence.events:
            print(format_event_line(record), file=out)
    _print_problems(evidence.problems)
    return EXIT_PROBLEMS if evidence.problems else EXIT_OK


def cmd_registry(args: argparse.Namespace, out: TextIO) -> int:
    from core.evidence import load_evidence  # noqa: PLC0415
    from core.registry.render import format_tree  # noqa: PLC0415

    if args.sample and args.path is not None and args.key is None:
        args.key, args.path = args.path, None  # `registry --sample KEY`: the one word is KEY
    evidence = load_evidence(_input_path(args), settings=_settings(args))
    printed = format_tree(evidence.registry, args.key, out, max_depth=args.depth)
    if args.key and printed == 0:
        print(f"espview: key not found: {args.key}", file=sys.stderr)
        return EXIT_UNUSABLE
    # Lazy readers (hives) find damage while the tree is walked: report that too.
    problems = list(evidence.problems)
    problems += evidence.late_problems(problems)
    _print_problems(problems)
    return EXIT_PROBLEMS if problems else EXIT_OK


def cmd_report(args: argparse.Namespace, out: TextIO) -> int:
    from core.esp.analyze import analyze  # noqa: PLC0415
    from core.evidence import load_evidence  # noqa: PLC0415
    from core.fleet.commands import redact_if_asked  # noqa: PLC0415
    from core.report.common import exit_code_for  # noqa: PLC0415

    source = _input_path(args)
    if args.html:  # refused before the work, not after it
        from core.outputs import check_output_file  # noqa: PLC0415

        check_output_file(Path(args.html), [source])
    evidence = load_evidence(source, settings=_settings(args))
    report = redact_if_asked(args, analyze(evidence), evidence)
    # Each writer is imported only when asked for (see core.report).
    if args.json:
        from core.report.json_report import write_json  # noqa: PLC0415

        write_json(report, out)
    elif args.html:
        from core.outputs import write_output_file  # noqa: PLC0415
        from core.report.html_report import write_html  # noqa: PLC0415

        write_output_file(Path(args.html), [source], lambda temp: write_html(report, temp))
        print(f"HTML report written to {args.html}", file=sys.stderr)
    else:
        from core.report.text_report import render_text  # noqa: PLC0415

        color = out.isatty() if hasattr(out, "isatty") else False
        out.write(render_text(report, color=color))
    return exit_code_for(report)


def cmd_code(args: argparse.Namespace, out: TextIO) -> int:
    """``espview code CODE...``: what each code means (exit 1 when one is unknown)."""
    from core.codes import describe_code, parse_code  # noqa: PLC0415

    bad = [text for text in args.codes if parse_code(text) is None]
    if bad:
        raise EspViewError(f"not an error code: {bad[0]!r} (give 0x… hex or a decimal number)")
    infos = [describe_code(text) for text in args.codes]
    known = all(info is not None and info.known for info in infos)
    if args.json:
        import json  # noqa: PLC0415

        rows = [
            {
                "input": text,
                "code": info.hex,
                "known": info.known,
                "name": info.name,
                "meaning": info.meaning,
                "facility": info.facility,
                "facility_number": info.facility_number,
                "cause": info.cause,
                "first_step": info.first_step,
                "source": info.source,
                "cause_source": info.cause_source,
            }
            for text, info in zip(args.codes, infos, strict=True)
            if info is not None
        ]
        out.write(json.dumps(rows, ensure_ascii=False, indent=2) + "\n")
        return EXIT_OK if known else EXIT_PROBLEMS
    for index, info in enumerate(infos):
        if info is None:
            continue
        if index:
            print(file=out)
        signed = info.code - (1 << 32) if info.code & 0x80000000 else info.code
        print(f"{info.hex}  (unsigned {info.code}, signed {signed})", file=out)
        lines: list[tuple[str, str | None]] = [
            ("Name", info.name or "unknown code"),
            ("Meaning", info.meaning),
            ("Facility", f"{info.facility} ({info.facility_number})"),
            ("Cause", info.cause),
            ("First step", info.first_step),
            ("Source", info.source),
        ]
        if info.cause_source and info.cause_source != info.source:
            lines.append(("Cause source", info.cause_source))
        for label, value in lines:
            if value:
                print(f"  {label:<12} {value}", file=out)
    return EXIT_OK if known else EXIT_PROBLEMS


def _print_problems(problems: Sequence[object]) -> None:
    if problems:
        print(f"espview: {len(problems)} problem(s) while reading:", file=sys.stderr)
        for problem in problems[:20]:
            print(f"  {problem}", file=sys.stderr)
        if len(problems) > 20:
            print(f"  … and {len(problems) - 20} more", file=sys.stderr)


# -- argument parsing ------------------------------------------------------------------------


def _sub_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="espview", description="ESPView, headless.")
    parser.add_argument("--version", action="version", version=f"ESPView {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    report = sub.add_parser("report", help="analyse a capture and print or write the report")
    report.add_argument("path", nargs="?", help="cab, zip, folder, .reg, hive, .evtx")
    report.add_argument("--sample", action="store_true", help="use the bundled sample")
    fmt = report.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="print the espview.report/1 JSON")
    fmt.add_argument("--html", metavar="OUT", help="write a self-contained HTML report")
    fmt.add_argument("--text", action="store_true", help="print a text report (default)")
    report.add_argument("--redact", action="store_true", help="pseudonyms for identifiers")
    report.set_defaults(func=cmd_report)

    extract = sub.add_parser("extract", help="extract every file of a cab, byte-exact")
    extract.add_argument("cab")
    extract.add_argument("dest")
    extract.set_defaults(func=cmd_extract)

    events = sub.add_parser("events", help="print every decoded event")
    events.add_argument("path", nargs="?")
    events.add_argument("--sample", action="store_true")
    events.add_argument("--json", action="store_true", help="one JSON object per line")
    events.set_defaults(func=cmd_events)

    registry = sub.add_parser("registry", help="print a key tree with its values")
    registry.add_argument("path", nargs="?")
    registry.add_argument("key", nargs="?", help="e.g. HKLM\\SOFTWARE\\Microsoft\\Enrollments")
    registry.add_argument("--sample", action="store_true")
    registry.add_argument("--depth", type=int, default=None, help="levels below KEY to print")
    registry.set_defaults(func=cmd_registry)

    from core.fleet.commands import add_fleet_commands  # noqa: PLC0415 - diff, batch

    add_fleet_commands(sub)

    cache = sub.add_parser("cache", help="show the extraction cache, or clear it")
    cache.add_argument("--clear", action="store_true", help="remove every cached extraction")
    cache.set_defaults(func=cmd_cache)

    code = sub.add_parser(
        "code",
        help="look up error codes (hex, signed or unsigned decimal)",
        description="Name, facility, meaning, cause and first step of each code. Exit 0 when "
        "every code is known, 1 when one is not, 2 when an argument is not a number.",
    )
    code.add_argument("codes", nargs="+", metavar="CODE", help="0x87D1041C, -2016345060, 1603")
    code.add_argument("--json", action="store_true", help="print a JSON list")
    code.set_defaults(func=cmd_code)
    return parser


def _gui_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="espview",
        description="ESPView: the Autopilot Enrollment Status Page, rebuilt from evidence.",
        epilog=f"Headless commands: espview {{{','.join(SUBCOMMANDS)}}} --help",
    )
    parser.add_argument("--version", action="version", version=f"ESPView {__version__}")
    parser.add_argument("path", nargs="?", help="cab, zip, folder, .reg, hive, .evtx to open")
    parser.add_argument("--sample", action="store_true", help="open the bundled sample")
    parser.add_argument("--live", action="store_true", help="attach to this Windows device")
    parser.add_argument("--screenshot", metavar="PNG", help="render the window to PNG and exit")
    return parser


def _write_crash_log() -> Path | None:
    try:
        crash = cache_dir() / "crash.log"
        crash.write_text(traceback.format_exc(), encoding="utf-8")
    except OSError:
        return None
    return crash


def _attach_parent_console() -> None:
    """Let the frozen Windows GUI exe print to the console it was started from.

    The exe is built without a console (no black window behind the app), so for the
    headless subcommands it borrows its parent's console, if there is one.
    """
    if sys.platform == "win32" and getattr(sys, "frozen", False):
        import ctypes  # noqa: PLC0415 - Windows only

        attach_parent_process = -1
        if ctypes.windll.kernel32.AttachConsole(attach_parent_process):
            # Both streams live as long as the process.
            sys.stdout = open("CONOUT$", "w", encoding="utf-8", errors="replace")  # noqa: SIM115
            sys.stderr = open("CONOUT$", "w", encoding="utf-8", errors="replace")  # noqa: SIM115


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    if getattr(sys, "frozen", False):  # all freeze_support() acts on; skips its import
        import multiprocessing  # noqa: PLC0415

        multiprocessing.freeze_support()
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list and args_list[0] in SUBCOMMANDS:
        _attach_parent_console()
    out = out or sys.stdout
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    # The edge: the one place the environment is read (core.config).
    settings = Settings.from_environ(os.environ)
    with config.using(settings):
        return _run(args_list, out, settings)


#: Subcommands that start no worker and leave nothing running: once one has returned, the
#: process may end at once (:func:`run`).
ONE_SHOT = frozenset({"report", "extract", "events", "registry", "diff", "code"})
_finished_one_shot = False


def run() -> NoReturn:
    """The program's entry point (console script, ``python -m core.cli``, frozen app).

    After a one-shot subcommand returned, the process leaves through :func:`os._exit` once
    the exit handlers have run and the output is flushed: a normal exit first frees every
    object of the loaded capture one by one (about 20 ms for a big one, 3% of a warm
    report), memory the operating system takes back at once anyway. Everything else (the
    GUI, batch, errors) exits normally.
    """
    code = main()
    if _finished_one_shot and threading.active_count() == 1:
        _leave(code)
    sys.exit(code)


def _leave(code: int) -> NoReturn:
    """End the process now, as a normal exit would end it but without tearing it down."""
    atexit_run = getattr(atexit, "_run_exitfuncs", None)
    if atexit_run is None:  # not CPython: exit the usual way
        sys.exit(code)
    atexit_run()  # what the program registered (live-mode clean-up, logging's flush)
    for stream in (sys.stdout, sys.stderr):
        # A closed pipe (`espview … | head`) or stream: nothing more can be written to it.
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)


def _run(args_list: list[str], out: TextIO, settings: Settings) -> int:
    global _finished_one_shot  # noqa: PLW0603 - read once, by run()
    try:
        if args_list and args_list[0] in SUBCOMMANDS:
            args = _sub_parser().parse_args(args_list)
            args.settings = settings
            with gc_paused():  # a one-shot run: no need to rescan what it loads (core.perf)
                code: int = args.func(args, out)
            _finished_one_shot = args_list[0] in ONE_SHOT
            return code
        args = _gui_parser().parse_args(args_list)
        if args.screenshot:
            from core.outputs import check_output_file  # noqa: PLC0415

            given = [Path(args.path)] if args.path else []
            check_output_file(Path(args.screenshot), given)
        from gui.app import run  # noqa: PLC0415 - Qt is loaded only for the GUI

        return int(run(args.path, sample=args.sample, live=args.live, screenshot=args.screenshot,
                       settings=settings))
    except Cancelled:
        print("espview: cancelled", file=sys.stderr)
        return EXIT_UNUSABLE
    except EspViewError as exc:
        print(f"espview: {exc}", file=sys.stderr)
        return EXIT_UNUSABLE
    except BrokenPipeError:  # `espview events x --json | head`
        return EXIT_OK
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # noqa: BLE001 - the one place where any bug becomes exit 3
        crash = _write_crash_log()
        where = f" (details in {crash})" if crash else ""
        print(f"espview: internal error: {type(exc).__name__}: {exc}{where}", file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":
    run()
