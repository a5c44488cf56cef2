"""Tell a still image from a video by how FFmpeg opened it. Knows PyAV containers, nothing else."""

from __future__ import annotations

from av.container import InputContainer

STILL_IMAGE = "a still image, not a video"
# FFmpeg's image demuxers outside the `*_pipe` family (which is all images): animated ones too.
IMAGE_DEMUXERS = frozenset({"image2", "image2pipe", "gif", "apng", "jpegxl_anim", "webp"})


def is_still_image(container: InputContainer) -> bool:
    """True when FFmpeg read the file as an image (a JPEG renamed .mp4), whatever its extension.

    Decided by the demuxer, not the codec: a one-frame MJPEG AVI and a video with cover art are
    opened by their container's own demuxer, so they stay videos.
    """
    name = container.format.name
    return name in IMAGE_DEMUXERS or name.endswith("_pipe")
