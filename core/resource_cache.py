"""Knowledge files parsed once per version, not once per run.

``tomllib`` is pure Python: parsing the knowledge, error and message tables (about 400 KB
of TOML) was about a tenth of a warm ``espview report`` of a big capture; checking the 5,000
lines of the code table line by line cost another 2%. The parsed
document is kept in the cache folder as JSON, keyed by the SHA-256 of the file's bytes, so
an edited or upgraded file is parsed afresh. Only documents that JSON gives back exactly are
kept (a TOML date would come back as text: such a file is simply parsed every time). A
missing, damaged or unwritable cache only means parsing; errors in the TOML itself are
raised exactly as ``tomllib`` raises them, since a file with errors is never cached. The same
holds for a loader's own check of a document (the message table is compiled in full): it runs
when the file is parsed, and only a document that passed it is kept.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from core.paths import cache_dir

log = logging.getLogger(__name__)

#: Bump when the stored form changes.
CACHE_FOLDER = "knowledge-v1"


def load_toml(
    path: Path, *, check: Callable[[dict[str, Any]], object] | None = None, kind: str = ""
) -> dict[str, Any]:
    """``tomllib.load`` of ``path``, from the cache folder when this exact file was parsed
    before.

    ``check`` (named by ``kind``, part of the stored name) runs on the document when the
    file is parsed and raises when the document is malformed: only a document that passed it
    is stored, so a warm run may read it without checking it again.
    """

    def parse(text: str) -> dict[str, Any]:
        import tomllib  # noqa: PLC0415 - a warm run reads stored copies and never needs it

        doc = tomllib.loads(text)
        if check is not None:
            check(doc)
        return doc

    return load_parsed(path, parse, kind)


def load_parsed(path: Path, parse: Callable[[str], dict[str, Any]], kind: str) -> dict[str, Any]:
    """``parse(text of path)`` (UTF-8), from the cache folder when this exact file was parsed
    before by the parser named ``kind`` (part of the stored name: bump it when ``parse``
    changes what it returns). ``parse`` returns a JSON document; it raises on a malformed
    file, which is then never stored."""
    data = path.read_bytes()
    key = hashlib.sha256(data).hexdigest()
    stored = _stored_path(f"{path.name}{kind}", key)
    if stored is not None:
        doc = _read_stored(stored)
        if doc is not None:
            return doc
    doc = parse(data.decode("utf-8"))
    if stored is not None:
        _store(stored, doc)
    return doc


def _stored_path(name: str, key: str) -> Path | None:
    try:
        return cache_dir() / CACHE_FOLDER / f"{name}.{key[:32]}.json"
    except OSError:
        return None


def _loads(blob: bytes) -> Any:
    try:
        import orjson  # noqa: PLC0415 - optional speed-up, checked at use
    except ImportError:
        return json.loads(blob)
    return orjson.loads(blob)


def _read_stored(stored: Path) -> dict[str, Any] | None:
    try:
        doc = _loads(stored.read_bytes())
    except (OSError, ValueError):  # absent, unreadable or damaged: parse the TOML instead
        return None
    return doc if isinstance(doc, dict) else None


def _store(stored: Path, doc: dict[str, Any]) -> None:
    try:
        blob = json.dumps(doc, ensure_ascii=False, allow_nan=False).encode("utf-8")
        if _loads(blob) != doc:
            return  # not exactly representable: parse every time
        stored.parent.mkdir(parents=True, exist_ok=True)
        # Written beside its final name and renamed: a reader never sees half a file, and
        # two processes storing at once both store the same bytes.
        fd, tmp = tempfile.mkstemp(dir=stored.parent, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(blob)
            os.replace(tmp, stored)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except (OSError, TypeError, ValueError) as exc:  # a read-only cache or an odd value
        log.debug("%s: parsed knowledge not cached (%s)", stored.name, exc)
