"""Fingerprints read a bounded part of any file; the full hash tells apart what they cannot."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from stoat.library.fingerprint import (
    SAMPLE,
    WHOLE_UP_TO,
    content_hash,
    fingerprint_fd,
    fingerprint_file,
    sample_offsets,
)


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def noise(size: int, seed: int = 1) -> bytes:
    return random.Random(seed).randbytes(size)


def test_a_small_file_is_hashed_whole(tmp_path: Path) -> None:
    a = write(tmp_path / "a", noise(1000))
    b = write(tmp_path / "b", noise(1000)[:-1] + b"\0")

    fa, fb = fingerprint_file(str(a)), fingerprint_file(str(b))

    assert (fa.size, fa.bytes_read) == (1000, 1000)
    assert fa.digest != fb.digest
    assert len(fa.digest) == 32 and fa.inode == a.stat().st_ino


def test_a_file_of_one_byte_is_hashed(tmp_path: Path) -> None:
    one = fingerprint_file(str(write(tmp_path / "a", b"x")))
    other = fingerprint_file(str(write(tmp_path / "b", b"y")))
    assert (one.bytes_read, one.digest != other.digest) == (1, True)


def test_a_large_file_costs_three_samples_whatever_its_size(tmp_path: Path) -> None:
    path = tmp_path / "big"
    with path.open("wb") as file:
        file.write(noise(SAMPLE))
        # A sparse 5 GiB file: the fingerprint must not read it through.
        file.seek(5 * 1024**3)
        file.write(noise(SAMPLE, seed=2))

    print_ = fingerprint_file(str(path))

    assert print_.size == 5 * 1024**3 + SAMPLE
    assert print_.bytes_read == 3 * SAMPLE


def test_the_samples_are_the_start_the_middle_and_the_end() -> None:
    assert sample_offsets(WHOLE_UP_TO) == (0,)
    size = 10 * SAMPLE
    assert sample_offsets(size) == (0, (size - SAMPLE) // 2, size - SAMPLE)


def test_files_of_other_sizes_never_share_a_fingerprint(tmp_path: Path) -> None:
    data = noise(WHOLE_UP_TO * 4)
    a = write(tmp_path / "a", data)
    b = write(tmp_path / "b", data + data[-SAMPLE:])
    assert fingerprint_file(str(a)).digest != fingerprint_file(str(b)).digest


def test_files_that_differ_only_between_samples_share_a_fingerprint_not_a_content_hash(
    tmp_path: Path,
) -> None:
    data = bytearray(noise(8 * SAMPLE))
    a = write(tmp_path / "a", bytes(data))
    data[SAMPLE + 10] ^= 0xFF  # inside no sample
    b = write(tmp_path / "b", bytes(data))

    assert fingerprint_file(str(a)).digest == fingerprint_file(str(b)).digest
    assert content_hash(str(a)) != content_hash(str(b))
    assert content_hash(str(a)) == content_hash(str(write(tmp_path / "c", a.read_bytes())))


def test_a_file_that_shrank_since_its_size_was_taken_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path / "a", noise(4 * SAMPLE))
    fd = os.open(path, os.O_RDONLY)
    try:
        with pytest.raises(OSError, match="changed while it was read"):
            fingerprint_fd(fd, 8 * SAMPLE)
    finally:
        os.close(fd)
