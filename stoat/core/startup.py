"""What must hold before stoat starts: a strong secret key and a data folder it can write.

Plain Python, no Django: the settings module calls it while Django is still loading.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import secrets
import tempfile
from collections.abc import Mapping
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

KEY_FILE_NAME = "secret_key"
MIN_KEY_LENGTH = 50
# Keys that were ever written in a README, a sample file or an older stoat: never secret.
PLACEHOLDER_KEYS = frozenset(
    {
        "stoat-development-key-do-not-use-in-production",
        "change-me",
        "changeme",
        "secret",
        "your-secret-key",
        "your-secret-key-here",
    }
)
HOW_TO_FIX_KEY = (
    "Unset SECRET_KEY and SECRET_KEY_FILE to let stoat make a key and keep it in the data "
    "folder, or set SECRET_KEY to a random value of 50 characters or more, e.g. "
    "`python3 -c 'import secrets; print(secrets.token_urlsafe(50))'`."
)


class StartupError(ImproperlyConfigured):
    """Something the person running stoat must fix; the message says what and how."""


def who() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid {os.getuid()}"


def key_weakness(key: str) -> str | None:
    """Why `key` must not sign sessions, or None when it is fit to."""
    if not key.strip():
        return "it is empty"
    if key in PLACEHOLDER_KEYS or key.startswith("django-insecure"):
        return "it is a published placeholder"
    if len(key) < MIN_KEY_LENGTH:
        return f"it has {len(key)} characters, fewer than {MIN_KEY_LENGTH}"
    if len(set(key)) < 5:
        return "it repeats fewer than 5 different characters"
    return None


def read_key_file(path: Path) -> str:
    try:
        return path.read_text().strip()
    except OSError as error:
        raise StartupError(
            f"cannot read the secret key file {path}: {error.strerror or error}. Make it "
            f"readable by {who()}, the user stoat runs as, or point SECRET_KEY_FILE elsewhere."
        ) from error


def ensure_data_folder(folder: Path) -> None:
    """Make the data folder if needed and prove that files can be written in it."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        raise StartupError(
            f"cannot write to the data folder {folder}: {error.strerror or error}. Make it "
            f"writable by {who()}, the user stoat runs as, or set STOAT_DATA_DIR to a folder "
            "that is."
        ) from error


def kept_key(folder: Path) -> str:
    """The key kept in the data folder; the first process to need one makes it (mode 0600).

    A new key is written to a private temporary file, then linked into place: processes that
    start together all end up reading the one key that won.
    """
    path = folder / KEY_FILE_NAME
    if not path.exists():
        ensure_data_folder(folder)
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{KEY_FILE_NAME}.")
        try:
            with os.fdopen(handle, "w") as out:
                out.write(secrets.token_urlsafe(48) + "\n")
                out.flush()
                os.fsync(out.fileno())
            # FileExistsError: another process made it first, and its key is the one to use.
            with contextlib.suppress(FileExistsError):
                os.link(temporary, path)
        finally:
            os.unlink(temporary)
    return read_key_file(path)


def load_secret_key(environ: Mapping[str, str], data_folder: Path) -> str:
    """SECRET_KEY, else the file SECRET_KEY_FILE names, else the key kept in the data folder."""
    if "SECRET_KEY" in environ:
        key, source = environ["SECRET_KEY"], "SECRET_KEY"
    elif environ.get("SECRET_KEY_FILE"):
        path = Path(environ["SECRET_KEY_FILE"])
        key, source = read_key_file(path), f"the file {path} (SECRET_KEY_FILE)"
    else:
        key, source = kept_key(data_folder), f"the file {data_folder / KEY_FILE_NAME}"
    weakness = key_weakness(key)
    if weakness:
        raise StartupError(
            f"the secret key from {source} is refused: {weakness}. " + HOW_TO_FIX_KEY
        )
    return key
