"""A scanning process leaves what it loaded at its start out of the collector's full passes."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest
from django_q.signals import post_spawn

from stoat.library.collector import freeze_loaded


@pytest.fixture
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()  # the test process goes on collecting as before


def test_what_is_loaded_is_frozen_and_what_is_garbage_is_collected_first(unfrozen: None) -> None:
    class Cycle:
        other: object

    garbage = Cycle()
    garbage.other = garbage
    gone = weakref.ref(garbage)
    del garbage
    kept = Cycle()
    kept.other = kept

    frozen = freeze_loaded()

    # Counted as it was frozen: an object frozen may be freed by its reference count since.
    assert frozen > 1000 and gc.get_freeze_count() > 1000
    # The cycle nobody held was freed, not frozen for the life of the process.
    assert gone() is None
    assert kept.other is kept


@pytest.mark.django_db
def test_a_worker_process_that_starts_freezes_what_it_loaded(unfrozen: None) -> None:
    assert gc.get_freeze_count() == 0

    post_spawn.send(sender=test_a_worker_process_that_starts_freezes_what_it_loaded, proc_name="w")

    assert gc.get_freeze_count() > 1000
