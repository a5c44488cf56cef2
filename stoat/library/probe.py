"""Read a video file's metadata in-process with PyAV. Knows files and PyAV, nothing of Django."""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass
from fractions import Fraction

import av
import av.error
from av.container import InputContainer
from av.stream import Disposition
from av.video.stream import VideoStream

from stoat.library.stills import STILL_IMAGE, is_still_image

# FFmpeg's interrupt callback gives up on a file that keeps it busy longer than this.
OPEN_TIMEOUT = 10.0
# While opening, FFmpeg decodes the first frames to learn what the header already says (up to
# seven H.264 frames: as much as the thumbnail itself). Keyframes only: the open costs ~1 ms.
OPEN_OPTIONS = {"skip_frame": "nonkey"}


class ProbeError(Exception):
    """The file could not be read; the message says why in a user's words."""


class NotAVideo(Exception):
    """The file was read, but holds no real video stream (audio only, a cover image)."""


@dataclass(frozen=True)
class VideoInfo:
    container: str
    duration: float | None
    duration_frames: int | None
    frame_rate: Fraction | None
    width: int
    height: int
    video_codec: str
    audio_codec: str | None
    bit_rate: int | None
    size: int
    mtime_ns: int


def describe_os_error(error: OSError, what: str = "file") -> str:
    if isinstance(error, FileNotFoundError):
        return f"the {what} disappeared during the scan"
    if isinstance(error, PermissionError):
        return f"permission denied: stoat may not read this {what}"
    if error.errno == errno.ENAMETOOLONG:
        return "the path is too long for the file system"
    if error.errno == errno.ELOOP:
        return "the path goes round a loop of symbolic links"
    return f"could not read the file ({error.strerror or error})"


def check_regular_file(path: str) -> os.stat_result:
    """Stat the file and refuse anything that would block or mislead a reader."""
    try:
        st = os.stat(path)
    except OSError as error:
        raise ProbeError(describe_os_error(error)) from error
    if stat.S_ISDIR(st.st_mode):
        raise ProbeError("this is a folder, not a file")
    if not stat.S_ISREG(st.st_mode):
        raise ProbeError("not a regular file (a pipe, socket or device); it was not opened")
    if st.st_size == 0:
        raise ProbeError("the file is empty (0 bytes)")
    return st


def open_input(path: str, options: dict[str, str] | None = OPEN_OPTIONS) -> InputContainer:
    try:
        return av.open(path, mode="r", timeout=OPEN_TIMEOUT, options=options)
    except (PermissionError, FileNotFoundError) as error:
        # FFmpeg's own errors for these are OSErrors too: said in the same words as a stat's.
        raise ProbeError(describe_os_error(error)) from error
    except av.error.InvalidDataError as error:
        raise ProbeError("not a video file that can be read: its data is invalid") from error
    except av.error.ExitError as error:
        raise ProbeError(f"reading the file took longer than {OPEN_TIMEOUT:g} s") from error
    except av.error.FFmpegError as error:
        raise ProbeError(f"the file could not be opened: {error.strerror}") from error
    except OSError as error:
        raise ProbeError(describe_os_error(error)) from error


def first_real_video_stream(container: InputContainer) -> VideoStream | None:
    for stream in container.streams.video:
        if stream.disposition & Disposition.attached_pic:
            continue
        return stream
    return None


def frame_rate_of(stream: VideoStream) -> Fraction | None:
    for rate in (stream.average_rate, stream.guessed_rate, stream.base_rate):
        if rate and rate > 0:
            return Fraction(rate)
    return None


def duration_of(container: InputContainer, stream: VideoStream) -> float | None:
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration and container.duration > 0:
        return container.duration / av.time_base
    return None


@dataclass
class VideoFile:
    """An opened video: its container and stream, and what was read of them.

    One open serves the probe and the thumbnail. Closed by whoever uses it last (a `with` block).
    """

    container: InputContainer
    stream: VideoStream
    info: VideoInfo

    def close(self) -> None:
        self.container.close()

    def __enter__(self) -> VideoFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def describe(container: InputContainer, st: os.stat_result) -> tuple[VideoStream, VideoInfo]:
    """The real video stream of an opened file and its metadata; raises NotAVideo or ProbeError."""
    if is_still_image(container):
        raise NotAVideo(STILL_IMAGE)
    stream = first_real_video_stream(container)
    if stream is None:
        if container.streams.video:
            raise NotAVideo("only a still cover image, no moving picture")
        if container.streams.audio:
            raise NotAVideo("an audio file with no video stream")
        raise NotAVideo("no video stream in the file")
    ctx = stream.codec_context
    if not ctx.width or not ctx.height:
        raise ProbeError("the video stream has no picture size: the file is damaged")
    rate = frame_rate_of(stream)
    duration = duration_of(container, stream)
    frames: int | None = stream.frames or None
    if frames is None and duration is not None and rate is not None:
        frames = round(duration * rate)
    audio_codec = None
    if container.streams.audio:
        audio_codec = container.streams.audio[0].codec_context.codec.canonical_name
    return stream, VideoInfo(
        container=container.format.name,
        duration=duration,
        duration_frames=frames,
        frame_rate=rate,
        width=ctx.width,
        height=ctx.height,
        video_codec=ctx.codec.canonical_name,
        audio_codec=audio_codec,
        bit_rate=container.bit_rate or None,
        size=st.st_size,
        mtime_ns=st.st_mtime_ns,
    )


def open_video(path: str) -> VideoFile:
    """Open the video at `path` and read its metadata; raises NotAVideo or ProbeError."""
    st = check_regular_file(path)
    container = open_input(path)
    if any(not stream.codec_context.width for stream in container.streams.video):
        # Some codecs (H.263) tell their picture size only in decoded frames: open it decoding.
        container.close()
        container = open_input(path, options=None)
    try:
        stream, info = describe(container, st)
    except BaseException:
        container.close()
        raise
    return VideoFile(container, stream, info)


def probe_video(path: str) -> VideoInfo:
    """Metadata of the video at `path`; raises NotAVideo or ProbeError."""
    with open_video(path) as video:
        return video.info
