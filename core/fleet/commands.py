"""The ``espview diff`` and ``espview batch`` subcommands (wired in by ``core.cli``).

Exit codes: ``diff`` 0 when nothing that matters differs, 1 when something does, 2 when a
capture is unusable. ``batch`` 0 when every capture was read cleanly, 1 when some rows carry
problems or errors, 2 when no capture was found, 130 when stopped by Ctrl+C (the outputs
then hold the rows done so far).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from core.errors import EspViewError

if TYPE_CHECKING:
    from core.esp.model import EspReport
    from core.evidence import Evidence

EXIT_SAME = 0
EXIT_DIFFERS = 1
EXIT_PROBLEMS = 1
EXIT_INTERRUPTED = 130


def add_fleet_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    diff = sub.add_parser("diff", help="compare two captures step by step")
    diff.add_argument("a", help="first capture (before / good)")
    diff.add_argument("b", help="second capture (after / bad)")
    fmt = diff.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="print the espview.diff/1 JSON")
    fmt.add_argument("--html", metavar="OUT", help="write a self-contained HTML page")
    fmt.add_argument("--text", action="store_true", help="print a text comparison (default)")
    diff.add_argument("--redact", action="store_true", help="pseudonyms for identifiers")
    diff.set_defaults(func=cmd_diff)

    batch = sub.add_parser("batch", help="one row per capture and a fleet summary")
    batch.add_argument("paths", nargs="+", help="captures: files, folders, globs")
    batch.add_argument("--csv", metavar="OUT", help="write one CSV row per capture")
    batch.add_argument("--html", metavar="OUT",
                       help="write an HTML page (each capture's own report beside it)")
    batch.add_argument("--json", metavar="OUT", help="write rows and summary as JSON")
    batch.add_argument("--jobs", type=int, default=0,
                       help="worker processes (default: one per CPU core)")
    batch.add_argument("--dask", metavar="ADDRESS",
                       help="run on an existing Dask cluster (pip install espview[fleet])")
    batch.add_argument("--fresh", action="store_true", help="redo captures already analysed")
    batch.add_argument("--redact", action="store_true", help="pseudonyms for identifiers")
    batch.set_defaults(func=cmd_batch)


# -- diff -----------------------------------------------------------------------------------


def cmd_diff(args: argparse.Namespace, out: TextIO) -> int:
    from core.esp.analyze import analyze  # noqa: PLC0415 - heavy, load on use
    from core.evidence import load_evidence  # noqa: PLC0415
    from core.fleet.diff import diff_reports  # noqa: PLC0415
    from core.fleet.diff_report import diff_json, diff_text, write_diff_html  # noqa: PLC0415
    from core.outputs import check_output_file, write_output_file  # noqa: PLC0415

    inputs = [Path(args.a), Path(args.b)]
    if args.html:  # never onto or into the evidence; refused before the work
        check_output_file(Path(args.html), inputs)
    evidences = [load_evidence(Path(args.a)), load_evidence(Path(args.b))]
    reports = [analyze(e) for e in evidences]
    if args.redact:
        from core.fleet.redact import redact_reports  # noqa: PLC0415

        reports = redact_reports(reports, evidences)
    diff = diff_reports(reports[0], reports[1])
    if args.json:
        out.write(diff_json(diff))
    elif args.html:
        write_output_file(Path(args.html), inputs, lambda temp: write_diff_html(diff, temp))
        print(f"HTML comparison written to {args.html}", file=sys.stderr)
    else:
        out.write(diff_text(diff))
    return EXIT_DIFFERS if diff.differs else EXIT_SAME


def redact_if_asked(args: argparse.Namespace, report: EspReport, evidence: Evidence) -> EspReport:
    """``espview report --redact``: the report with identifiers replaced."""
    if not getattr(args, "redact", False):
        return report
    from core.fleet.redact import redact_report  # noqa: PLC0415

    return redact_report(report, evidence)


# -- batch ----------------------------------------------------------------------------------


class ProgressBar:
    """``[#####.....] 12/30  0:42 left`` on a terminal's stderr; nothing otherwise."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.active = bool(getattr(stream, "isatty", lambda: False)())
        self.started = time.monotonic()
        self.first_done: int | None = None

    def __call__(self, done: int, total: int, _row: object) -> None:
        if not self.active or total == 0:
            return
        if self.first_done is None:
            self.first_done, self.started = done, time.monotonic()
        width = 30
        filled = int(width * done / total)
        bar = "#" * filled + "." * (width - filled)
        analysed = done - self.first_done
        if analysed > 0 and done < total:
            left = (time.monotonic() - self.started) / analysed * (total - done)
            eta = f"{int(left // 60)}:{int(left % 60):02d} left"
        else:
            eta = "" if done < total else "done"
        self.stream.write(f"\r[{bar}] {done}/{total}  {eta:14}")
        if done >= total:
            self.stream.write("\n")
        self.stream.flush()

    def close(self) -> None:
        if self.active:
            self.stream.write("\n")
            self.stream.flush()


def cmd_batch(args: argparse.Namespace, out: TextIO) -> int:
    import os  # noqa: PLC0415

    from core.fleet.batch import run_batch  # noqa: PLC0415
    from core.fleet.batch_report import rows_text, write_outputs  # noqa: PLC0415

    outputs = {name: Path(value) if value else None
               for name, value in (("csv", args.csv), ("html", args.html), ("json", args.json))}
    html_dir = None
    if outputs["html"] is not None:
        html_out = outputs["html"]
        html_dir = html_out.parent / f"{html_out.stem}-reports"
    from core.outputs import OutputError, check_output_file  # noqa: PLC0415

    for path in outputs.values():  # never onto or into the evidence; refused before the work
        if path is not None:
            check_output_file(path, [Path(p) for p in args.paths])
    jobs = args.jobs if args.jobs and args.jobs > 0 else (os.cpu_count() or 1)
    bar = ProgressBar(sys.stderr)
    result = run_batch(
        args.paths, jobs=jobs, dask_address=args.dask, fresh=args.fresh, html_dir=html_dir,
        redact=args.redact, progress=bar,
    )
    if result.interrupted:
        bar.close()
    if result.total == 0:
        raise EspViewError("no capture found in the paths given")
    try:
        rows = write_outputs(result, csv_path=outputs["csv"], html_path=outputs["html"],
                             json_path=outputs["json"], redact=args.redact)
    except OSError as exc:  # a full disk, a folder gone meanwhile: one line, exit 2
        raise OutputError(f"cannot write {exc.filename or 'the outputs'}: {exc.strerror}") from None
    if not any(outputs.values()):
        out.write(rows_text(result, rows))
    else:
        written = ", ".join(str(p) for p in outputs.values() if p is not None)
        print(f"{len(rows)} of {result.total} captures; written to {written}", file=sys.stderr)
    if result.interrupted:
        print(f"espview: interrupted; {len(rows)} of {result.total} captures kept",
              file=sys.stderr)
        return EXIT_INTERRUPTED
    return EXIT_PROBLEMS if any(r.error or r.problems for r in rows) else EXIT_SAME
