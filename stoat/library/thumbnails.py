"""Pick one representative keyframe with PyAV, scale it in FFmpeg, save it as a JPEG.

Knows files and PyAV, not Django. The steps are separate functions (pick, scale, save) so the
benchmarks can time each one.
"""

from __future__ import annotations

import math
import os
import re
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

import av.error
from av.codec.context import CodecContext
from av.container import InputContainer
from av.video.frame import VideoFrame
from av.video.reformatter import VideoReformatter
from av.video.stream import VideoStream
from PIL import Image

from stoat.library.probe import ProbeError, VideoFile, open_video

# Below this length the first keyframe is taken; above it, one a tenth of the way in.
SHORT_VIDEO_SECONDS = 4.0
# A dark or flat keyframe is replaced by one further in, this many times, then the best is kept.
MAX_REPLACEMENTS = 3
# Mean luma (0-255) under which a picture is near-black; spread under which it is one flat colour.
DARK_MEAN = 32.0
FLAT_STDDEV = 8.0
# Packets read after a seek looking for a keyframe before giving up on keyframes there.
MAX_KEY_PACKETS = 600
# Packets decoded by the fallback before settling for the last frame decoded (or none).
MAX_PACKETS = 300
# Skipping the loop filter saves part of a keyframe's decode and changes a 480-pixel thumbnail by
# under one level (docs/benchmarks.md).
DECODER_OPTIONS = {"skip_loop_filter": "all"}
# From this size up a keyframe is decoded by slice threads: its slices (x264, hardware encoders)
# or rows (HEVC wavefronts) on several cores at once, in the same CPU time, so a core that no
# other file keeps busy helps. Below it, starting the threads costs more than they save.
THREADED_PIXELS = 1280 * 720
MAX_DECODER_THREADS = 4
JPEG_QUALITY = 82
# Luma samples per row and rows looked at when judging a picture dark or flat.
SAMPLE_GRID = 48

# Building FFmpeg's scaling context costs more than a small conversion itself, and a library's
# files mostly share a size and format: keep one scaler per process (steps may run in threads).
_scaler = VideoReformatter()
_scaler_lock = threading.Lock()


@dataclass(frozen=True)
class Pick:
    """The frame chosen for the thumbnail and how it was found."""

    frame: VideoFrame
    keyframe: bool  # False: no usable keyframe, frames were decoded from the start instead
    tries: int  # keyframes looked at


def thumbnail_name(key: str) -> str:
    """Where a video's thumbnail lives, relative to the thumbnail folder."""
    return f"{key[:2]}/{key}.jpg"


# Every name thumbnail_name makes from a key (a SHA-256 in hex), and nothing else.
THUMBNAIL_NAME = re.compile(r"([0-9a-f]{2})/\1[0-9a-f]{62}\.jpg")


def is_thumbnail_name(name: str) -> bool:
    """Whether a stored name is one stoat writes: relative, no `..`, inside the thumbnail folder."""
    return THUMBNAIL_NAME.fullmatch(name) is not None


def seek_target(duration: float | None) -> float:
    """Seconds into the video to take the thumbnail from: past a black opening, not too deep."""
    if duration is None or duration <= SHORT_VIDEO_SECONDS:
        return 0.0
    return min(max(duration * 0.1, 1.0), 120.0)


