"""Two cores give the same report as one, and a failing child changes nothing."""

from __future__ import annotations

import json
import marshal
import os
import threading
import time
from functools import partial
from pathlib import Path

import pytest

from bot import analyze, load, tree
from bot import speed as forked
from bot.config import Config
from bot.render import json_report
from tests.helpers import audit, diff, git

ROOT = Path(__file__).resolve().parent.parent
needs_fork = pytest.mark.skipif(not forked.available(), reason="needs fork, two cores and no other thread")


def corpus(side: str) -> dict[str, str]:
    """The bundled example plus every rule fixture, each fixture in its own folder."""
    files = {str(p.relative_to(ROOT)): p.read_text() for p in sorted((ROOT / "examples" / side).rglob("*.yaml"))}
    for p in sorted((ROOT / "tests" / "rules").glob(f"*/*/{side}.yaml")):
        files[str(p.relative_to(ROOT))] = p.read_text()
    return files


@needs_fork
def test_both_runs_the_first_part_in_a_child() -> None:
    parent = os.getpid()
    theirs, mine = forked.both(lambda: os.getpid(), lambda: os.getpid(), marshal.dumps, marshal.loads)
    assert mine == parent and theirs != parent


@needs_fork
def test_a_failing_child_leaves_its_part_to_this_process() -> None:
    def encode(value: object) -> bytes:
        if os.getpid() != parent:
            raise RuntimeError("the child cannot answer")
        return marshal.dumps(value)

    parent = os.getpid()
    assert forked.both(lambda: [os.getpid()], lambda: "mine", encode, marshal.loads) == ([parent], "mine")
    garbled = forked.both(lambda: 7, lambda: 8, lambda v: b"\x00not marshal", marshal.loads)
    assert garbled == (7, 8)


def test_no_fork_while_other_threads_run() -> None:
    stop = threading.Event()
    worker = threading.Thread(target=stop.wait)
    worker.start()
    try:
        assert not forked.available()
        assert forked.both(lambda: os.getpid(), lambda: os.getpid()) == (os.getpid(), os.getpid())
    finally:
        stop.set()
        worker.join()


@needs_fork
def test_two_processes_give_the_same_reports(monkeypatch: pytest.MonkeyPatch) -> None:
    base, head = corpus("base"), corpus("head")
    serial = [json_report.render(diff(base, head)), json_report.render(audit(head))]
    calls = []
    real_both = forked.both

    def counting(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        return real_both(*args, **kwargs)

    monkeypatch.setattr(forked, "both", counting)
    monkeypatch.setattr(load, "PARALLEL_BYTES", 0)
    monkeypatch.setattr(analyze, "PARALLEL_RESOURCES", 0)
    parallel = [json_report.render(diff(base, head)), json_report.render(audit(head))]
    assert len(calls) == 5  # parsing base and head, rules; parsing and rules of the audit
    assert json.loads(parallel[0])["findings"] and parallel == serial


def test_unchanged_files_without_our_kinds_are_not_kept(tmp_path: Path) -> None:
    repo = tmp_path / "r"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    files = {
        "deploy.yaml": b"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\n",
        "mesh.yaml": b"\xef\xbb\xbfkind: DestinationRule\napiVersion: networking.istio.io/v1\nmetadata: {name: a}\n",
        "blob.yaml": b"\x00\x01binary",
        "latin1.yaml": b"kind: ConfigMap\nname: caf\xe9\n",
        "edited.yaml": b"kind: ConfigMap\n",
    }
    for name, data in files.items():
        (repo / name).write_bytes(data)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "base")
    (repo / "edited.yaml").write_bytes(b"kind: ConfigMap\ndata: {}\n")
    git(repo, "commit", "-qam", "edit")
    (base, head), _ = tree.from_git(str(repo), ["HEAD~1", "HEAD"], Config())
    kept = sorted(f.path for f in head)
    assert kept == ["blob.yaml", "edited.yaml", "latin1.yaml", "mesh.yaml"]  # not deploy.yaml
    assert sorted(f.path for f in base) == kept
    (only,), _ = tree.from_git(str(repo), ["HEAD"], Config())
    assert sorted(f.path for f in only) == ["blob.yaml", "latin1.yaml", "mesh.yaml"]
    # what was dropped would have said nothing; what was kept still says what it said
    assert load.parse_file("deploy.yaml", files["deploy.yaml"], Config(), full=False).resources == []
    parsed = {f.path: load.parse_file(f.path, f.data, Config(), False) for f in only}
    skipped = {s.file: s.reason for p in parsed.values() for s in p.skipped}
    assert skipped == {"blob.yaml": "binary file, not YAML"}
    refused = parsed["latin1.yaml"].problem  # kubectl reads UTF-8 only
    assert refused and refused.reason.startswith("not UTF-8 text (byte 25)")


@needs_fork
def test_shared_tasks_run_once_each_in_order_on_both_processes() -> None:
    parent = os.getpid()

    def task(i: int) -> tuple[int, int]:
        time.sleep(0.02)  # long enough that the other process takes the next task meanwhile
        return i, os.getpid()

    results = forked.share([partial(task, i) for i in range(12)])
    assert [i for i, _ in results] == list(range(12))
    pids = {pid for _, pid in results}
    assert parent in pids and len(pids) == 2


@needs_fork
def test_tasks_a_failing_child_took_are_done_here() -> None:
    parent = os.getpid()

    def task(i: int) -> int:
        if os.getpid() != parent:
            raise RuntimeError("the child cannot do this")
        return i * i

    assert forked.share([partial(task, i) for i in range(6)]) == [0, 1, 4, 9, 16, 25]
