"""Hostile and broken input, git trouble and GitHub faults: a clear outcome, never a crash or a lie."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.cli import main
from tests.fakegithub import Fault
from tests.helpers import diff, load_script
from tests.test_action import REPO, TOKEN, git, pr_payload, setup, writes  # noqa: F401 - fixture

ROOT = Path(__file__).resolve().parent.parent
VS = ("apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: {name}\n  namespace: shop\n"
      "spec:\n  hosts: [reviews]\n  http:\n  - route:\n    - destination: {{host: reviews}}\n")


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, (json.loads(out) if out.startswith("{") else {}), err


def test_bad_files_are_reported_with_bounded_cost(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base, head = tmp_path / "base", tmp_path / "head"
    base.mkdir()
    head.mkdir()
    bomb = VS.format(name="bomb") + "  a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"  a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]\n" for i in range(1, 12))
    (head / "bomb.yaml").write_text(bomb)
    (head / "big.yaml").write_bytes(b"# filler\n" * (50 * 1024 * 1024 // 9))  # 50 MB
    (head / "binary.yaml").write_bytes(b"\x00\x01\x02kind: VirtualService\x00")
    (head / "latin1.yaml").write_bytes(VS.format(name="caf\xe9").encode("latin-1"))
    (tmp_path / "secret.yaml").write_text(VS.format(name="outside"))
    os.symlink(tmp_path / "secret.yaml", head / "link.yaml")
    (head / "deep.yaml").write_text(VS.format(name="deep") + "  x: " + "[" * 3000 + "]" * 3000 + "\n")
    (head / "deepblock.yaml").write_text(VS.format(name="deepblock") + "".join(
        " " * (2 + i) + f"k{i}:\n" for i in range(700)) + " " * 702 + "v: 1\n")
    (head / "dupkeys.yaml").write_text(VS.format(name="dup") + "  hosts: [again]\n")
    (head / "ok.yaml").write_text(VS.format(name="ok"))
    start = time.perf_counter()
    code, report, err = cli(capsys, "diff", "--base-dir", str(base), "--head-dir", str(head), "--format", "json")
    assert time.perf_counter() - start < 20 and err == ""
    assert code == 1  # broken files the change adds are errors
    found = {(f["rule"], f["resource"]["file"]): f["message"] for f in report["findings"]}
    assert "alias bomb" in found[("parse-error", "bomb.yaml")]  # kubectl refuses it too
    assert "not UTF-8 text" in found[("parse-error", "latin1.yaml")]
    assert "repeats key 'hosts'" in found[("duplicate-key", "dupkeys.yaml")]  # kubectl keeps the last value
    skipped = {s["file"]: s["reason"] for s in report["skipped"]}
    # the review's own limit, in its own words: kubectl reads such a file, this review does not
    assert skipped["deep.yaml"].startswith("nesting too deep (over 500 levels)")
    assert skipped["deepblock.yaml"].startswith("nesting too deep (over 500 levels)")
    assert not any(file in ("deep.yaml", "deepblock.yaml") for _, file in found)
    assert skipped["big.yaml"] == "larger than 8 MiB" and skipped["binary.yaml"] == "binary file, not YAML"
    assert skipped["link.yaml"] == "symbolic link pointing outside the tree, not followed"
    assert [c["name"] for c in report["changes"]] == ["dup", "ok"]


def test_git_trouble_says_what_to_change(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    origin = tmp_path / "origin"
    origin.mkdir()
    git(origin, "init", "-q", "-b", "main")
    for i in range(3):
        (origin / "vs.yaml").write_text(VS.format(name=f"v{i}"))
        git(origin, "add", "-A")
        git(origin, "commit", "-qm", f"c{i}")
    first = git(origin, "rev-list", "--max-parents=0", "HEAD")
    shallow = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{origin}", str(shallow))
    code, _, err = cli(capsys, "diff", "--repo", str(shallow), "--base", first, "--head", "HEAD")
    assert code == 2 and "shallow" in err and "fetch-depth: 0" in err and err.count("\n") == 1
    code, _, err = cli(capsys, "diff", "--repo", str(origin), "--base", "no-such-branch", "--head", "HEAD")
    assert code == 2 and "unknown revision 'no-such-branch'" in err
    other = tmp_path / "other"
    other.mkdir()
    git(other, "init", "-q", "-b", "main")
    (other / "x.yaml").write_text("a: 1\n")
    git(other, "add", "-A")
    git(other, "commit", "-qm", "x")
    git(origin, "fetch", "-q", str(other), "main:unrelated")
    code, _, err = cli(capsys, "diff", "--repo", str(origin), "--base", "unrelated", "--head", "main")
    assert code == 2 and "no common ancestor" in err


def _fuzz_module():  # type: ignore[no-untyped-def]
    return load_script("fuzz")


def test_fuzz_slice_finds_no_crash() -> None:
    assert _fuzz_module().fuzz(400, seed=20261123) == []


_leaf = st.one_of(st.none(), st.booleans(), st.integers(min_value=-2**80, max_value=2**80), st.floats(),
                  st.text(max_size=20), st.sampled_from(["*", ".", "~", "mesh", "v1", "reviews", "a/b", "*.local"]))
_value = st.recursive(_leaf, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.one_of(st.text(max_size=8), st.integers()), inner, max_size=4)),
    max_leaves=25)
_kinds = st.sampled_from(["Gateway", "VirtualService", "DestinationRule", "ServiceEntry", "Sidecar",
                          "PeerAuthentication", "Service"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(docs=st.lists(st.tuples(_kinds, _value, _value), min_size=1, max_size=4))
def test_any_shape_under_spec_is_reviewed_without_crashing(docs: list) -> None:  # type: ignore[type-arg]
    import yaml

    from bot.render import json_report, markdown, sarif, text

    manifests = []
    for i, (kind, spec, extra) in enumerate(docs):
        api = "v1" if kind == "Service" else ("security.istio.io/v1" if kind == "PeerAuthentication"
                                              else "networking.istio.io/v1")
        manifests.append({"apiVersion": api, "kind": kind, "metadata": {"name": f"r{i}", "namespace": "ns",
                                                                        "annotations": extra}, "spec": spec})
    body = yaml.safe_dump_all(manifests, allow_unicode=True)
    report = diff({}, {"m.yaml": body})
    for render in (text.render, markdown.render, json_report.render, sarif.render):
        render(report)


def test_secondary_rate_limit_is_waited_out(setup) -> None:  # type: ignore[no-untyped-def]
    fake, origin, run = setup
    fake.faults.append(Fault("GET", rf"/repos/{REPO}/issues/7/comments", 403, times=1,
                             headers={"Retry-After": "1"}))
    fake.faults.append(Fault("GET", rf"/repos/{REPO}/issues/7/comments", 429, times=1,
                             headers={"Retry-After": "1"}))
    start = time.perf_counter()
    code, _, _, _ = run("pull_request", pr_payload(fake, origin))
    assert code == 1 and len(fake.comments[7]) == 1 and time.perf_counter() - start >= 2


def test_closed_or_deleted_pull_request(setup) -> None:  # type: ignore[no-untyped-def]
    fake, origin, run = setup
    del fake.pulls[7]
    del fake.comments[7]
    code, stdout, summary, _ = run("pull_request", pr_payload(fake, origin))
    assert code == 1 and "could not update the pull request comment" in stdout and "404" in stdout
    assert summary.startswith("### ⛔") and writes(fake) == []


def test_rejected_body_and_timeouts_keep_the_verdict(setup) -> None:  # type: ignore[no-untyped-def]
    fake, origin, run = setup
    fake.faults.append(Fault("POST", rf"/repos/{REPO}/issues/7/comments", 422, times=1))
    code, stdout, _, _ = run("pull_request", pr_payload(fake, origin))
    assert code == 1 and fake.comments[7] == [] and "422" in stdout
    fake.faults.append(Fault("GET", rf"/repos/{REPO}/issues/7/comments", 200, times=10, delay=2.0))
    code, stdout, _, _ = run("pull_request", pr_payload(fake, origin), extra_env={"ISTIO_PR_BOT_TIMEOUT": "1"})
    assert code == 1 and fake.comments[7] == [] and "could not update the pull request comment" in stdout


def test_token_never_leaks_even_when_echoed(setup) -> None:  # type: ignore[no-untyped-def]
    fake, origin, run = setup
    fake.faults.append(Fault("GET", rf"/repos/{REPO}/issues/7/comments", 500, times=10))
    code, stdout, _, _ = run("pull_request", pr_payload(fake, origin))
    assert code == 1 and TOKEN not in stdout and TOKEN in fake.seen_tokens


def test_two_runs_at_once_leave_one_comment_with_the_newest_head(setup) -> None:  # type: ignore[no-untyped-def]
    fake, origin, run = setup
    for attempt in range(3):  # two pushes in quick succession, their runs racing
        first = origin.push({"notes.txt": f"push {attempt}a\n"})
        second = origin.push({"notes.txt": f"push {attempt}b\n"})
        fake.add_pull(7, second, origin.base)
        for head in (first, second):
            fake.compare[(origin.base, head)] = origin.base
        older = run.start("pull_request", pr_payload(fake, origin, updated=f"2026-11-2{attempt}T10:00:00Z", head=first))
        newer = run.start("pull_request", pr_payload(fake, origin, updated=f"2026-11-2{attempt}T10:00:05Z",
                                                     head=second))
        assert run.wait(older)[0] == 1 and run.wait(newer)[0] == 1
        ours = [c for c in fake.comments[7] if c["user"]["login"] == "github-actions[bot]"]
        assert len(ours) == 1 and second in ours[0]["body"] and first not in ours[0]["body"]
