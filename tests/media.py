"""Make small real video files with PyAV, so tests never need media checked into the repo."""

from __future__ import annotations

import random
from fractions import Fraction
from pathlib import Path

import av
from PIL import Image, ImageDraw

# container format → (video encoder, audio encoder) that FFmpeg muxes into it
CONTAINERS = {
    "mp4": ("libx264", "aac"),
    "mkv": ("libx264", "aac"),
    "webm": ("libvpx-vp9", "libopus"),
    "avi": ("mpeg4", "mp3"),
    "mov": ("libx264", "aac"),
}


def make_clip(
    path: Path,
    *,
    seconds: float = 1.0,
    fps: int | Fraction = 25,
    width: int = 160,
    height: int = 120,
    video_codec: str | None = None,
    audio_codec: str | None = None,
    audio: bool = False,
    muxer: str | None = None,
    keyframe_every: int | None = None,
    dark_until: float = 0.0,
) -> Path:
    """Write a clip of `seconds` with a changing colour, optionally with a silent audio track.

    `muxer` names FFmpeg's output format when the extension alone would pick the wrong one.
    `keyframe_every` fixes the keyframe interval (in frames); frames before `dark_until` seconds
    are black.
    """
    ext = path.suffix.lstrip(".").lower()
    default_video, default_audio = CONTAINERS.get(ext, ("libx264", "aac"))
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w", format=muxer) as container:
        stream = container.add_stream(video_codec or default_video, rate=fps)
        stream.width = width
        stream.height = height
        stream.pix_fmt = "yuv420p"
        if stream.codec_context.name == "libx264":
            stream.codec_context.options = {"preset": "ultrafast"}
            if keyframe_every:
                keyint = f"keyint={keyframe_every}:min-keyint={keyframe_every}"
                stream.codec_context.options = {
                    "preset": "ultrafast",
                    "x264-params": f"{keyint}:scenecut=0",
                }
        elif stream.codec_context.name == "libx265":
            keyint = (
                f"keyint={keyframe_every}:min-keyint={keyframe_every}:" if keyframe_every else ""
            )
            stream.codec_context.options = {"x265-params": f"{keyint}log-level=error"}
        elif keyframe_every:
            stream.codec_context.gop_size = keyframe_every
        audio_stream = (
            container.add_stream(audio_codec or default_audio, rate=48000) if audio else None
        )
        total = max(1, round(seconds * fps))
        for index in range(total):
            shade = 40 + (index * 180) // total
            if index < dark_until * fps:
                image = Image.new("RGB", (width, height), (0, 0, 0))
            else:
                image = Image.new("RGB", (width, height), (shade, 255 - shade, 120))
                # A dark corner, so the picture is not one flat colour (as real footage is not).
                ImageDraw.Draw(image).rectangle((0, 0, width // 3, height // 3), fill=(0, 0, 0))
            frame = av.VideoFrame.from_image(image)  # type: ignore[no-untyped-call]
            frame.pts = index
            frame.time_base = Fraction(1, fps)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
        if audio_stream is not None:
            write_silence(container, audio_stream, seconds)
    return path


def write_silence(
    container: av.container.OutputContainer, stream: av.AudioStream, seconds: float
) -> None:
    ctx = stream.codec_context
    samples = ctx.frame_size or 1024
    total = int(48000 * seconds)
    pts = 0
    while pts < total:
        frame = av.AudioFrame(format=ctx.format.name, layout=ctx.layout.name, samples=samples)
        for plane in frame.planes:
            plane.update(bytes(plane.buffer_size))
        frame.sample_rate = 48000
        frame.pts = pts
        pts += samples
        container.mux(stream.encode(frame))
    container.mux(stream.encode(None))


def make_audio_file(path: Path, *, seconds: float = 1.0, cover: bool = False) -> Path:
    """An audio-only file; with `cover`, an attached still picture as music files carry."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as container:
        audio_stream = container.add_stream("aac" if path.suffix != ".mp3" else "mp3", rate=48000)
        if cover:
            picture = container.add_stream("mjpeg", rate=1)
            picture.width = 64
            picture.height = 64
            picture.pix_fmt = "yuvj420p"
            picture.disposition = av.stream.Disposition.attached_pic
            red = Image.new("RGB", (64, 64), (200, 30, 30))
            frame = av.VideoFrame.from_image(red)  # type: ignore[no-untyped-call]
            frame.pts = 0
            container.mux(picture.encode(frame))
            container.mux(picture.encode(None))
        write_silence(container, audio_stream, seconds)
    return path


def truncate(path: Path, keep: float = 0.5) -> Path:
    """Cut the file short, as an interrupted copy or download leaves it."""
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    return path


def damage_keyframes(source: Path, dest: Path, *, spare_first: bool = True) -> Path:
    """Copy `source` with the data of its keyframes overwritten by noise (the first one spared)."""
    rng = random.Random(7)
    with av.open(str(source)) as src, av.open(str(dest), "w") as out:
        video = src.streams.video[0]
        copy = out.add_stream_from_template(video)
        first = True
        for packet in src.demux(video):
            if packet.size == 0:
                continue
            if packet.is_keyframe and not (first and spare_first):
                data = bytearray(bytes(packet))
                # The first bytes (NAL length and header) stay, so the decoder tries and fails.
                data[8:] = bytes(rng.randrange(256) for _ in range(len(data) - 8))
                damaged = av.Packet(bytes(data))
                damaged.pts, damaged.dts = packet.pts, packet.dts
                damaged.time_base = packet.time_base
                damaged.is_keyframe = True
                packet = damaged
            first = False
            packet.stream = copy
            out.mux(packet)
    return dest
