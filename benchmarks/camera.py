"""Camera-like media for the benchmarks, made with PyAV once and cached.

720p, 1080p and 2160p; H.264 (with B-frames, as camcorders write it) and HEVC; a keyframe every
2-5 s; 20-60 s; a stereo AAC track; a panning, grainy picture so the encoders spend camera-like
bit rates. One more file fades in from black over its first 15 %.
"""

from __future__ import annotations

import math
import os
import random
import struct
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
from PIL import Image, ImageDraw

# Bump when the media change, so a cache of older files is not measured by mistake.
VERSION = 2
FPS = 25


@dataclass(frozen=True)
class CameraClip:
    width: int
    height: int
    codec: str  # "h264" or "hevc"
    seconds: int  # a whole number of keyframe intervals
    keyframe_seconds: int
    mbps: float  # the bit rate asked of the encoder
    fade_in: float = 0.0  # share of the length that fades in from black

    @property
    def name(self) -> str:
        fade = "-fade" if self.fade_in else ""
        return f"{self.height}p-{self.codec}-{self.seconds}s-kf{self.keyframe_seconds}{fade}.mp4"

    def __str__(self) -> str:
        fade = f", fades in over {self.fade_in:.0%}" if self.fade_in else ""
        label = {"h264": "H.264", "hevc": "HEVC"}[self.codec]
        every = f"keyframe every {self.keyframe_seconds} s"
        return f"{self.height}p {label} {self.seconds} s, {every}{fade}"


CAMERA_SET = (
    CameraClip(1280, 720, "h264", 60, 2, 8),
    CameraClip(1280, 720, "hevc", 24, 4, 4),
    CameraClip(1920, 1080, "h264", 42, 3, 16),
    CameraClip(1920, 1080, "hevc", 30, 5, 8),
    CameraClip(3840, 2160, "h264", 21, 3, 40),
    CameraClip(3840, 2160, "hevc", 20, 2, 20),
    CameraClip(1920, 1080, "h264", 30, 3, 16, fade_in=0.15),
)
# The file the thumbnail target is measured on: 1080p H.264 with a keyframe every 3 s.
REFERENCE = CAMERA_SET[2]
FADE = CAMERA_SET[-1]


def cache_folder() -> Path:
    base = os.environ.get("STOAT_BENCH_CACHE") or Path.home() / ".cache" / "stoat-benchmarks"
    return Path(base) / f"camera-v{VERSION}"


def encoders_missing() -> list[str]:
    missing = []
    for name in ("libx264", "libx265", "aac"):
        try:
            av.codec.Codec(name, "w")
        except av.codec.codec.UnknownCodecError:
            missing.append(name)
    return missing


