"""Turn the bytes of a Windows text file into ``str``, whatever encoding Windows chose.

Windows tools write UTF-8 with or without a BOM, UTF-16LE with a BOM (PowerShell,
``AutopilotDDSZTDFile.json``) and now and then UTF-16 without one. The caller gets text it can
always work with plus, when bytes had to be replaced, one sentence saying so.
"""

from __future__ import annotations

import codecs

_UTF16_SNIFF = 64  # bytes looked at to guess BOM-less UTF-16


def _looks_utf16le(data: bytes) -> bool:
    """True when the odd bytes of the head are mostly NUL (ASCII text stored as UTF-16LE)."""
    head = data[:_UTF16_SNIFF]
    if len(head) < 4:
        return False
    odd = head[1::2]
    even = head[0::2]
    return odd.count(0) >= len(odd) * 3 // 4 and even.count(0) <= len(even) // 4


def decode_text(data: bytes) -> tuple[str, str | None]:
    """Decode ``data``; return ``(text, warning)``.

    ``warning`` is ``None`` for a clean decode, otherwise a sentence for a Problem (the text
    then holds U+FFFD where bytes could not be read). A leading BOM is removed; BOMs in the
    middle (a second writer started the file again) are kept for the parser to skip.
    """
    if data.startswith(codecs.BOM_UTF8):
        encoding, body = "utf-8", data[len(codecs.BOM_UTF8) :]
    elif data.startswith(codecs.BOM_UTF16_LE):
        encoding, body = "utf-16-le", data[2:]
    elif data.startswith(codecs.BOM_UTF16_BE):
        encoding, body = "utf-16-be", data[2:]
    elif _looks_utf16le(data):
        encoding, body = "utf-16-le", data
    else:
        encoding, body = "utf-8", data
    if encoding.startswith("utf-16") and len(body) % 2:
        # A file cut in the middle of a UTF-16 code unit: drop the half unit, say so.
        body = body[:-1]
        try:
            return body.decode(encoding), "the file ends in the middle of a character"
        except UnicodeDecodeError:
            return body.decode(encoding, errors="replace"), f"not valid {encoding.upper()} text"
    try:
        return body.decode(encoding), None
    except UnicodeDecodeError as exc:
        text = body.decode(encoding, errors="replace")
        return text, (
            f"not valid {encoding.upper()} text (first bad byte at offset "
            f"{exc.start + len(data) - len(body)}); unreadable bytes are shown as replacement "
            "characters"
        )
