"""Content fingerprints of files: who a file is, whatever its name. Knows files, not Django.

A fingerprint is XXH3-128 over the file's size and three 64 KiB samples (start, middle, end),
so it costs at most 192 KiB of reading however large the file is; a file no larger than the
three samples is hashed whole. Two files with equal fingerprints are *probably* identical;
`content_hash` reads every byte to confirm it.
"""

from __future__ import annotations

import os
from typing import NamedTuple

import xxhash

SAMPLE = 64 * 1024
# Up to this size the samples would overlap: the whole file is hashed instead.
WHOLE_UP_TO = 3 * SAMPLE
CHUNK = 1024 * 1024


class Fingerprint(NamedTuple):
    size: int
    digest: str  # 32 hex digits
    bytes_read: int
    inode: int = 0


def sample_offsets(size: int) -> tuple[int, ...]:
    """Where the samples of a file of `size` bytes start."""
    if size <= WHOLE_UP_TO:
        return (0,)
    return (0, (size - SAMPLE) // 2, size - SAMPLE)


def fingerprint_fd(fd: int, size: int, inode: int = 0) -> Fingerprint:
    """Fingerprint of an open file whose size is `size`; raises OSError when it cannot be read."""
    digest = xxhash.xxh3_128()
    # The size goes in first: equal samples of files of different sizes never match.
    digest.update(size.to_bytes(8, "little"))
    length = size if size <= WHOLE_UP_TO else SAMPLE
    read = 0
    for offset in sample_offsets(size):
        data = os.pread(fd, length, offset)
        if len(data) != length:
            # The file shrank since its size was taken: not the file we were asked about.
            raise OSError(f"the file changed while it was read ({size} bytes expected)")
        digest.update(data)
        read += len(data)
    return Fingerprint(size, digest.hexdigest(), read, inode)


def fingerprint_file(path: str) -> Fingerprint:
    """Fingerprint of the file at `path` (its size taken from the open file)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        st = os.fstat(fd)
        return fingerprint_fd(fd, st.st_size, st.st_ino)
    finally:
        os.close(fd)


def content_hash(path: str) -> str:
    """XXH3-128 of every byte of the file: what confirms that two files are identical."""
    digest = xxhash.xxh3_128()
    with open(path, "rb", buffering=0) as file:
        digest.update(os.fstat(file.fileno()).st_size.to_bytes(8, "little"))
        while chunk := file.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
