"""The identity rule itself: pure, so the order of the walk or of the batches cannot matter."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from stoat.library.models import path_key
from stoat.scans.reconcile import Arrival, Candidate, decide

FP = "f" * 32


def arrival(path: str, *, mtime: int = 0, inode: int | None = None, fp: str = FP) -> Arrival:
    return Arrival(path, 100, mtime, inode, fp)


def candidate(
    id_: int, path: str, *, mtime: int = 0, inode: int | None = None, vacated: bool = True
) -> Candidate:
    return Candidate(id_, path, path_key(path), 100, mtime, inode, FP, vacated)


def paths(moves: list[tuple[Arrival, Candidate]]) -> set[tuple[int, str]]:
    return {(c.id, a.path) for a, c in moves}


def test_a_video_still_at_its_path_is_not_moved() -> None:
    moves, unmatched = decide([arrival("/b/x.mp4")], [candidate(1, "/a/x.mp4", vacated=False)])
    assert (moves, [a.path for a in unmatched]) == ([], ["/b/x.mp4"])


def test_other_size_or_fingerprint_is_not_the_same_file() -> None:
    other_fp = Arrival("/b/x.mp4", 100, 0, None, "0" * 32)
    other_size = Arrival("/c/x.mp4", 101, 0, None, FP)
    moves, unmatched = decide([other_fp, other_size], [candidate(1, "/a/x.mp4")])
    assert moves == [] and len(unmatched) == 2


def test_the_same_name_wins_over_the_same_inode_and_the_closest_time() -> None:
    moves, _ = decide(
        [arrival("/new/x.mp4", mtime=5, inode=7)],
        [candidate(1, "/old/y.mp4", mtime=5, inode=7), candidate(2, "/old/x.mp4", mtime=999)],
    )
    assert paths(moves) == {(2, "/new/x.mp4")}


def test_the_same_inode_wins_over_the_closest_time() -> None:
    moves, _ = decide(
        [arrival("/new/z.mp4", mtime=5, inode=7)],
        [
            candidate(1, "/old/y.mp4", mtime=5, inode=8),
            candidate(2, "/old/x.mp4", mtime=999, inode=7),
        ],
    )
    assert paths(moves) == {(2, "/new/z.mp4")}


def test_the_closest_time_decides_last() -> None:
    moves, _ = decide(
        [arrival("/new/z.mp4", mtime=100)],
        [candidate(1, "/old/y.mp4", mtime=50), candidate(2, "/old/x.mp4", mtime=99)],
    )
    assert paths(moves) == {(2, "/new/z.mp4")}


def test_two_arrivals_for_one_video_leave_one_to_read_as_a_copy() -> None:
    moves, unmatched = decide(
        [arrival("/new/x.mp4"), arrival("/new/copy.mp4")], [candidate(1, "/old/x.mp4")]
    )
    assert paths(moves) == {(1, "/new/x.mp4")}
    assert [a.path for a in unmatched] == ["/new/copy.mp4"]


def test_a_file_matching_the_video_at_its_own_path_is_read_again_not_moved() -> None:
    moves, unmatched = decide(
        [arrival("/a/x.mp4")], [candidate(1, "/a/x.mp4"), candidate(2, "/b/x.mp4")]
    )
    assert moves == [] and [a.path for a in unmatched] == ["/a/x.mp4"]


ARRIVALS = [arrival(f"/new/{n}.mp4", mtime=n * 7 % 5, inode=n % 3) for n in range(5)]
CANDIDATES = [candidate(n, f"/old/{n % 3}.mp4", mtime=n, inode=n % 2) for n in range(1, 6)]


@given(st.permutations(ARRIVALS), st.permutations(CANDIDATES))
def test_the_answer_does_not_depend_on_the_order(
    arrivals: list[Arrival], candidates: list[Candidate]
) -> None:
    expected = decide(ARRIVALS, CANDIDATES)
    assert decide(arrivals, candidates) == expected


def test_each_video_and_each_arrival_is_used_once() -> None:
    for count in range(1, 5):
        moves, unmatched = decide(ARRIVALS[:count], CANDIDATES)
        assert len({c.id for _, c in moves}) == len(moves) == count
        assert len({a.path for a, _ in moves}) == count and unmatched == []
    for a, c in itertools.product(ARRIVALS, CANDIDATES):
        assert len(decide([a], [c])[0]) == 1