def texture(width: int, height: int, seed: int) -> Image.Image:
    """A scene larger than the frame: gradients, shapes and grain, for the camera to pan over."""
    rng = random.Random(seed)
    size = (width + width // 2, height + height // 4)
    red = Image.linear_gradient("L").resize(size)
    blue = Image.linear_gradient("L").rotate(90).resize(size)
    green = Image.blend(red, blue.rotate(180), 0.5)
    scene = Image.merge("RGB", (red, green, blue))
    draw = ImageDraw.Draw(scene)
    for _ in range(80):
        x, y = rng.randrange(size[0]), rng.randrange(size[1])
        side = rng.randrange(width // 40, width // 5)
        colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
        draw.ellipse((x, y, x + side, y + side), fill=colour, outline=(0, 0, 0), width=3)
    # A sensor's grain: light, so keyframes come out the size a camera writes.
    grain = Image.effect_noise(size, 40).convert("RGB")
    return Image.blend(scene, grain, 0.12)


def tone_frame(stream: av.AudioStream) -> av.AudioFrame:
    """One AAC frame of a 375 Hz tone (a whole number of periods, so frames join up)."""
    ctx = stream.codec_context
    samples = ctx.frame_size or 1024
    frame = av.AudioFrame(format="fltp", layout="stereo", samples=samples)
    wave = [0.2 * math.sin(2 * math.pi * 375 * n / 48000) for n in range(samples)]
    data = struct.pack(f"{samples}f", *wave)
    for plane in frame.planes:
        plane.update(data)
    frame.sample_rate = 48000
    return frame


def encode(clip: CameraClip, dest: Path) -> None:
    """Encode the distinct opening (the fade, then one keyframe interval) and repeat its last
    keyframe interval to the full length: each interval costs a decoder what a real one costs,
    and the file takes seconds to make instead of minutes."""
    keyint = clip.keyframe_seconds * FPS
    total = clip.seconds * FPS
    distinct = (math.ceil(clip.fade_in * total / keyint) + 1) * keyint
    with av.open(str(dest), "w") as out:
        video = out.add_stream("libx264" if clip.codec == "h264" else "libx265", rate=FPS)
        video.width, video.height, video.pix_fmt = clip.width, clip.height, "yuv420p"
        video.bit_rate = int(clip.mbps * 1_000_000)
        # Closed GOPs, so a keyframe interval decodes on its own wherever it is repeated.
        gop = f"keyint={keyint}:min-keyint={keyint}:scenecut=0"
        if clip.codec == "h264":
            params = f"{gop}:bframes=2"
            video.codec_context.options = {"preset": "superfast", "x264-params": params}
        else:
            params = f"{gop}:open-gop=0:log-level=error"
            video.codec_context.options = {"preset": "ultrafast", "x265-params": params}
        audio = out.add_stream("aac", rate=48000, layout="stereo")
        tone = tone_frame(audio)
        scene = texture(clip.width, clip.height, seed=clip.height + len(clip.codec))
        black = Image.new("RGB", (clip.width, clip.height))
        fade_frames = clip.fade_in * total
        packets: list[Any] = []
        for index in range(distinct):
            x = (index * 4) % (clip.width // 2)
            y = (index // 2) % (clip.height // 4)
            picture = scene.crop((x, y, x + clip.width, y + clip.height))
            if index < fade_frames:
                picture = Image.blend(black, picture, index / fade_frames)
            frame = av.VideoFrame.from_image(picture)  # type: ignore[no-untyped-call]
            frame.pts = index
            frame.time_base = Fraction(1, FPS)
            packets += video.encode(frame)
        packets += video.encode(None)
        last_gop = packets[max(i for i, packet in enumerate(packets) if packet.is_keyframe) :]
        # The opening as encoded, then its last keyframe interval again and again.
        segments = [(packets, 0, distinct)]
        for start in range(distinct, total, keyint):
            segments.append((last_gop, start - (distinct - keyint), start + keyint))
        audio_pts = 0
        for chosen, shift_frames, end in segments:
            for packet in chosen:
                shift = int(Fraction(shift_frames, FPS) / packet.time_base)
                copy = av.Packet(bytes(packet))
                copy.pts = None if packet.pts is None else packet.pts + shift
                copy.dts = None if packet.dts is None else packet.dts + shift
                copy.time_base = packet.time_base
                copy.is_keyframe = packet.is_keyframe
                copy.stream = video
                out.mux(copy)
            while audio_pts * FPS < end * 48000:
                tone.pts = audio_pts
                out.mux(audio.encode(tone))
                audio_pts += tone.samples
        out.mux(audio.encode(None))


def make_one(args: tuple[CameraClip, Path]) -> Path:
    clip, folder = args
    dest = folder / clip.name
    if not dest.exists():
        partial = dest.with_suffix(".partial.mp4")
        encode(clip, partial)
        os.replace(partial, dest)  # a build cut short leaves no file that looks finished
    return dest


def camera_set(clips: tuple[CameraClip, ...] = CAMERA_SET) -> list[Path]:
    """The camera-like files, made (on every core) only when the cache does not hold them."""
    folder = cache_folder()
    folder.mkdir(parents=True, exist_ok=True)
    todo = [(clip, folder) for clip in clips if not (folder / clip.name).exists()]
    if todo:
        with ProcessPoolExecutor() as pool:
            list(pool.map(make_one, todo))
    return [folder / clip.name for clip in clips]