def luma_stats(frame: VideoFrame) -> tuple[float, float]:
    """Mean and standard deviation of the picture's brightness, from a grid of samples."""
    name = frame.format.name
    if not (
        name.startswith(("yuv", "nv12", "nv21", "gray")) and frame.format.components[0].bits == 8
    ):
        # 10-bit, RGB, palette: FFmpeg makes a small 8-bit grey copy to sample instead.
        frame = frame.reformat(width=SAMPLE_GRID, height=SAMPLE_GRID, format="gray")
    plane = frame.planes[0]
    data = memoryview(plane)
    width, height, stride = plane.width, plane.height, plane.line_size
    step_x = max(1, width // SAMPLE_GRID)
    step_y = max(1, height // SAMPLE_GRID)
    samples = bytearray()
    for row in range(step_y // 2, height, step_y):
        start = row * stride
        samples += data[start + step_x // 2 : start + width : step_x].tobytes()
    count = len(samples)
    mean = sum(samples) / count
    variance = sum(value * value for value in samples) / count - mean * mean
    return mean, math.sqrt(max(0.0, variance))


def decoder_threads(width: int, height: int, limit: int | None = None) -> int:
    """Slice threads for a picture of this size: one per core this process may use, up to 4
    (or `limit`)."""
    if width * height < THREADED_PIXELS:
        return 1
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(cores or 1, MAX_DECODER_THREADS, limit or MAX_DECODER_THREADS))


def prepare_decoder(stream: VideoStream, threads: int | None = None) -> CodecContext:
    """Decode keyframes only, cheaply; on up to `threads` threads (None: as many as help)."""
    ctx = stream.codec_context
    threads = decoder_threads(ctx.width, ctx.height, threads)
    ctx.thread_type = "SLICE" if threads > 1 else "NONE"
    ctx.thread_count = threads
    ctx.skip_frame = "NONKEY"
    ctx.options = dict(DECODER_OPTIONS)
    return ctx


def keyframe_at(
    container: InputContainer, stream: VideoStream, seconds: float
) -> VideoFrame | None:
    """The first keyframe at or after `seconds` (or before it, at the end), or None."""
    ctx = stream.codec_context
    offset = int(seconds / stream.time_base) if stream.time_base else 0
    if stream.start_time is not None:
        offset += stream.start_time
    try:
        container.seek(offset, stream=stream, backward=False)
    except av.error.FFmpegError:
        # No keyframe after the target (a long last GOP): the one before it will do.
        try:
            container.seek(offset, stream=stream)
        except av.error.FFmpegError:
            return None
    for count, packet in enumerate(container.demux(stream)):
        if count >= MAX_KEY_PACKETS:
            return None
        if not packet.is_keyframe or packet.size == 0:
            continue
        try:
            # Sent alone and drained at once: no waiting for reordered frames that never come.
            frames = ctx.decode(packet) + ctx.decode(None)
        except av.error.FFmpegError:
            frames = []
        ctx.flush_buffers()
        if frames:
            return frames[0]
    return None


def decode_from_start(container: InputContainer, stream: VideoStream, target: float) -> VideoFrame:
    """The first frame at or after the target, decoding every frame from the start."""
    ctx = stream.codec_context
    ctx.skip_frame = "DEFAULT"
    container.seek(0)
    best: VideoFrame | None = None
    error: av.error.FFmpegError | None = None
    for count, packet in enumerate(container.demux(stream)):
        try:
            for frame in ctx.decode(packet):
                best = frame
                if frame.time is None or frame.time >= target:
                    return best
        except av.error.FFmpegError as damaged:
            error = damaged  # a damaged packet: the next ones may decode
        if count >= MAX_PACKETS:
            break
    if best is not None:
        return best
    if error is not None:
        raise ProbeError(f"the video stream is damaged: {error.strerror}") from error
    raise ProbeError("no picture could be decoded from the video stream")


def pick_frame(video: VideoFile, threads: int | None = None) -> Pick:
    """A keyframe near a tenth of the way in; a dark or flat one is replaced by one further in."""
    container, stream = video.container, video.stream
    duration = video.info.duration
    prepare_decoder(stream, threads)
    target = seek_target(duration)
    # Each replacement is the first keyframe a tenth of the video further on: the next keyframe
    # itself is often seconds away, still inside the same fade or black opening.
    step = max((duration or 0.0) * 0.1, 1.0)
    best: VideoFrame | None = None
    best_score = (False, -1.0)
    last_pts: int | None = None
    tries = 0
    for attempt in range(MAX_REPLACEMENTS + 1):
        frame = keyframe_at(container, stream, target + attempt * step)
        if frame is None or (tries and frame.pts == last_pts):
            break  # no keyframe further on
        tries += 1
        last_pts = frame.pts
        mean, spread = luma_stats(frame)
        if mean >= DARK_MEAN and spread >= FLAT_STDDEV:
            return Pick(frame, keyframe=True, tries=tries)
        # All dull: keep the one that is not dark and has the most detail.
        score = (mean >= DARK_MEAN, spread)
        if score > best_score:
            best, best_score = frame, score
    if best is not None:
        return Pick(best, keyframe=True, tries=tries)
    return Pick(decode_from_start(container, stream, target), keyframe=False, tries=tries)


def thumbnail_size(width: int, height: int, max_size: int) -> tuple[int, int]:
    scale = min(1.0, max_size / max(width, height))
    return max(2, round(width * scale)), max(2, round(height * scale))


def scale(frame: VideoFrame, max_size: int) -> Image.Image:
    """One FFmpeg reformat straight to the thumbnail's size, as an RGB picture."""
    width, height = thumbnail_size(frame.width, frame.height, max_size)
    if not _scaler_lock.acquire(blocking=False):
        rgb = frame.reformat(width=width, height=height, format="rgb24")
    else:
        try:
            rgb = _scaler.reformat(frame, width=width, height=height, format="rgb24")
        finally:
            _scaler_lock.release()
    return rgb.to_image()  # type: ignore[no-untyped-call,no-any-return]


def save_jpeg(image: Image.Image, dest: Path) -> None:
    """Write the picture to `dest` atomically: a reader never sees half a file."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            image.save(out, format="JPEG", quality=JPEG_QUALITY)
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_thumbnail(
    video: VideoFile, dest: Path, max_size: int, threads: int | None = None
) -> Pick:
    """Write a JPEG of one representative frame of the opened video to `dest` (decoding on up to
    `threads` threads; None: as many as help)."""
    pick = pick_frame(video, threads)
    save_jpeg(scale(pick.frame, max_size), dest)
    return pick


def make_thumbnail(path: str, dest: Path, max_size: int) -> Pick:
    """Open `path`, and write a JPEG of one representative frame of it to `dest`."""
    with open_video(path) as video:
        return write_thumbnail(video, dest, max_size)
