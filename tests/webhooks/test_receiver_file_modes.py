"""The inbox holds invitees' names and emails: it and its -wal and -shm files are private to
their owner (0600) whatever the umask."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from tests.webhooks.receiver import encode, envelope, signature, start_receiver

KEY = "file-modes-key-8Qw"


def modes(inbox: Path) -> dict[str, int]:
    files = [inbox, inbox.with_name(inbox.name + "-wal"), inbox.with_name(inbox.name + "-shm")]
    return {f.name: stat.S_IMODE(f.stat().st_mode) for f in files}


@pytest.mark.parametrize("umask", [0o022, 0o000])
def test_the_inbox_files_are_private_whatever_the_umask(tmp_path: Path, umask: int):
    keys, inbox = tmp_path / "keys.txt", tmp_path / "inbox.sqlite"
    keys.write_text(KEY + "\n", encoding="utf-8")
    receiver = start_receiver(inbox, key_file=keys, umask=umask)
    try:
        body = encode(envelope())
        assert receiver.post(body, signature(KEY, body)).status_code == 200
        assert modes(inbox) == dict.fromkeys(modes(inbox), 0o600)
    finally:
        receiver.stop()


def test_an_inbox_made_readable_by_an_older_version_is_made_private(tmp_path: Path):
    keys, inbox = tmp_path / "keys.txt", tmp_path / "inbox.sqlite"
    keys.write_text(KEY + "\n", encoding="utf-8")
    receiver = start_receiver(inbox, key_file=keys)
    receiver.stop()
    inbox.chmod(0o644)
    receiver = start_receiver(inbox, key_file=keys, umask=0o022)
    try:
        body = encode(envelope())
        assert receiver.post(body, signature(KEY, body)).status_code == 200
        assert modes(inbox) == dict.fromkeys(modes(inbox), 0o600)
    finally:
        receiver.stop()
