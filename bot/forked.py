"""Two cores for one run: a forked child does one part of the work while this process does another.

The child inherits everything by fork (no start-up, no pickling of inputs) and sends its answer
back through a pipe, encoded by the caller's choice (`marshal` for plain values, `pickle` for
dataclasses). If anything goes wrong on its side, this process does the child's part itself, so
the result never depends on whether a second process was used.
"""

from __future__ import annotations

import os
import pickle
import threading
from typing import Any, Callable, TypeVar

A = TypeVar("A")
B = TypeVar("B")


def available() -> bool:
    """A second core, and a process that can fork safely (no other threads to leave locks behind)."""
    return hasattr(os, "fork") and (os.cpu_count() or 1) >= 2 and threading.active_count() == 1


def both(theirs: Callable[[], A], mine: Callable[[], B],
         encode: Callable[[Any], bytes] = pickle.dumps, decode: Callable[[bytes], Any] = pickle.loads
         ) -> tuple[A, B]:
    """(theirs(), mine()), with `theirs` run in a forked child when `available()`."""
    if not available():
        return theirs(), mine()
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
        except Exception:  # noqa: BLE001 - a short or garbled answer: do it here
            pass
    return theirs(), result
