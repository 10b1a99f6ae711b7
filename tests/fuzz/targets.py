"""The readers under fuzz: how to build each one's seeds, and how to run one input through it.

Seeds come from the test builders (small, fast) and from the real captures in
``../shared/fixtures/real`` *read at run time* (never copied into the repository; text files
are cut into windows so each input stays small). ``small=True`` keeps only small seeds, for the
quick budget inside pytest.

Each ``run`` takes the path of the input written to disk (named like its seed, as readers sniff
by name) and a private work folder; it returns how many Problems the reader reported. A reader
*raising* :class:`core.errors.EspViewError` is an expected error; anything else it raises is a
bug the campaign reports.
"""

from __future__ import annotations

import codecs
import contextlib
import io
import lzma
import struct
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

from tests.fuzz.mutate import MARKUP, Field, Seed

REPO = Path(__file__).resolve().parents[2]
REAL = (REPO / ".." / "shared" / "fixtures" / "real").resolve()

Runner = Callable[[Path, Path], int]


@dataclass(frozen=True)
class Target:
    name: str
    seeds: Callable[[bool], list[Seed]]
    run: Runner
    text: bool = False  # line-level mutations too


def _real(pattern: str) -> list[Path]:
    if not REAL.is_dir():
        return []
    return sorted(p for p in REAL.glob(pattern) if p.is_file())


