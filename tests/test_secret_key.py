"""The secret key: made once and kept private in the data folder, shared by every process."""

from __future__ import annotations

import getpass
import stat
from pathlib import Path

import pytest

from stoat.core.startup import KEY_FILE_NAME, StartupError, key_weakness, load_secret_key
from tests.test_deploy import PRODUCTION_KEY, manage

SHOW_KEY = "from django.conf import settings; print(settings.SECRET_KEY)"


def test_a_first_start_writes_a_private_key_file_and_the_next_start_reuses_it(
    tmp_path: Path,
) -> None:
    first = manage(tmp_path, "shell", "-v", "0", "-c", SHOW_KEY)
    key_file = tmp_path / "data" / KEY_FILE_NAME
    second = manage(tmp_path, "shell", "-v", "0", "-c", SHOW_KEY)

    assert first.returncode == 0, first.stderr
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert first.stdout.strip() == key_file.read_text().strip()
    assert second.stdout == first.stdout
    assert key_weakness(first.stdout.strip()) is None
    # Only the key is left in the folder: no temporary file from making it.
    assert [p.name for p in key_file.parent.iterdir() if p.name.startswith(".")] == []


def test_a_key_in_the_environment_wins_and_no_file_is_written(tmp_path: Path) -> None:
    assert load_secret_key({"SECRET_KEY": PRODUCTION_KEY}, tmp_path) == PRODUCTION_KEY
    assert not (tmp_path / KEY_FILE_NAME).exists()


def test_secret_key_file_is_read_when_named(tmp_path: Path) -> None:
    named = tmp_path / "stoat.key"
    named.write_text(PRODUCTION_KEY + "\n")

    assert load_secret_key({"SECRET_KEY_FILE": str(named)}, tmp_path / "data") == PRODUCTION_KEY
    assert not (tmp_path / "data").exists()


@pytest.mark.parametrize(
    ("key", "why"),
    [
        ("", "it is empty"),
        ("   ", "it is empty"),
        ("k7Qm2vXr9Lp4Zt8Wc1Nb6Hs3Jd5Fg0Ya", "it has 32 characters, fewer than 50"),
        ("stoat-development-key-do-not-use-in-production", "it is a published placeholder"),
        ("django-insecure-" + PRODUCTION_KEY, "it is a published placeholder"),
        ("abab" * 20, "it repeats fewer than 5 different characters"),
    ],
)
def test_a_weak_key_is_refused_saying_why_and_how_to_fix_it(
    tmp_path: Path, key: str, why: str
) -> None:
    with pytest.raises(StartupError) as refused:
        load_secret_key({"SECRET_KEY": key}, tmp_path)

    assert f"the secret key from SECRET_KEY is refused: {why}." in str(refused.value)
    assert "secrets.token_urlsafe(50)" in str(refused.value)


def test_a_weak_key_stops_every_command_with_one_message_and_no_traceback(
    tmp_path: Path,
) -> None:
    done = manage(tmp_path, "check", SECRET_KEY="change-me")

    assert done.returncode != 0
    assert done.stderr.startswith("stoat: the secret key from SECRET_KEY is refused: it is a ")
    assert "Traceback" not in done.stderr


def test_an_unreadable_key_file_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "no-such.key"
    done = manage(tmp_path, "check", SECRET_KEY_FILE=str(missing))

    assert done.returncode != 0
    assert done.stderr.strip() == (
        f"stoat: cannot read the secret key file {missing}: No such file or directory. Make it "
        f"readable by {getpass.getuser()}, the user stoat runs as, or point SECRET_KEY_FILE "
        "elsewhere."
    )


def test_a_kept_key_file_that_is_not_a_file_is_named(tmp_path: Path) -> None:
    (tmp_path / KEY_FILE_NAME).mkdir()

    with pytest.raises(StartupError, match=f"cannot read the secret key file {tmp_path}/"):
        load_secret_key({}, tmp_path)
