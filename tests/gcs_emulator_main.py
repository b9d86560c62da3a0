"""Runs gcp-storage-emulator with its multipart upload bodies read byte for byte.

The emulator parses a multipart upload with Python's email parser, which takes a carriage
return before the closing boundary for part of the line break. gcsfs ends an upload's content
with a bare "\\n--boundary", so an object whose last byte is 0x0D ("\\r") was stored one byte
short. An event file ends on a record's checksum, so about one upload in 256 lost its last
record (seen as a step missing from a run TensorBoard followed: the segment's last upload had
that byte). Google Cloud Storage stores the bytes as sent; this launcher gives the emulator the
same behaviour by splitting `multipart/related` bodies on the exact boundary, taking off only
the line break that belongs to it. Every other request goes to the emulator's own parser.

    python tests/gcs_emulator_main.py start --host 127.0.0.1 --port 9023 --quiet
"""

from __future__ import annotations

import base64
import json
import re
import sys

from gcp_storage_emulator import server
from gcp_storage_emulator.__main__ import main

_BOUNDARY = re.compile(r'boundary="?([^";]+)"?')


def _split_headers(part: bytes) -> tuple[dict[str, str], bytes]:
    """A part's headers (lower-case names) and its body."""
    newline = b"\r\n" if part.startswith(b"\r\n") else b"\n"
    head, _, body = part[len(newline) :].partition(newline * 2)
    headers = {}
    for line in head.split(newline):
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    return headers, body


def read_multipart_related(raw: bytes, content_type: str) -> dict:
    """The emulator's {"meta", "content", "content-type"} of a multipart upload, exactly."""
    boundary = _BOUNDARY.search(content_type).group(1).encode("latin-1")
    opening = b"--" + boundary
    # The line break before a boundary belongs to it (RFC 2046), not to the part before it;
    # the client's own line break (gcsfs: "\n", others "\r\n") is the one after the first
    # boundary, so a part ending in "\r" keeps it.
    newline = b"\r\n" if raw.startswith(opening + b"\r\n") else b"\n"
    parts = raw[len(opening) :].split(newline + opening)[:-1]  # up to the closing boundary
    _, meta = _split_headers(parts[0])
    headers, content = _split_headers(parts[1])
    if headers.get("content-transfer-encoding", "").lower() == "base64":
        content = base64.b64decode(content)
    return {
        "meta": json.loads(meta),
        "content": content,
        "content-type": headers.get("content-type", "application/octet-stream"),
    }


_emulator_read_data = server._read_data


def _read_data(request_handler, query):
    content_type = request_handler.headers.get("Content-Type") or ""
    if not content_type.startswith("multipart/related"):
        return _emulator_read_data(request_handler, query)
    raw = server._decode_raw_data(server._read_raw_data(request_handler), request_handler)
    return read_multipart_related(raw, content_type) if raw else None


server._read_data = _read_data

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
