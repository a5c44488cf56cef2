from __future__ import annotations

import os
import random
from fractions import Fraction
from pathlib import Path

import pytest

from stoat.library.probe import NotAVideo, ProbeError, describe_os_error, probe_video
from tests.media import make_audio_file, make_clip, truncate
from tests.unprivileged import permissions_enforced


@pytest.mark.parametrize(
    ("name", "codec", "audio", "audio_codec"),
    [
        ("a.mp4", "h264", True, "aac"),
        ("b.mp4", "h264", False, None),
        ("c.mkv", "h264", True, "aac"),
        ("d.webm", "vp9", True, "opus"),
        ("e.webm", "vp9", False, None),
        ("f.avi", "mpeg4", True, "mp3"),
        ("g.avi", "mpeg4", False, None),
        ("h.mov", "h264", False, None),
    ],
)
def test_metadata_matches_what_was_written(
    tmp_path: Path, name: str, codec: str, audio: bool, audio_codec: str | None
) -> None:
    clip = make_clip(tmp_path / name, seconds=2, fps=25, width=320, height=240, audio=audio)

    info = probe_video(str(clip))

    assert (info.width, info.height) == (320, 240)
    assert info.video_codec == codec
    assert info.audio_codec == audio_codec
    assert info.frame_rate == Fraction(25)
    assert info.duration == pytest.approx(2.0, abs=0.1)
    assert info.duration_frames == pytest.approx(50, abs=2)
    assert info.size == clip.stat().st_size
    assert info.mtime_ns == clip.stat().st_mtime_ns


@pytest.mark.parametrize("ext", ["mkv", "mp4"])
def test_fractional_frame_rate_is_kept_as_a_fraction(tmp_path: Path, ext: str) -> None:
    clip = make_clip(tmp_path / f"ntsc.{ext}", fps=Fraction(30000, 1001), seconds=1)
    assert probe_video(str(clip)).frame_rate == Fraction(30000, 1001)


def test_audio_only_file_is_not_a_video(tmp_path: Path) -> None:
    with pytest.raises(NotAVideo, match="audio"):
        probe_video(str(make_audio_file(tmp_path / "song.mp4")))


def test_cover_art_is_not_a_video(tmp_path: Path) -> None:
    with pytest.raises(NotAVideo, match="cover image"):
        probe_video(str(make_audio_file(tmp_path / "song.mp4", cover=True)))


def test_empty_file_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "empty.mp4").touch()
    with pytest.raises(ProbeError, match="empty"):
        probe_video(str(tmp_path / "empty.mp4"))


def test_random_bytes_are_an_error(tmp_path: Path) -> None:
    junk = tmp_path / "junk.mp4"
    # Seeded: now and then truly random bytes sniff as some container with no video stream.
    junk.write_bytes(random.Random(2).randbytes(4096))
    with pytest.raises(ProbeError, match="invalid"):
        probe_video(str(junk))


def test_truncated_mp4_is_an_error(tmp_path: Path) -> None:
    clip = truncate(make_clip(tmp_path / "cut.mp4", seconds=2), keep=0.5)
    with pytest.raises(ProbeError):
        probe_video(str(clip))


def test_folder_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "x.mkv").mkdir()
    with pytest.raises(ProbeError, match="folder"):
        probe_video(str(tmp_path / "x.mkv"))


def test_fifo_is_refused_without_opening_it(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "x.mp4")
    with pytest.raises(ProbeError, match="not a regular file"):
        probe_video(str(tmp_path / "x.mp4"))


def test_vanished_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ProbeError, match="disappeared"):
        probe_video(str(tmp_path / "gone.mp4"))


def test_permission_denied_is_said_in_words() -> None:
    assert "permission denied" in describe_os_error(PermissionError(13, "Permission denied"))


def test_unreadable_file_is_an_error(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "secret.mp4")
    clip.chmod(0)
    # Root too: its override capabilities are given up for the probe (tests/unprivileged.py).
    with permissions_enforced(), pytest.raises(ProbeError, match="permission denied"):
        probe_video(str(clip))
