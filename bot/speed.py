"""Performance devices, all here: the cyclic collector paused, and a second process for a second core.

A run builds millions of small containers that live until it ends: the cyclic collector would only
rescan them again and again (about a third of the run time on a large repository), so analysis
runs with it paused.

A forked child does part of the work: it inherits everything by fork (no start-up, no pickling of
inputs) and sends its answer back through a pipe, encoded by the caller's choice (`marshal` for
plain values, `pickle` for dataclasses). If anything goes wrong on its side, this process does the
child's part itself, so a result never depends on whether a second process was used.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

A = TypeVar("A")
B = TypeVar("B")
T = TypeVar("T")


@contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off for the block (and on again after, if it was)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def available() -> bool:
    """A second core, and a process that can fork safely (no other threads to leave locks behind)."""
    import threading

    return hasattr(os, "fork") and (os.cpu_count() or 1) >= 2 and threading.active_count() == 1


def both(theirs: Callable[[], A], mine: Callable[[], B],
         encode: Callable[[Any], bytes] | None = None, decode: Callable[[bytes], Any] | None = None,
         ) -> tuple[A, B]:
    """(theirs(), mine()), with `theirs` run in a forked child when `available()` (the answer is
    pickled unless `encode` and `decode` say otherwise)."""
    if not available():
        return theirs(), mine()
    if encode is None or decode is None:
        import pickle

        encode, decode = pickle.dumps, pickle.loads
    read_end, write_end = os.pipe()
    try:
        pid = os.fork()
    except OSError:
        os.close(read_end)
        os.close(write_end)
        return theirs(), mine()
    if pid == 0:  # the child: never returns, never runs the parent's exit handlers
        status = 0
        try:
            os.close(read_end)
            with os.fdopen(write_end, "wb") as out:
                out.write(encode(theirs()))
        except BaseException:  # noqa: BLE001 - the parent sees the failure and does this part itself
            status = 1
        finally:
            os._exit(status)
    os.close(write_end)
    try:
        result = mine()
    finally:
        with os.fdopen(read_end, "rb") as answer:
            data = answer.read()
        _, status = os.waitpid(pid, 0)
    if status == 0:
        try:
            return decode(data), result
        except Exception:  # noqa: BLE001, S110 - a short or garbled answer: do it here
            pass
    return theirs(), result


MAX_SHARED = 255  # tasks are claimed one byte at a time


def share(tasks: Sequence[Callable[[], T]]) -> list[T]:
    """Every task's result, in task order, with the tasks shared by two processes.

    Both take the next task from one queue as soon as they are free, so the work balances itself
    whatever each task costs; a task the child took but did not answer is done here.
    """
    if len(tasks) < 2 or len(tasks) > MAX_SHARED:
        return [task() for task in tasks]
    read_end, write_end = os.pipe()
    os.write(write_end, bytes(range(len(tasks))))  # the queue, filled before anyone reads
    os.close(write_end)

    def work() -> dict[int, T]:
        done: dict[int, T] = {}
        while claim := os.read(read_end, 1):  # one byte: a read no other reader can split
            done[claim[0]] = tasks[claim[0]]()
        return done

    try:
        theirs, mine = both(work, work)
    finally:
        os.close(read_end)
    results = {**theirs, **mine}
    return [results[i] if i in results else task() for i, task in enumerate(tasks)]
