"""Generate ``resources/knowledge/codes.tsv``, ESPView's error-code table.

    python3 build/knowledge/gen_codes.py [--winerror PATH] [--check]

Inputs (all named, all re-readable):

* the public-domain mingw-w64 ``winerror.h`` (Debian package ``mingw-w64-common``,
  ``/usr/share/mingw-w64/include/winerror.h``): every Win32 error (``ERROR_*``, decimal) and
  every ``_HRESULT_TYPEDEF_`` HRESULT with its symbolic name, plus the ``FACILITY_*`` numbers.
  The header carries no message texts, so a code from it alone gets a meaning spelled from its
  name (``ERROR_FILE_NOT_FOUND`` -> "File not found"); the curated tables override that.
* ``ntstatus.h`` beside it: NTSTATUS error codes (0xC…), which CloudAP / AAD events carry.
* ``wininet.h`` and ``winhttp.h`` beside it: the WinInet / WinHTTP errors (12001-12199) that
  show up as 0x80072xxx.
* the curated tables ``build/knowledge/sources/*.toml``, written by hand from Microsoft's
  published lists (each file names its page): MDM enrollment, device registration, Autopilot
  and ESP, Intune Management Extension / ConfigMgr, MSI, Office, Store, AAD token broker.

Output: one line per code, ``code<TAB>name<TAB>meaning<TAB>source``, sorted, plus ``#facility``
and ``#range`` lines for facility names and vendor ranges (``0x8018`` -> MDM enrollment). The
file is data for ``core/codes.py``; edit the inputs and re-run, never the output.
"""

from __future__ import annotations

import argparse
import re
import sys
import tomllib
from pathlib import Path

from _output import write_or_check  # the folder of this script is on sys.path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = Path(__file__).resolve().parent / "sources"
OUTPUT = ROOT / "resources" / "knowledge" / "codes.tsv"
WINERROR = Path("/usr/share/mingw-w64/include/winerror.h")
#: WinInet / WinHTTP errors (12001-12199) live in their own headers beside winerror.h.
EXTRA_HEADERS = ("wininet.h", "winhttp.h")
#: NTSTATUS errors (0xC…) that CloudAP / AAD and the TPM stack report, from ntstatus.h.
NTSTATUS = "ntstatus.h"
NTSTATUS_SOURCE = "mingw-w64 ntstatus.h (public domain; Debian package mingw-w64-common)"
WINERROR_SOURCE = "mingw-w64 winerror.h (public domain; Debian package mingw-w64-common)"

_WIN32 = re.compile(
    r"^#define\s+(ERROR_\w+|WSA\w+|RPC_S_\w+|EPT_S_\w+|OR_\w+|NERR_\w+)\s+__MSABI_LONG\((\d+)\)"
)
_WININET = re.compile(
    r"^#define\s+(ERROR_(?:INTERNET|HTTP|WINHTTP|FTP|GOPHER)_\w+)\s+\(?(?:INTERNET_ERROR_BASE|WINHTTP_ERROR_BASE)\s*\+\s*(\d+)\)?"
)
_HRESULT = re.compile(r"^#define\s+(\w+)\s+_HRESULT_TYPEDEF_\((0x[0-9A-Fa-f]{1,8})L?\)")
_NTSTATUS = re.compile(r"^#define\s+(STATUS_\w+)\s+\(\(NTSTATUS\)(0x[Cc][0-9A-Fa-f]{7})L?\)")
_FACILITY = re.compile(r"^#define\s+FACILITY_(\w+)\s+(\d+)\s*$")
_ACRONYMS = {
    "ID",
    "MDM",
    "MSI",
    "DLL",
    "RPC",
    "TPM",
    "COM",
    "URL",
    "CA",
    "SSL",
    "TLS",
    "DNS",
    "IP",
    "HTTP",
    "XML",
    "API",
    "GUID",
    "SID",
    "ACL",
    "EFS",
    "WMI",
    "USB",
    "OS",
    "UI",
    "CPU",
    "PIN",
}
_PREFIXES = ("ERROR_", "STATUS_", "E_", "S_", "CO_E_", "RPC_E_", "RPC_S_", "WSA", "NERR_")


def spelled(name: str) -> str:
    """A meaning spelled from a symbolic name: ``ERROR_FILE_NOT_FOUND`` -> "File not found"."""
    stem = name
    for prefix in _PREFIXES:
        if stem.startswith(prefix) and len(stem) > len(prefix):
            stem = stem[len(prefix) :]
            break
    else:
        parts = stem.split("_", 2)
        if len(parts) == 3 and parts[1] in {"E", "S", "W"}:
            stem = parts[2]
    words = [w if w in _ACRONYMS else w.lower() for w in stem.split("_") if w]
    text = " ".join(words) or name
    return text[:1].upper() + text[1:]


def parse_winerror(path: Path) -> tuple[dict[int, tuple[str, str]], dict[int, str]]:
    codes: dict[int, tuple[str, str]] = {}
    facilities: dict[int, str] = {}
    for line in path.read_text(encoding="latin-1").splitlines():
        m = _WIN32.match(line)
        if m is not None:
            number = int(m.group(2))
            if number and number not in codes:
                codes[number] = (m.group(1), spelled(m.group(1)))
            continue
        m = _HRESULT.match(line)
        if m is not None:
            code = int(m.group(2), 16) & 0xFFFFFFFF
            if code not in codes:
                codes[code] = (m.group(1), spelled(m.group(1)))
            continue
        m = _FACILITY.match(line)
        if m is not None and int(m.group(2)) not in facilities:
            facilities[int(m.group(2))] = m.group(1)
    return codes, facilities