def _windows(data: bytes, sep: bytes, count: int, size: int, align: bytes = b"") -> list[bytes]:
    """``count`` slices of about ``size`` bytes, spread over ``data``, cut at ``sep``
    (and starting at an ``align`` marker when one follows)."""
    out: list[bytes] = []
    if not data:
        return out
    step = max(len(data) // count, 1)
    for i in range(count):
        start = i * step
        if align:
            found = data.find(align, start)
            start = found if found >= 0 else start
        else:
            found = data.find(sep, start)
            start = found + len(sep) if found >= 0 else start
        end = data.find(sep, start + size)
        end = len(data) if end < 0 else end + len(sep)
        piece = data[start:end]
        if piece:
            out.append(piece)
    return out


# -- cab and LZX ---------------------------------------------------------------------------


def _text_blob(n: int, salt: int = 0) -> bytes:
    words = [b"Enrollment", b"status", b"page", b"0x80070002", b"Win32App", b"\r\n", b"policy"]
    out = bytearray()
    i = salt
    while len(out) < n:
        out += words[i % len(words)] + b" " + str(i * 7919 % 1000).encode()
        i += 1
    return bytes(out[:n])


def cab_fields(data: bytes) -> tuple[list[Field], list[int], list[int]]:
    """Integer fields, structural cuts and CFDATA offsets of a well-formed cab."""
    fields: list[Field] = [(8, 4), (16, 4), (24, 1), (25, 1), (26, 2), (28, 2), (30, 2)]
    cuts = [4, 36]
    blocks: list[int] = []
    (_, _, _, _, files_at, _, _, _, n_folders, n_files, flags, _, _) = struct.unpack_from(
        "<4sIIIIIBBHHHHH", data
    )
    pos = 36
    cb_folder = cb_data = 0
    if flags & 4:
        fields += [(36, 2), (38, 1), (39, 1)]
        cb_header, cb_folder, cb_data = struct.unpack_from("<HBB", data, 36)
        pos += 4 + cb_header
    for _ in range(bin(flags & 3).count("1") * 2):
        pos = data.index(b"\x00", pos) + 1
    folders = []
    for _ in range(n_folders):
        fields += [(pos, 4), (pos + 4, 2), (pos + 6, 2)]
        cuts.append(pos)
        folders.append(struct.unpack_from("<IHH", data, pos))
        pos += 8 + cb_folder
    pos = files_at
    for _ in range(n_files):
        fields += [(pos, 4), (pos + 4, 4), (pos + 8, 2), (pos + 14, 2)]
        cuts.append(pos)
        pos = data.index(b"\x00", pos + 16) + 1
    for data_at, count, _ in folders:
        at = data_at
        for _ in range(count):
            if at + 8 > len(data):
                break
            fields += [(at, 4), (at + 4, 2), (at + 6, 2)]
            cuts += [at, at + 8 + cb_data]
            blocks.append(at)
            at += 8 + cb_data + struct.unpack_from("<H", data, at + 4)[0]
        cuts.append(at)
    return fields, cuts, blocks


def _cab_seed(name: str, data: bytes) -> Seed:
    fields, cuts, blocks = cab_fields(data)

    def zero_checksums(buf: bytearray) -> None:
        # csum 0 means "no checksum": mutated blocks then reach the decompressors.
        for at in blocks:
            if at + 4 <= len(buf):
                buf[at : at + 4] = b"\x00\x00\x00\x00"

    return Seed(name, data, fields, cuts, zero_checksums, (b"MSCF", b"CK"))


@cache
def _cab_seeds(small: bool) -> list[Seed]:
    from tests.builders.cab import Folder, build_cab

    size = 3000 if small else 20000
    built = [
        ("stored.cab", [Folder([("a.txt", _text_blob(size)), ("b.reg", _text_blob(500, 3))])]),
        ("mszip.cab", [Folder([("a.log", _text_blob(size)), ("c.json", b"{}")], "mszip")]),
        ("lzx.cab", [Folder([("a.evtx", _text_blob(size)), ("d.txt", b"")], "lzx", 15)]),
        (
            "multi.cab",
            [
                Folder(
                    [("x/one.txt", _text_blob(size // 2, 1))],
                    "lzx",
                    16,
                    (("aligned", 1 << 30),),
                    e8_size=4096,
                ),
                Folder([("two.txt", _text_blob(size // 2, 2))], "mszip", block_size=1024),
                Folder([("three.txt", b"x" * 100)]),
            ],
        ),
        (
            "lzx-uncompressed.cab",
            [Folder([("u.bin", bytes(range(256)) * 8)], "lzx", 17, (("uncompressed", 1 << 30),))],
        ),
    ]
    seeds = [_cab_seed(name, build_cab(folders)) for name, folders in built]
    seeds.append(
        _cab_seed(
            "reserve.cab",
            build_cab([Folder([("r.txt", _text_blob(800))], "mszip")], reserve=(8, 4, 2)),
        )
    )
    if not small:
        for cab in _real("*/MDMDiagReport.cab")[:1]:  # the smallest real cab is enough
            seeds.append(_cab_seed("real.cab", cab.read_bytes()))
    return seeds


def _run_cab(path: Path, work: Path) -> int:
    from core.sources.cab import CabFile

    with CabFile(path) as cab:
        cab.extract_all(work / "out")
    return 0


@cache
def _lzx_seeds(small: bool) -> list[Seed]:
    from tests.builders.cab import LzxEncoder

    seeds = []
    size = 4000 if small else 40000
    configs = [
        (15, (("verbatim", 1 << 30),), 0),
        (16, (("aligned", 1 << 30),), 0),
        (17, (("uncompressed", 1 << 30),), 0),
        (15, (("verbatim", 3000), ("aligned", 3000), ("uncompressed", 1 << 30)), 4096),
        (21, (("verbatim", 1 << 30),), 1 << 20),
    ]
    for bits, blocks, e8 in configs:
        data = _text_blob(size, bits)
        encoded = LzxEncoder(bits, blocks, e8_size=e8).encode(data)
        stream = b"".join(payload for payload, _ in encoded)
        # Input layout: window bits (1 byte), output size (4 bytes LE), the stream.
        raw = struct.pack("<BI", bits, len(data)) + stream
        seeds.append(Seed(f"w{bits}.lzx", raw, [(0, 1), (1, 4), (5, 4), (7, 2)], [5, 9]))
    return seeds


def _run_lzx(path: Path, work: Path) -> int:
    from core.sources import lzx

    raw = path.read_bytes()
    if len(raw) < 5:
        return 0
    bits, size = struct.unpack_from("<BI", raw)
    try:
        for _frame in lzx.decompress(raw[5:], size, bits):
            pass
    except lzx.LzxError:
        return 1  # the documented failure of a corrupt stream
    return 0


# -- registry text -------------------------------------------------------------------------


def _reg_keys() -> dict[str, dict[str, tuple[str, object]]]:
    return {
        r"HKLM\SOFTWARE\Microsoft\Provisioning\AutopilotSettings": {
            "DevicePreparationCategory.Status": (
                "REG_SZ",
                '{"categoryState":"failed","DevicePreparation.MdmEnrollmentSubcategory":'
                '{"subcategoryState":"failed","subcategoryStatusText":"Failed \\"x\\""}}',
            ),
            "Count": ("REG_DWORD", 42),
            "Big": ("REG_QWORD", 1 << 40),
            "": ("REG_SZ", "default"),
        },
        r"HKLM\SOFTWARE\Microsoft\Enrollments\{0000-1111}\FirstSync": {
            "Multi": ("REG_MULTI_SZ", ["one", "two", ""]),
            "Expand": ("REG_EXPAND_SZ", "%SystemRoot%\\x"),
            "Bin": ("REG_BINARY", bytes(range(40))),
            "None": ("REG_NONE", b""),
        },
        r"HKLM\SOFTWARE\Microsoft\Policies\Device/Vendor/MSFT\deep\er\still": {
            "Xml": ("REG_SZ", '<a>\r\n  <b c="d"/>\r\n</a>'),
        },
    }


_REG_TOKENS = (
    b'"',
    b"=",
    b"[",
    b"]",
    b"\\",
    b"\r\n",
    b"\n",
    b"@=",
    b"hex(2):",
    b"hex(7):",
    b"hex:",
    b"dword:",
    b"DWORD:",
    b"QWORD:",
    b"MULTI_SZ:",
    b",\\\r\n  ",
    b"[HKEY_",
    b"[-HKEY_",
    b"=-",
    b"00,",
    b"\x00",
    b"\xff\xfe",
)


@cache
def _dump_seeds(small: bool) -> list[Seed]:
    from tests.builders.reg import dump_reg_text

    text = dump_reg_text(_reg_keys())  # type: ignore[arg-type]  # builder Keys alias
    seeds = [Seed("MdmDiagReport_RegistryDump.reg", text.encode("utf-8"), tokens=_REG_TOKENS)]
    window = 1500 if small else 12000
    for dump in _real("*/extracted/MdmDiagReport_RegistryDump.reg"):
        for piece in _windows(
            dump.read_bytes(), b"\r\n", 4 if small else 12, window, b"\r\n[HKEY_"
        ):
            seeds.append(Seed("MdmDiagReport_RegistryDump.reg", piece, tokens=_REG_TOKENS))
    return seeds


def _run_dump(path: Path, work: Path) -> int:
    from core.registry.dump import parse_dump

    return _walk(parse_dump(path))


def _walk(view: object) -> int:
    """Touch every key and value of a view (lazy backends parse on demand)."""
    from core.registry.model import RegistryView

    assert isinstance(view, RegistryView)
    for root in view.roots():
        for key in root.walk():
            key.values()
            key.last_write  # noqa: B018 - the property reads damage-prone data
    return len(view.problems)


@cache
def _regedit_seeds(small: bool) -> list[Seed]:
    from tests.builders.reg import regedit_reg_text

    text = regedit_reg_text(_reg_keys())  # type: ignore[arg-type]  # builder Keys alias
    text4 = regedit_reg_text(_reg_keys(), regedit4=True)  # type: ignore[arg-type]  # same
    return [
        Seed("export.reg", codecs.BOM_UTF16_LE + text.encode("utf-16-le"), tokens=_REG_TOKENS),
        Seed("export.reg", text.encode("utf-8"), tokens=_REG_TOKENS),
        Seed("export.reg", text4.encode("cp1252"), tokens=_REG_TOKENS),
    ]


def _run_regedit(path: Path, work: Path) -> int:
    from core.registry.regedit import parse_regedit

    return _walk(parse_regedit(path))


@cache
def _hive_seeds(small: bool) -> list[Seed]:
    seeds: list[Seed] = []
    for hive in _real("registry-hives/*/*"):
        if hive.suffix == ".xz":
            if small:
                continue
            data = lzma.decompress(hive.read_bytes())
            if len(data) > 4 * 1024 * 1024:
                continue
        else:
            data = hive.read_bytes()
        if data.startswith(b"regf"):
            fields = [
                (4, 4),
                (8, 4),
                (0x24, 4),
                (0x28, 4),
                (0x30, 4),
                (0x1000 + 4, 4),
                (0x1000 + 8, 4),
            ]
            seeds.append(Seed(f"{hive.stem}.dat", data, fields, [0x200, 0x1000, 0x1020]))
    return seeds


def _run_hive(path: Path, work: Path) -> int:
    from core.registry.hive import open_hive

    return _walk(open_hive(path))


# -- event logs ----------------------------------------------------------------------------


def evtx_fields(data: bytes) -> tuple[list[Field], list[int]]:
    """Header, chunk, record and template-offset fields of a well-formed evtx."""
    fields: list[Field] = [
        (0x08, 8),
        (0x10, 8),
        (0x18, 8),
        (0x20, 4),
        (0x24, 2),
        (0x26, 2),
        (0x28, 2),
        (0x2A, 2),
        (0x78, 4),
    ]
    cuts = [8, 0x80, 0x1000]
    chunk = 0x1000
    while chunk + 0x200 <= len(data) and data[chunk : chunk + 8] == b"ElfChnk\x00":
        for off, width in (
            (8, 8),
            (0x10, 8),
            (0x18, 8),
            (0x20, 8),
            (0x28, 4),
            (0x2C, 4),
            (0x30, 4),
        ):
            fields.append((chunk + off, width))
        for i in range(0, 32 * 4, 4 * 5):  # a few template and string table heads
            fields.append((chunk + 0x180 + i, 4))
            fields.append((chunk + 0x80 + i, 4))
        cuts += [chunk, chunk + 0x80, chunk + 0x200]
        pos = chunk + 0x200
        while pos + 40 <= chunk + 0x10000 and data[pos : pos + 4] == b"\x2a\x2a\x00\x00":
            size = struct.unpack_from("<I", data, pos + 4)[0]
            fields += [(pos + 4, 4), (pos + 8, 8)]
            if data[pos + 28] == 0x0C:  # TemplateInstance: template id and offset follow
                fields += [(pos + 30, 4), (pos + 34, 4)]
            if size < 40 or pos + size > len(data):
                break
            fields.append((pos + size - 4, 4))
            cuts += [pos, pos + 24, pos + size // 2]
            pos += size
        chunk += 0x10000
    return fields, cuts


def _evtx_fixup(buf: bytearray) -> None:
    """Recompute the file header and chunk CRCs, so mutations reach the record decoder."""
    if len(buf) >= 0x80:
        struct.pack_into("<I", buf, 0x7C, zlib.crc32(bytes(buf[:0x78])))
    chunk = 0x1000
    while chunk + 0x200 <= len(buf):
        free = struct.unpack_from("<I", buf, chunk + 0x30)[0]
        end = min(chunk + max(free, 0x200), chunk + 0x10000, len(buf))
        struct.pack_into("<I", buf, chunk + 0x34, zlib.crc32(bytes(buf[chunk + 0x200 : end])))
        head = bytes(buf[chunk : chunk + 0x78]) + bytes(buf[chunk + 0x80 : chunk + 0x200])
        struct.pack_into("<I", buf, chunk + 0x7C, zlib.crc32(head))
        chunk += 0x10000


_EVTX_TOKENS = (
    b"\x2a\x2a\x00\x00",
    b"ElfChnk\x00",
    b"\x0f\x01\x01\x00",
    b"\x0c\x01",
    b"\x00" * 8,
    b"\xff" * 4,
    b"\x01",
    b"\x0e",
    b"\x41",
    b"\x02",
    b"\x05",
)


@cache
def _evtx_seeds(small: bool) -> list[Seed]:
    import tempfile

    from tests.builders.evtx import hex32, write_evtx

    base = datetime(2024, 4, 2, 16, 13, 4, tzinfo=UTC)
    channel = "Microsoft-Windows-DeviceManagement-Enterprise-Diagnostics-Provider/Admin"
    provider = "Microsoft-Windows-DeviceManagement-Enterprise-Diagnostics-Provider"
    records = [
        {
            "time": base + timedelta(seconds=i),
            "channel": channel,
            "provider": provider,
            "event_id": 404 + i % 3,
            "level": 2 + i % 3,
            "data": {"Message1": f"Autopilot {i}", "HRESULT": hex32(0x80180014 + i)},
        }
        for i in range(6)
    ]
    records.append(
        {
            "time": base,
            "channel": channel,
            "provider": provider,
            "event_id": 72,
            "user_data": {"Name": "x", "Count": 3, "When": base, "Blob": b"\x01\x02"},
        }
    )
    seeds: list[Seed] = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, recs in enumerate((records, records[:1], [])):
            data = write_evtx(Path(tmp) / f"b{i}.evtx", recs).read_bytes()
            fields, cuts = evtx_fields(data)
            seeds.append(Seed(f"built{i}.evtx", data, fields, cuts, _evtx_fixup, _EVTX_TOKENS))
    real = [
        p
        for p in _real("*/extracted/*.evtx") + _real("evtx-corpora/*/*.evtx")
        if p.stat().st_size <= 0x11000
    ]
    for path in real[: 3 if small else 12]:
        data = path.read_bytes()
        fields, cuts = evtx_fields(data)
        seeds.append(Seed(f"real{len(seeds)}.evtx", data, fields, cuts, _evtx_fixup, _EVTX_TOKENS))
    return seeds


def _run_evtx(path: Path, work: Path) -> int:
    from core.events.evtx import read_evtx

    records, problems = read_evtx(path)
    for record in records[:50]:  # the lazy XML render is a reader too
        xml = record.xml  # a property or a method, depending on the model's version
        if callable(xml):
            xml()
    return len(problems)


# -- zip -----------------------------------------------------------------------------------


def zip_fields(data: bytes) -> tuple[list[Field], list[int]]:
    fields: list[Field] = []
    cuts: list[int] = []
    pos = 0
    while (pos := data.find(b"PK\x03\x04", pos)) >= 0:
        fields += [
            (pos + 6, 2),
            (pos + 8, 2),
            (pos + 14, 4),
            (pos + 18, 4),
            (pos + 22, 4),
            (pos + 26, 2),
            (pos + 28, 2),
        ]
        cuts += [pos, pos + 30]
        pos += 4
    pos = 0
    while (pos := data.find(b"PK\x01\x02", pos)) >= 0:
        fields += [(pos + 10, 2), (pos + 20, 4), (pos + 24, 4), (pos + 28, 2), (pos + 42, 4)]
        cuts.append(pos)
        pos += 4
    end = data.rfind(b"PK\x05\x06")
    if end >= 0:
        fields += [(end + 8, 2), (end + 10, 2), (end + 12, 4), (end + 16, 4), (end + 20, 2)]
        cuts.append(end)
    return fields, cuts


@cache
def _zip_seeds(small: bool) -> list[Seed]:
    from tests.builders.cab import Folder, build_cab
    from tests.builders.reg import regedit_reg_text

    reg = codecs.BOM_UTF16_LE + regedit_reg_text(_reg_keys()).encode("utf-16-le")  # type: ignore[arg-type]  # builder Keys alias
    inner = build_cab(
        [
            Folder(
                [
                    ("MdmDiagReport_RegistryDump.reg", b"[HKEY_LOCAL_MACHINE\\x]\r\n"),
                    ("a.log", _text_blob(1500)),
                ],
                "mszip",
            )
        ]
    )
    seeds: list[Seed] = []

    def add(
        name: str, members: list[tuple[str, bytes]], method: int = zipfile.ZIP_DEFLATED
    ) -> None:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", method) as zf:
            for member, content in members:
                zf.writestr(member, content)
        data = buf.getvalue()
        fields, cuts = zip_fields(data)
        seeds.append(Seed(name, data, fields, cuts, tokens=(b"PK\x03\x04", b"../", b"\\")))

    add("diag.zip", [("1 HKLM Autopilot/export.reg", reg), ("2 cab/mdmlogs.cab", inner)])
    add("stored.zip", [("a/b/c.txt", b"hello"), ("x.cab", inner)], zipfile.ZIP_STORED)
    nested = io.BytesIO()
    with zipfile.ZipFile(nested, "w") as zf:
        zf.writestr("deep.cab", inner)
    add("nested.zip", [("inner.zip", nested.getvalue()), ("e.log", b"<![LOG[x]LOG]!>")])
    # A decompression bomb: 64 MB of zeros. The ratio cap must refuse it before extracting.
    add("bomb.zip", [("zeros.bin", bytes(64 * 1024 * 1024))])
    return seeds


def _run_zip(path: Path, work: Path) -> int:
    from core.sources.container import open_source

    opened = open_source(path)
    return len(opened.problems)


# -- text logs and side files --------------------------------------------------------------


_LOG_TOKENS = (
    b"<![LOG[",
    b"]LOG]!>",
    b'<time="',
    b'date="',
    b'" ',
    b">",
    b"\r\n",
    b"+480",
    b'type="3"',
    b"\xef\xbb\xbf",
    b"\xff\xfe",
    b"\x00",
)


@cache
def _cmtrace_seeds(small: bool) -> list[Seed]:
    from tests.builders.logs import cmtrace_line

    base = datetime(2024, 4, 2, 16, 13, 4, tzinfo=UTC)
    lines = [
        cmtrace_line(base + timedelta(minutes=i), f"line {i}\nmore", bias_minutes=b)
        for i, b in enumerate((0, None, 480, -120, None))
    ]
    text = "".join(f"{line}\r\n" for line in lines)
    seeds = [
        Seed("IntuneManagementExtension.log", codecs.BOM_UTF8 + text.encode(), tokens=_LOG_TOKENS),
        Seed(
            "AgentExecutor.log", codecs.BOM_UTF16_LE + text.encode("utf-16-le"), tokens=_LOG_TOKENS
        ),
    ]
    window = 2000 if small else 16000
    for log in _real("ime-logs/*/*.log") + _real("*/extracted/*Executor.log"):
        for piece in _windows(log.read_bytes(), b"\r\n", 3 if small else 10, window, b"<![LOG["):
            seeds.append(Seed(log.name, piece, tokens=_LOG_TOKENS))
    return seeds


def _run_cmtrace(path: Path, work: Path) -> int:
    from core.logs.cmtrace import read_cmtrace

    _lines, problems = read_cmtrace(path)
    return len(problems)


_JSON_TOKENS = (
    b"{",
    b"}",
    b"[",
    b"]",
    b'"',
    b":",
    b",",
    b"null",
    b"1e999",
    b"-",
    b"\\u00",
    b"true",
    b"\r\n",
)


@cache
def _side_seeds(small: bool) -> list[Seed]:
    names = (
        "AutopilotDDSZTDFile.json",
        "MdmDiagLogMetadata.json",
        "DiagnosticsFrameworkData.json",
        "TpmHliInfo_Output.txt",
        "UEFI_Data_Output.txt",
        "DeviceHash_*.csv",
    )
    seeds: list[Seed] = []
    for pattern in names:
        for path in _real(f"*/extracted/{pattern}")[:2] + _real(f"ztd-json/*/{pattern}")[:2]:
            data = path.read_bytes()
            if len(data) <= 64 * 1024:
                seeds.append(
                    Seed(
                        path.name if "*" not in pattern else "DeviceHash_x.csv",
                        data,
                        tokens=_JSON_TOKENS,
                    )
                )
    seeds.append(
        Seed(
            "AutopilotDDSZTDFile.json",
            b'{"ZtdCorrelationId":"x","CloudAssignedOobeConfig":'
            b'1310,"CloudAssignedTenantDomain":"contoso.example"}',
            tokens=_JSON_TOKENS,
        )
    )
    return seeds


def _run_side(path: Path, work: Path) -> int:
    from core.sidefiles import read_side_files

    _files, problems = read_side_files([path])
    return len(problems)


@cache
def _status_seeds(small: bool) -> list[Seed]:
    from core.registry.dump import parse_dump
    from tests.core.esp.builders import esp_status_flat, esp_status_json

    seeds = [
        Seed(
            "status.json",
            esp_status_json(
                "DeviceSetup",
                "inProgress",
                {
                    "AppsSubcategory": ("inProgress", "Installing (1 of 3)"),
                    "CertificatesSubcategory": ("failed", None),
                },
                "Working",
            ).encode(),
            tokens=_JSON_TOKENS,
        ),
        Seed(
            "status.json",
            esp_status_flat({"DevicePreparation.TpmSubcategory": "succeeded"}, True).encode(),
            tokens=_JSON_TOKENS,
        ),
    ]
    for dump in _real("*/extracted/MdmDiagReport_RegistryDump.reg"):
        key = parse_dump(dump).key(r"HKLM\SOFTWARE\Microsoft\Provisioning\AutopilotSettings")
        for value in key.values() if key is not None else []:
            if value.name.endswith("Category.Status") and isinstance(value.data, str):
                seeds.append(Seed("status.json", value.data.encode(), tokens=_JSON_TOKENS))
    return seeds


def _run_status(path: Path, work: Path) -> int:
    from core.esp.knowledge import load
    from core.esp.status import parse_category

    knowledge = _knowledge(load)
    raw = path.read_bytes().decode("utf-8", errors="replace")
    count = 0
    for phase in knowledge.phases:
        _record, problems = parse_category(phase, raw, knowledge, "x.reg:1")
        count += len(problems)
    return count


_KNOWLEDGE: list[object] = []


def _knowledge(load: Callable[[], object]) -> object:
    if not _KNOWLEDGE:
        _KNOWLEDGE.append(load())
    return _KNOWLEDGE[0]


# -- whole shapes: nesting budgets, special files, markup in every string, concurrency ---------


#: The nesting target's budget per top-level input (small, so the seeds reach it).
NESTING_LIMIT = 1_500_000


@cache
def _nesting_seeds(small: bool) -> list[Seed]:
    from tests.builders.cab import Folder, build_cab

    def zipped(members: list[tuple[str, bytes]], method: int = zipfile.ZIP_DEFLATED) -> bytes:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", method) as zf:
            for name, data in members:
                zf.writestr(name, data)
        return buf.getvalue()

    blob = bytes(300_000)  # compresses well: a few inner archives pass the budget, not all
    cab = build_cab([Folder([("a.reg", b"[HKEY_LOCAL_MACHINE\\x]\r\n"), ("z.bin", blob)],
                            "mszip")])  # fmt: skip
    inner = zipped([("z.bin", blob), ("in.cab", cab)])
    seeds = []
    for name, members in (
        ("three.zip", [(f"inner{i}.zip", inner) for i in range(3)]),
        ("deep.zip", [("l1.zip", zipped([("l2.zip", zipped([("l3.zip", inner)]))]))]),
        ("mixed.zip", [("a.cab", cab), ("b.zip", inner), ("c.zip", inner), ("d.cab", cab)]),
    ):
        data = zipped(members, zipfile.ZIP_STORED)
        fields, cuts = zip_fields(data)
        seeds.append(Seed(name, data, fields, cuts, tokens=(b"PK\x03\x04", b"MSCF")))
    return seeds


def _run_nesting(path: Path, work: Path) -> int:
    """Every nesting level draws on one budget: the cache never holds more than it."""
    from core import config
    from core.sources.container import open_source
    from core.sources.safety import Limits

    limits = Limits(max_total_bytes=NESTING_LIMIT, max_ratio=100_000)
    opened = open_source(path, limits=limits)
    cache = config.current().cache_dir
    if cache is not None:
        written = sum(
            f.stat().st_size
            for f in Path(cache).rglob("*")
            if f.is_file() and f.name != ".espview-complete.json"
        )
        assert written <= NESTING_LIMIT, f"{written:,} bytes extracted, budget {NESTING_LIMIT:,}"
    return len(opened.problems)


@cache
def _folder_seeds(small: bool) -> list[Seed]:
    """Any reader's seed, dropped into a folder full of special files."""
    picks = (_dump_seeds(True)[:1] + _cmtrace_seeds(True)[:1] + _evtx_seeds(True)[:1]
             + _cab_seeds(True)[:2] + _zip_seeds(True)[:1] + _side_seeds(True)[:2])  # fmt: skip
    return list(picks)


def _special_files(folder: Path) -> None:
    import os
    import stat

    for name in ("a.evtx", "b.reg", "c.cab", "d.zip", "SOFTWARE", "e.log",
                 "MdmDiagLogMetadata.json"):  # fmt: skip
        os.mkfifo(folder / name)
    with contextlib.suppress(PermissionError, AttributeError):  # root only; POSIX only
        os.mknod(folder / "zero.evtx", stat.S_IFCHR | 0o600, os.makedev(1, 5))  # /dev/zero
    (folder / "loop").symlink_to(folder)
    (folder / "dangling.reg").symlink_to(folder / "missing")
    (folder / "sub").mkdir()
    (folder / "sub" / "up").symlink_to("..")


def _run_folder(path: Path, work: Path) -> int:
    """FIFOs, a device, link loops beside the input: never opened, never followed."""
    from core.evidence import load_evidence

    folder = work / "evidence"
    folder.mkdir()
    path.rename(folder / path.name)
    _special_files(folder)
    evidence = load_evidence(folder)
    return len(evidence.problems)


def _decorate(text: str, index: int) -> str:
    return f"{text}{MARKUP[index % len(MARKUP)].decode('utf-8', 'replace')}"


def _decorate_json(value: object, index: int) -> object:
    if isinstance(value, str):
        return _decorate(value, index)
    if isinstance(value, dict):
        return {k: _decorate_json(v, index + i) for i, (k, v) in enumerate(value.items())}
    if isinstance(value, list):
        return [_decorate_json(v, index + i) for i, v in enumerate(value)]
    return value


@cache
def _markup_seeds(small: bool) -> list[Seed]:
    """The sample capture with a markup or escape payload appended to every string: key
    names, values (inside the JSON they hold too), event data, IME messages, the ZTD file."""
    import json

    from tests.builders.make_sample import build

    cap = build()
    keys: dict[str, dict[str, tuple[str, object]]] = {}
    for i, (path, values) in enumerate(cap.keys.items()):
        head, _, last = path.rpartition("\\")
        decorated: dict[str, tuple[str, object]] = {}
        for j, (name, (kind, raw)) in enumerate(values.items()):
            data = raw
            if isinstance(raw, str):
                try:
                    data = json.dumps(_decorate_json(json.loads(raw), i + j))
                except ValueError:
                    data = _decorate(raw, i + j)
            decorated[_decorate(name, j) if name else name] = (kind, data)
        keys[path if i % 3 else f"{head}\\{_decorate(last, i)}"] = decorated
    cap.keys = keys  # type: ignore[assignment]  # builder alias
    for alias, records in cap.events.items():
        for i, record in enumerate(records):
            record["data"] = _decorate_json(record.get("data", {}), i)
        cap.events[alias] = records
    cap.logs = [
        line.replace("<![LOG[", "<![LOG[" + _decorate("", i), 1) for i, line in enumerate(cap.logs)
    ]
    if cap.ztd is not None:
        cap.ztd = _decorate_json(cap.ztd, 0)  # type: ignore[assignment]  # a dict again
    seeds = []
    for name, data in cap.files():
        tokens = MARKUP
        if name.endswith(".evtx"):
            fields, cuts = evtx_fields(data)
            seeds.append(Seed(name, data, fields, cuts, _evtx_fixup, tokens))
        else:
            seeds.append(Seed(name, data, tokens=tokens))
    return seeds


def _run_markup(path: Path, work: Path) -> int:
    """Through analysis into every report: no payload renders as markup or reaches a
    terminal raw."""
    import json

    from core.esp.analyze import analyze
    from core.evidence import load_evidence
    from core.report import render_html, render_text, report_to_dict

    evidence = load_evidence(path)
    report = analyze(evidence)
    text = render_text(report)
    assert "\x1b" not in text, "a terminal escape in the text report"
    assert "\x07" not in text, "a terminal bell in the text report"
    html = render_html(report)
    for raw in ('<img src="/dev/zero"', '<a href="file:///', "<script>fz", '<b style="color'):
        assert raw not in html, f"{raw!r} rendered as markup in the HTML report"
    json.dumps(report_to_dict(report))
    for problem in evidence.problems:
        assert "\x1b" not in str(problem), "a terminal escape in a problem line"
    return len(evidence.problems)


@cache
def _concurrent_seeds(small: bool) -> list[Seed]:
    return [s for s in _cab_seeds(True) + _zip_seeds(True) if not s.name.startswith("bomb")]


def _run_concurrent(path: Path, work: Path) -> int:
    """Three cold extractions of one archive at once: all see the same, whole folder."""
    import threading

    from core.errors import EspViewError
    from core.problems import Problem
    from core.sources.container import extract_archive, sniff_kind

    kind = sniff_kind(path)
    if kind not in {"cab", "zip"}:
        return 1
    results: list[tuple[Path, list[str], list[Problem]]] = []
    errors: list[BaseException] = []

    def run() -> None:
        problems: list[Problem] = []
        try:
            folder = extract_archive(path, kind, cache_root=work / "cache", problems=problems)
            listing = sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))
            results.append((folder, listing, problems))
        except BaseException as exc:  # noqa: BLE001 - re-raised in the worker's thread
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        if len(errors) != len(threads) and all(isinstance(e, EspViewError) for e in errors):
            raise AssertionError(f"only {len(errors)} of 3 runs failed: {errors[0]}")
        raise errors[0]
    folders = {r[0] for r in results}
    listings = {tuple(r[1]) for r in results}
    assert len(folders) == 1, f"three runs, {len(folders)} folders"
    assert len(listings) == 1, "the runs saw different files"
    return len(results[0][2])


TARGETS: dict[str, Target] = {
    t.name: t
    for t in (
        Target("cab", _cab_seeds, _run_cab),
        Target("lzx", _lzx_seeds, _run_lzx),
        Target("dump", _dump_seeds, _run_dump, text=True),
        Target("regedit", _regedit_seeds, _run_regedit, text=True),
        Target("hive", _hive_seeds, _run_hive),
        Target("evtx", _evtx_seeds, _run_evtx),
        Target("zip", _zip_seeds, _run_zip),
        Target("cmtrace", _cmtrace_seeds, _run_cmtrace, text=True),
        Target("sidefiles", _side_seeds, _run_side, text=True),
        Target("status", _status_seeds, _run_status, text=True),
        Target("nesting", _nesting_seeds, _run_nesting),
        Target("folder", _folder_seeds, _run_folder),
        Target("markup", _markup_seeds, _run_markup, text=True),
        Target("concurrent", _concurrent_seeds, _run_concurrent),
    )
}
