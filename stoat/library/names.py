"""Names a person knows for FFmpeg's containers and codecs (MP4, not `mov,mp4,m4a,3gp,3g2,mj2`).

The database keeps FFmpeg's canonical names; these tables only change what the pages show. The
container's kind (`mp4`, `quicktime`, `webm`, ...) is what the library filters on: FFmpeg reads MP4,
QuickTime and 3GP with one demuxer and Matroska and WebM with another, so the file's extension
tells them apart.
"""

from __future__ import annotations

from django.db.models import Case, CharField, Q, Value, When
from django.db.models.expressions import Expression
from django.db.models.functions import Greatest, Lower
from django.db.models.lookups import EndsWith, GreaterThanOrEqual

MOV_DEMUXER = "mov,mp4,m4a,3gp,3g2,mj2"
MATROSKA_DEMUXER = "matroska,webm"

# kind → the name a person knows
CONTAINER_KINDS = {
    "mp4": "MP4",
    "quicktime": "QuickTime",
    "3gp": "3GP",
    "matroska": "Matroska",
    "webm": "WebM",
    "avi": "AVI",
    "mpegts": "MPEG-TS",
    "mpegps": "MPEG-PS",
    "flv": "Flash",
    "asf": "ASF/WMV",
    "ogg": "Ogg",
}
# FFmpeg demuxer name → kind, where the demuxer reads one kind only
DEMUXER_KINDS = {
    "avi": "avi",
    "mpegts": "mpegts",
    "mpeg": "mpegps",
    "mpegvideo": "mpegps",
    "flv": "flv",
    "live_flv": "flv",
    "asf": "asf",
    "asf_o": "asf",
    "ogg": "ogg",
}
# For the shared demuxers: extension → kind; any other extension gets the first kind.
SHARED_DEMUXERS = {
    MOV_DEMUXER: (
        "mp4",
        {"mov": "quicktime", "qt": "quicktime", "3gp": "3gp", "3g2": "3gp", "f4v": "flv"},
    ),
    MATROSKA_DEMUXER: ("matroska", {"webm": "webm"}),
}

# FFmpeg's canonical codec name → the name a person knows
CODEC_NAMES = {
    # video
    "h264": "H.264",
    "hevc": "HEVC",
    "av1": "AV1",
    "vp8": "VP8",
    "vp9": "VP9",
    "theora": "Theora",
    "mpeg1video": "MPEG-1",
    "mpeg2video": "MPEG-2",
    "mpeg4": "MPEG-4 Part 2",
    "msmpeg4v1": "MS MPEG-4 v1",
    "msmpeg4v2": "MS MPEG-4 v2",
    "msmpeg4v3": "MS MPEG-4 v3 (DivX 3)",
    "h263": "H.263",
    "h263p": "H.263+",
    "h261": "H.261",
    "flv1": "Sorenson Spark",
    "vp6": "VP6",
    "vp6f": "VP6 (Flash)",
    "vp6a": "VP6 (Flash, alpha)",
    "wmv1": "WMV 7",
    "wmv2": "WMV 8",
    "wmv3": "WMV 9",
    "vc1": "VC-1",
    "mjpeg": "Motion JPEG",
    "prores": "ProRes",
    "dnxhd": "DNxHD",
    "rawvideo": "Uncompressed",
    "dvvideo": "DV",
    "cinepak": "Cinepak",
    "indeo5": "Indeo 5",
    "svq3": "Sorenson Video 3",
    "ffv1": "FFV1",
    "vvc": "VVC (H.266)",
    "cavs": "AVS",
    # audio
    "aac": "AAC",
    "mp3": "MP3",
    "mp2": "MPEG Audio Layer 2",
    "mp1": "MPEG Audio Layer 1",
    "ac3": "Dolby Digital (AC-3)",
    "eac3": "Dolby Digital Plus (E-AC-3)",
    "truehd": "Dolby TrueHD",
    "dts": "DTS",
    "opus": "Opus",
    "vorbis": "Vorbis",
    "flac": "FLAC",
    "alac": "Apple Lossless",
    "wmav1": "WMA 1",
    "wmav2": "WMA 2",
    "wmapro": "WMA Pro",
    "wmalossless": "WMA Lossless",
    "amr_nb": "AMR-NB",
    "amr_wb": "AMR-WB",
    "pcm_s16le": "PCM 16-bit",
    "pcm_s16be": "PCM 16-bit (big-endian)",
    "pcm_s24le": "PCM 24-bit",
    "pcm_u8": "PCM 8-bit",
    "pcm_f32le": "PCM 32-bit float",
    "pcm_mulaw": "μ-law",
    "pcm_alaw": "A-law",
    "adpcm_ima_wav": "IMA ADPCM",
    "adpcm_ms": "Microsoft ADPCM",
    "speex": "Speex",
    "nellymoser": "Nellymoser",
    "qdm2": "QDesign Music 2",
    "gsm_ms": "GSM",
}


def extension_of(filename: str) -> str:
    return filename.rpartition(".")[2].lower() if "." in filename else ""


def container_kind(container: str, filename: str) -> str:
    """The kind of container the library filters on; FFmpeg's name when it is not one we know."""
    if container in SHARED_DEMUXERS:
        default, by_extension = SHARED_DEMUXERS[container]
        return by_extension.get(extension_of(filename), default)
    return DEMUXER_KINDS.get(container, container)


def container_name(kind: str) -> str:
    return CONTAINER_KINDS.get(kind, kind or "–")


def codec_name(codec: str | None) -> str:
    if not codec:
        return "none"
    return CODEC_NAMES.get(codec, codec)


def container_kind_expression() -> Expression:
    """`container_kind` as SQL, for the generated column the filters and counts read."""
    whens = []
    for demuxer, (default, by_extension) in SHARED_DEMUXERS.items():
        for ext, kind in by_extension.items():
            whens.append(
                When(
                    Q(container=demuxer) & EndsWith(Lower("filename"), f".{ext}"),
                    then=Value(kind),
                )
            )
        whens.append(When(container=demuxer, then=Value(default)))
    for demuxer, kind in DEMUXER_KINDS.items():
        whens.append(When(container=demuxer, then=Value(kind)))
    return Case(*whens, default="container", output_field=CharField(max_length=64))


# Resolution classes by the longer side, so portrait phone videos class as their landscape twins.
RESOLUTIONS = [("8k", "8K", 7680), ("4k", "4K", 3840), ("1440p", "1440p", 2560)]
RESOLUTIONS += [("1080p", "1080p", 1920), ("720p", "720p", 1280), ("sd", "SD", 0)]
RESOLUTION_NAMES = {key: name for key, name, _ in RESOLUTIONS}


def resolution_class(width: int, height: int) -> str:
    longer = max(width, height)
    return next(key for key, _, least in RESOLUTIONS if longer >= least)


def resolution_class_expression() -> Expression:
    longer = Greatest("width", "height")
    whens = [
        When(GreaterThanOrEqual(longer, least), then=Value(key))
        for key, _, least in RESOLUTIONS[:-1]
    ]
    return Case(*whens, default=Value("sd"), output_field=CharField(max_length=8))