def _clean(text: str) -> str:
    if "\t" in text or "\n" in text:
        raise ValueError(f"tab or newline in {text!r}")
    return text.strip()


def read_curated(
    folder: Path,
) -> tuple[list[tuple[int, str, str, str]], dict[str, str], dict[int, str]]:
    """(code, name, meaning, source) rows, ``prefix -> range name`` and facility names."""
    rows: list[tuple[int, str, str, str]] = []
    ranges: dict[str, str] = {}
    facilities: dict[int, str] = {}
    for path in sorted(folder.glob("*.toml")):
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
        unknown = set(doc) - {"source", "codes", "ranges", "facilities"}
        if unknown or "source" not in doc:
            raise ValueError(f"{path.name}: needs 'source'; unknown keys {sorted(unknown)}")
        source = _clean(str(doc["source"]))
        for prefix, name in doc.get("ranges", {}).items():
            if not re.fullmatch(r"0x[0-9A-F]{2,7}", prefix):
                raise ValueError(f"{path.name}: range prefix {prefix!r} is not 0x + upper hex")
            ranges[prefix] = _clean(name)
        for number, name in doc.get("facilities", {}).items():
            facilities[int(number)] = _clean(name)
        for text, value in doc.get("codes", {}).items():
            if not (isinstance(value, list) and len(value) == 2):
                raise ValueError(f"{path.name}: {text} must be [NAME, meaning]")
            code = int(text, 16) if text.lower().startswith("0x") else int(text)
            rows.append((code & 0xFFFFFFFF, _clean(value[0]), _clean(value[1]), source))
    return rows, ranges, facilities


def parse_wininet(folder: Path) -> dict[int, tuple[str, str]]:
    """``ERROR_INTERNET_*`` / ``ERROR_WINHTTP_*`` = 12000 + n, from wininet.h and winhttp.h."""
    codes: dict[int, tuple[str, str]] = {}
    for header in EXTRA_HEADERS:
        path = folder / header
        if not path.is_file():
            continue
        for line in path.read_text(encoding="latin-1").splitlines():
            m = _WININET.match(line)
            if m is not None:
                codes.setdefault(12000 + int(m.group(2)), (m.group(1), spelled(m.group(1))))
    return codes


def parse_ntstatus(folder: Path) -> dict[int, tuple[str, str]]:
    """``STATUS_*`` error codes (severity 0xC only: success and warning values would collide
    with Win32 numbers and HRESULTs)."""
    path = folder / NTSTATUS
    codes: dict[int, tuple[str, str]] = {}
    if path.is_file():
        for line in path.read_text(encoding="latin-1").splitlines():
            m = _NTSTATUS.match(line)
            if m is not None:
                codes.setdefault(int(m.group(2), 16), (m.group(1), spelled(m.group(1))))
    return codes


def build(winerror: Path) -> str:
    base, win_facilities = parse_winerror(winerror)
    for number, entry in parse_wininet(winerror.parent).items():
        base.setdefault(number, entry)
    curated, ranges, facilities = read_curated(SOURCES)
    sources = {WINERROR_SOURCE: "W"}
    table: dict[int, tuple[str, str, str]] = {c: (n, m, "W") for c, (n, m) in base.items()}
    nt_codes = parse_ntstatus(winerror.parent)
    if nt_codes:
        sources[NTSTATUS_SOURCE] = "N"
    for code, (name, meaning) in nt_codes.items():
        table.setdefault(code, (name, meaning, "N"))
    for code, name, meaning, source in curated:
        key = sources.setdefault(source, f"S{len(sources)}")
        table[code] = (name, meaning, key)
    names = {**{n: f"FACILITY_{v}" for n, v in win_facilities.items()}, **facilities}
    lines = [
        "# ESPView error codes. GENERATED by build/knowledge/gen_codes.py (python3 dev.py",
        "# knowledge): edit build/knowledge/sources/*.toml and re-run, never this file.",
        "# columns: code (hex; Win32 errors as their plain number), name, meaning, source key",
    ]
    lines += [f"#source\t{key}\t{text}" for text, key in sources.items()]
    lines += [f"#facility\t{n}\t{names[n]}" for n in sorted(names)]
    lines += [f"#range\t{p}\t{ranges[p]}" for p in sorted(ranges)]
    lines += [f"0x{c:08X}\t{n}\t{m}\t{s}" for c, (n, m, s) in sorted(table.items())]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--winerror", type=Path, default=WINERROR)
    parser.add_argument("--check", action="store_true", help="fail if the output is stale")
    args = parser.parse_args(argv)
    if not args.winerror.is_file():
        print(
            f"gen_codes: {args.winerror} not found: apt-get install mingw-w64-common",
            file=sys.stderr,
        )
        return 2
    text = build(args.winerror)
    status = write_or_check(OUTPUT, text, check=args.check, tool="gen_codes")
    if args.check:
        return status
    count = text.count("\n") - sum(1 for line in text.splitlines() if line.startswith("#"))
    print(f"gen_codes: {count} codes written to {OUTPUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
