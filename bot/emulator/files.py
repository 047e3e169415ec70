"""Files kept in memory: uploads from bots and users, addressed by file_id and file_path."""

from __future__ import annotations

import mimetypes
import secrets
import struct

from .errors import bad_request
from .models import StoredFile
from .params import Upload


class FileStore:
    def __init__(self) -> None:
        self.by_id: dict[str, StoredFile] = {}
        self.by_path: dict[str, StoredFile] = {}
        self._counter = 0

    def add(self, upload: Upload, kind: str) -> StoredFile:
        self._counter += 1
        name = upload.filename or f"file_{self._counter}"
        mime = upload.content_type
        if not mime or mime == "application/octet-stream":
            mime = mimetypes.guess_type(name)[0] or "application/octet-stream"
        suffix = mimetypes.guess_extension(mime) or ""
        if "." in name:
            suffix = "." + name.rsplit(".", 1)[1]
        folder = "photos" if kind == "photo" else "documents"
        width, height = image_size(upload.data) if kind == "photo" else (0, 0)
        stored = StoredFile(
            file_id=f"{kind[:3].upper()}{self._counter}-{secrets.token_urlsafe(12)}",
            file_unique_id=f"U{self._counter}{secrets.token_hex(4)}",
            file_path=f"{folder}/file_{self._counter}{suffix}",
            data=upload.data,
            file_name=name if kind == "document" else None,
            mime_type=mime,
            width=width,
            height=height,
        )
        self.by_id[stored.file_id] = stored
        self.by_path[stored.file_path] = stored
        return stored

    def resolve(self, value: str | Upload, kind: str) -> StoredFile:
        """A file parameter: reuse an existing file_id or store a new upload."""
        if isinstance(value, Upload):
            return self.add(value, kind)
        stored = self.by_id.get(value)
        if stored is None:
            # there is no internet here to fetch URLs from, and unknown ids are Telegram's 400
            raise bad_request("wrong file identifier/HTTP URL specified")
        return stored

    def get(self, file_id: str) -> StoredFile:
        stored = self.by_id.get(file_id)
        if stored is None:
            raise bad_request("invalid file_id")
        return stored

    def clear(self) -> None:
        self.by_id.clear()
        self.by_path.clear()


def image_size(data: bytes) -> tuple[int, int]:
    """Width and height of a PNG, GIF or JPEG image; (0, 0) if it is none of them."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        return struct.unpack(">II", data[16:24])
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        return struct.unpack("<HH", data[6:10])
    if data[:2] == b"\xff\xd8":
        return _jpeg_size(data)
    return 0, 0


def _jpeg_size(data: bytes) -> tuple[int, int]:
    pos = 2
    while pos + 9 < len(data):
        if data[pos] != 0xFF:
            return 0, 0
        marker = data[pos + 1]
        length = struct.unpack(">H", data[pos + 2 : pos + 4])[0]
        # SOF0..SOF15 carry the frame size, except DHT (C4), JPG (C8) and DAC (CC)
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[pos + 5 : pos + 9])
            return width, height
        pos += 2 + length
    return 0, 0
