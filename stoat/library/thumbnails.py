"""Decode one representative frame with PyAV and save it as a JPEG. Knows files, not Django."""

from __future__ import annotations

import os
import tempfile
import threading
from pathlib import Path

import av
import av.error
from av.video.frame import VideoFrame
from av.video.reformatter import VideoReformatter

from stoat.library.probe import ProbeError, first_real_video_stream, open_input

# Packets to read after the seek before settling for the last frame decoded (or none).
MAX_PACKETS = 300
# Below this length the first frame is taken; above it, a frame a tenth of the way in.
SHORT_VIDEO_SECONDS = 4.0

# Building FFmpeg's scaling context costs more than a small conversion itself, and a library's
# files mostly share a size and format: keep one scaler per process (steps may run in threads).
_scaler = VideoReformatter()
_scaler_lock = threading.Lock()


def to_rgb(frame: VideoFrame, width: int, height: int) -> VideoFrame:
    if not _scaler_lock.acquire(blocking=False):
        return frame.reformat(width=width, height=height, format="rgb24")
    try:
        return _scaler.reformat(frame, width=width, height=height, format="rgb24")
    finally:
        _scaler_lock.release()


def thumbnail_name(key: str) -> str:
    """Where a video's thumbnail lives, relative to the thumbnail folder."""
    return f"{key[:2]}/{key}.jpg"


def seek_target(duration: float | None) -> float:
    """Seconds into the video to take the thumbnail from: past a black opening, not too deep."""
    if duration is None or duration <= SHORT_VIDEO_SECONDS:
        return 0.0
    return min(max(duration * 0.1, 1.0), 120.0)


def decode_frame(path: str, duration: float | None) -> VideoFrame:
    """The first frame at or after the target time (or the last one decoded before giving up)."""
    with open_input(path) as container:
        stream = first_real_video_stream(container)
        if stream is None:
            raise ProbeError("no video stream to take a thumbnail from")
        # One frame is wanted: frame threads would decode several ahead and cost a thread start.
        stream.thread_type = "NONE"
        target = seek_target(duration)
        if target > 0 and stream.time_base:
            try:
                # Lands on the keyframe before the target; frames are decoded from there on.
                container.seek(int(target / stream.time_base), stream=stream)
            except av.error.FFmpegError:
                container.seek(0)
        best: VideoFrame | None = None
        try:
            for count, packet in enumerate(container.demux(stream)):
                for frame in packet.decode():
                    best = frame
                    if frame.time is None or frame.time >= target:
                        return best
                if count >= MAX_PACKETS:
                    break
        except av.error.FFmpegError as error:
            if best is None:
                raise ProbeError(f"the video stream is damaged: {error.strerror}") from error
    if best is None:
        raise ProbeError("no picture could be decoded from the video stream")
    return best


def make_thumbnail(path: str, dest: Path, duration: float | None, max_size: int) -> None:
    """Write a JPEG of one representative frame of `path` to `dest` (atomically)."""
    frame = decode_frame(path, duration)
    scale = min(1.0, max_size / max(frame.width, frame.height))
    width = max(2, round(frame.width * scale))
    height = max(2, round(frame.height * scale))
    image = to_rgb(frame, width, height).to_image()  # type: ignore[no-untyped-call]
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            image.save(out, format="JPEG", quality=82)
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
