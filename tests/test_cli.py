"""The CLI end to end, on temporary git repositories and folders."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main
from tests.helpers import git

ROOT = Path(__file__).resolve().parent.parent

DR = """apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: reviews
  namespace: shop
spec:
  host: reviews
  subsets:
{subsets}"""
VS = """apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
  namespace: shop
spec:
  hosts:
  - reviews
  http:
  - route:
{routes}"""


def subsets(*names: str) -> str:
    return "".join(f"  - name: {n}   # subset {n}\n    labels:\n      version: {n}\n" for n in names)


def routes(*names: str) -> str:
    return "".join(f"    - destination:\n        host: reviews\n        subset: {n}\n" for n in names)


def commit(repo: Path, files: dict[str, str], message: str) -> str:
    for name, text in files.items():
        path = repo / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", message)
    return git(repo, "rev-parse", "HEAD")


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    """main: DR with v1 and a VS on v1. Branch pr adds v2 and routes to it."""
    r = tmp_path / "repo"
    r.mkdir()
    git(r, "init", "-q", "-b", "main")
    commit(r, {"mesh/reviews.yaml": DR.format(subsets=subsets("v1")) + "---\n" + VS.format(routes=routes("v1"))}, "base")
    git(r, "checkout", "-qb", "pr")
    commit(r, {"mesh/reviews.yaml": DR.format(subsets=subsets("v1", "v2")) + "---\n" + VS.format(routes=routes("v1", "v2"))},
           "canary v2")
    return r


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_diff_reports_ordering_hazard_and_stages(repo: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = run(capsys, "diff", "--repo", str(repo), "--base", "main", "--head", "pr", "--format", "json",
                       "--plan-dir", str(tmp_path / "plan"))
    report = json.loads(out)
    assert code == 0  # warnings do not fail the default --fail-on error
    assert report["mode"] == "diff" and report["summary"]["warning"] == 1 and report["summary"]["changed"] == 2
    (finding,) = report["findings"]
    assert finding["rule"] == "subset-add-order" and finding["introduced"] is True
    assert finding["resource"] == {"kind": "VirtualService", "group": "networking.istio.io", "namespace": "shop",
                                   "name": "reviews", "file": "mesh/reviews.yaml", "line": 16}
    lines = (repo / "mesh" / "reviews.yaml").read_text().splitlines()
    assert lines[finding["line"] - 1].strip() == "host: reviews" and lines[finding["line"]].strip() == "subset: v2"
    assert [s["title"] for s in report["plan"]["stages"]] == ["Apply DestinationRule shop/reviews",
                                                              "Apply VirtualService shop/reviews"]
    assert report["plan"]["stages"][0]["wait"] == "istioctl x wait --for=distribution DestinationRule reviews.shop"
    stage1 = (tmp_path / "plan" / "stage-1.yaml").read_text()
    assert "kind: DestinationRule" in stage1 and "kind: VirtualService" not in stage1
    assert "# subset v2" in stage1  # documents as written, comments kept


def test_fail_on_threshold(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "diff", "--repo", str(repo), "--base", "main", "--head", "pr", "--fail-on", "warning")[0] == 1
    assert run(capsys, "diff", "--repo", str(repo), "--base", "main", "--head", "pr", "--fail-on", "never")[0] == 0


def test_git_mode_compares_against_the_merge_base(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    git(repo, "checkout", "-q", "main")
    commit(repo, {"other/gw.yaml": "apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata:\n  name: gw\n"
                  "  namespace: edge\nspec:\n  servers: []\n"}, "unrelated change on main")
    code, out, _ = run(capsys, "diff", "--repo", str(repo), "--base", "main", "--head", "pr", "--format", "json")
    kinds = [c["kind"] for c in json.loads(out)["changes"]]
    assert kinds == ["DestinationRule", "VirtualService"]  # the Gateway added on main is not the PR's


def test_work_tree_is_neither_read_nor_touched(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "mesh" / "reviews.yaml").write_text("not: [valid")
    before = git(repo, "status", "--porcelain")
    code, out, _ = run(capsys, "diff", "--repo", str(repo), "--base", "main", "--head", "pr", "--format", "json")
    assert code == 0 and json.loads(out)["findings"][0]["rule"] == "subset-add-order"
    assert git(repo, "status", "--porcelain") == before


def test_errors_exit_2_with_one_line(repo: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, err = run(capsys, "diff", "--repo", str(repo), "--base", "nope", "--head", "pr")
    assert code == 2 and out == "" and err.count("\n") == 1 and "unknown revision 'nope'" in err
    code, _, err = run(capsys, "diff", "--repo", str(tmp_path), "--base", "a", "--head", "b")
    assert code == 2 and "not a git repository" in err
    (repo / "bad.yaml").write_text("rules:\n  no-such-rule: {enabled: false}\n")
    code, _, err = run(capsys, "diff", "--repo", str(repo), "--base", "main", "--head", "pr", "--config", str(repo / "bad.yaml"))
    assert code == 2 and "unknown rule id 'no-such-rule'" in err
    (repo / "bad.yaml").write_text("fail_on: warning\n")
    code, _, err = run(capsys, "diff", "--repo", str(repo), "--base", "main", "--head", "pr", "--config", str(repo / "bad.yaml"))
    assert code == 2 and "unknown key 'fail_on'" in err
    with pytest.raises(SystemExit) as exc:
        main(["diff", "--base", "main"])
    assert exc.value.code == 2


def on_main(repo: Path, files: dict[str, str]) -> None:
    """Commit on main (the base) and come back to pr."""
    git(repo, "checkout", "-q", "main")
    commit(repo, files, "settings")
    git(repo, "checkout", "-q", "pr")


def test_config_file_at_the_root_sets_severity_and_disables(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    on_main(repo, {".istio-pr-bot.yaml": "rules:\n  subset-add-order:\n    severity: error\n"})
    assert run(capsys, "diff", "--repo", str(repo), "--base", "main", "--head", "pr")[0] == 1
    on_main(repo, {".istio-pr-bot.yaml": "rules:\n  subset-add-order:\n    enabled: false\n"})
    code, out, _ = run(capsys, "diff", "--repo", str(repo), "--base", "main", "--head", "pr", "--format", "json")
    assert code == 0 and json.loads(out)["findings"] == [] and json.loads(out)["disabled_rules"] == ["subset-add-order"]
    # git mode reads the settings from git, like the manifests: an uncommitted file changes nothing
    (repo / ".istio-pr-bot.yaml").write_text("rules:\n  subset-add-order:\n    severity: error\n")
    assert run(capsys, "diff", "--repo", str(repo), "--base", "main", "--head", "pr")[0] == 0
    # --config FILE is read as it is, on every side
    assert run(capsys, "diff", "--repo", str(repo), "--base", "main", "--head", "pr",
               "--config", str(repo / ".istio-pr-bot.yaml"))[0] == 1


def test_diff_reads_the_settings_from_the_base_side(repo: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
                                                    ) -> None:
    """A change that loosens its own settings is judged by the base's, and the report says what it changes."""
    commit(repo, {".istio-pr-bot.yaml": "fail-on: never\nrules:\n  subset-add-order: {severity: notice}\n"}, "loosen")
    code, out, _ = run(capsys, "diff", "--repo", str(repo), "--base", "main", "--head", "pr", "--fail-on", "warning",
                       "--format", "json")
    change = json.loads(out)["config_change"]
    assert code == 1 and change["used"] == "base"
    assert change["changes"] == [
        {"key": "fail-on", "before": "error", "after": "never"},
        {"key": "rule subset-add-order severity", "before": "the rule's default (warning)", "after": "notice"}]
    assert [(h["rule"], h["why"]) for h in change["hidden"]] == [("subset-add-order", "severity warning → notice")]
    code, out, _ = run(capsys, "diff", "--repo", str(repo), "--base", "main", "--head", "pr", "--config-from", "head")
    assert code == 0 and "1 notice" in out and "With the base branch's settings this check would" not in out
    # folders: the base folder's settings
    base, head = tmp_path / "base", tmp_path / "head"
    for folder, rev in ((base, "main"), (head, "pr")):
        folder.mkdir()
        git(repo, "worktree", "add", "-q", "--detach", str(folder / "t"), rev)
    code, out, _ = run(capsys, "diff", "--base-dir", str(base / "t"), "--head-dir", str(head / "t"), "--fail-on",
                       "warning")
    assert code == 1 and "fail-on: error -> never" in out
    assert run(capsys, "diff", "--base-dir", str(base / "t"), "--head-dir", str(head / "t"), "--fail-on", "warning",
               "--config-from", "head")[0] == 0


def test_annotation_suppresses_and_lists(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    vs = VS.format(routes=routes("v1", "v2")).replace(
        "  namespace: shop\n", "  namespace: shop\n  annotations:\n    istio-pr-bot.io/ignore: subset-add-order\n", 1)
    commit(repo, {"mesh/reviews.yaml": DR.format(subsets=subsets("v1", "v2")) + "---\n" + vs}, "ignore")
    code, out, _ = run(capsys, "diff", "--repo", str(repo), "--base", "main", "--head", "pr", "--format", "json",
                       "--fail-on", "warning")
    report = json.loads(out)
    assert code == 0 and report["findings"] == [] and report["summary"]["suppressed"] == 1
    assert report["suppressed"][0]["rule"] == "subset-add-order"


def test_audit_paths_and_text_without_colour(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    commit(repo, {"other/vs.yaml": VS.format(routes=routes("v9")).replace("name: reviews\n", "name: other\n", 1)}, "v9")
    code, out, _ = run(capsys, "audit", "--repo", str(repo), "mesh")
    assert code == 0 and "No rollout risks in 2 Istio resources" in out and "\033[" not in out
    code, out, _ = run(capsys, "audit", "--repo", str(repo))
    assert code == 1 and "subset-missing" in out and "vs-fragment-conflict" in out


def test_folders_mode_helm_and_broken_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base, head = tmp_path / "base", tmp_path / "head"
    for d in (base, head):
        (d / "chart" / "templates").mkdir(parents=True)
        (d / "chart" / "templates" / "vs.yaml").write_text("kind: VirtualService\nmetadata:\n  name: {{ .Release.Name }}\n")
        (d / "ok.yaml").write_text(DR.format(subsets=subsets("v1")))
    (base / "broken.yaml").write_text("kind: VirtualService\nspec: [")  # broken before and after
    (head / "broken.yaml").write_text("kind: VirtualService\nspec: [")
    for d in (base, head):
        (d / "notes.yaml").write_text("todo: [")  # untouched and not an Istio document: never parsed
    (head / "new.yaml").write_text("kind: VirtualService\n  bad: [")
    code, out, _ = run(capsys, "diff", "--base-dir", str(base), "--head-dir", str(head), "--format", "json")
    report = json.loads(out)
    assert code == 1
    assert [(f["rule"], f["resource"]["file"]) for f in report["findings"]] == [("parse-error", "new.yaml")]
    reasons = {s["file"]: s["reason"] for s in report["skipped"]}
    assert "Helm" in reasons["chart/templates/vs.yaml"] and "not valid YAML" in reasons["broken.yaml"]
    assert "notes.yaml" not in reasons


def test_console_script_version_and_no_traceback() -> None:
    exe = [sys.executable, "-m", "bot"]
    version = subprocess.run([*exe, "--version"], capture_output=True, text=True, cwd=ROOT)
    assert version.returncode == 0 and version.stdout.startswith("istio-pr-bot ")
    failed = subprocess.run([*exe, "audit", "--ref", "HEAD", "--repo", "/nonexistent"], capture_output=True, text=True,
                            cwd=ROOT)
    assert failed.returncode == 2 and "Traceback" not in failed.stderr and failed.stderr.count("\n") == 1


def test_config_comment_template_overrides_a_block(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    on_main(repo, {"review.md.j2": '{% extends "comment.md.j2" %}{% block plan %}\n\nTalk to #mesh-oncall first.'
                                   '{% endblock %}', ".istio-pr-bot.yaml": "comment:\n  template: review.md.j2\n"})
    code, out, _ = run(capsys, "diff", "--repo", str(repo), "--base", "main", "--head", "pr", "--format", "markdown")
    assert code == 0 and "Talk to #mesh-oncall first." in out and "Rollout" not in out
    on_main(repo, {".istio-pr-bot.yaml": "comment:\n  templat: x\n"})
    code, _, err = run(capsys, "diff", "--repo", str(repo), "--base", "main", "--head", "pr")
    assert code == 2 and "the base revision's settings cannot be used" in err and "unknown key 'templat'" in err
    for template, says in (("gone.md.j2", "comment template gone.md.j2 not found"),
                           ("../../etc/passwd", "must be a path inside the repository"),
                           ("broken.md.j2", "the comment template does not render: TemplateSyntaxError")):
        on_main(repo, {".istio-pr-bot.yaml": f"comment:\n  template: {template}\n", "broken.md.j2": "{% block %}"})
        code, out, err = run(capsys, "diff", "--repo", str(repo), "--base", "main", "--head", "pr", "--format",
                             "markdown")
        assert code == 2 and out == "" and err.count("\n") == 1 and says in err, err


def test_audit_paths_may_be_absolute_inside_the_repository(repo: Path, capsys: pytest.CaptureFixture[str],
                                                           tmp_path: Path) -> None:
    commit(repo, {"other/vs.yaml": VS.format(routes=routes("v9")).replace("name: reviews\n", "name: other\n", 1)}, "v9")
    relative = run(capsys, "audit", "--repo", str(repo), "mesh")
    assert relative[0] == 0 and "No rollout risks in 2 Istio resources" in relative[1]
    assert run(capsys, "audit", "--repo", str(repo), str(repo / "mesh")) == relative
    assert run(capsys, "audit", "--repo", str(repo / "mesh"), ".") == relative  # relative to --repo
    whole = run(capsys, "audit", "--repo", str(repo), str(repo))
    assert whole[0] == 1 and "3 Istio resources" in whole[1] and "subset-missing" in whole[1]
    outside = tmp_path / "elsewhere"
    for argv in (["--repo", str(repo), str(outside)], ["--repo", str(repo), "../elsewhere"]):
        code, out, err = run(capsys, "audit", *argv)
        assert code == 2 and out == "" and err.count("\n") == 1
        assert "outside" in err and str(repo) in err


def test_audit_paths_in_a_folder_that_is_not_a_repository(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tree = tmp_path / "tree"
    (tree / "mesh").mkdir(parents=True)
    (tree / "other").mkdir()
    (tree / "mesh" / "reviews.yaml").write_text(DR.format(subsets=subsets("v1")) + "---\n" + VS.format(routes=routes("v1")))
    (tree / "other" / "vs.yaml").write_text(VS.format(routes=routes("v9")).replace("name: reviews\n", "name: other\n", 1))
    code, out, _ = run(capsys, "audit", "--repo", str(tree), str(tree / "mesh"))
    assert code == 0 and "No rollout risks in 2 Istio resources" in out
    code, out, err = run(capsys, "audit", "--repo", str(tree), str(tmp_path))
    assert code == 2 and out == "" and "outside" in err


def test_unquoted_istio_version_says_quote_it(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "c.yaml").write_text("istio-version: 1.20\n")  # YAML reads the number 1.2
    code, out, err = run(capsys, "audit", "--repo", str(repo), "--config", str(repo / "c.yaml"))
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "istio-version must be a string: quote it" in err and "1.2" in err
    (repo / "c.yaml").write_text('istio-version: "1.20"\n')
    assert run(capsys, "audit", "--repo", str(repo), "--config", str(repo / "c.yaml"))[0] == 0


def test_a_bad_flag_shows_the_command_usage(capsys: pytest.CaptureFixture[str]) -> None:
    for argv, usage in ((["diff", "--bogus"], "usage: istio-pr-bot diff "), (["audit", "--bogus"], "usage: istio-pr-bot audit "),
                        (["--bogus"], "usage: istio-pr-bot [-h]"), (["diff", "--base", "x"], "usage: istio-pr-bot diff ")):
        with pytest.raises(SystemExit) as exc:
            main(argv)
        err = capsys.readouterr().err
        assert exc.value.code == 2 and err.startswith(usage), (argv, err)
    assert "unrecognized arguments: --bogus" in run_err(capsys, ["diff", "--bogus"])


def run_err(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    with pytest.raises(SystemExit):
        main(argv)
    return capsys.readouterr().err


def test_a_file_where_a_folder_is_wanted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "file.yaml").write_text("kind: VirtualService\n")
    (tmp_path / "head").mkdir()
    for argv, says in (
        (["diff", "--base-dir", str(tmp_path / "file.yaml"), "--head-dir", str(tmp_path / "head")],
         f"--base-dir {tmp_path / 'file.yaml'}: not a directory"),
        (["diff", "--base-dir", str(tmp_path / "head"), "--head-dir", str(tmp_path / "nope")],
         f"--head-dir {tmp_path / 'nope'}: no such directory"),
        (["audit", "--repo", str(tmp_path / "file.yaml")], f"--repo {tmp_path / 'file.yaml'}: not a directory"),
        (["diff", "--repo", str(tmp_path / "file.yaml"), "--base", "a", "--head", "b"], "not a directory"),
    ):
        code, out, err = run(capsys, *argv)
        assert code == 2 and out == "" and err.count("\n") == 1 and says in err, (argv, err)


def test_an_empty_repository_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    git(empty, "init", "-q")
    for argv in (["audit", "--repo", str(empty)], ["diff", "--repo", str(empty), "--base", "main", "--head", "pr"]):
        code, out, err = run(capsys, *argv)
        assert code == 2 and out == "" and err.count("\n") == 1
        assert "has no commits yet: commit the manifests first" in err and "unknown revision" not in err


def test_no_istio_resources_hints_at_paths(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "c.yaml").write_text("paths: [deploy/*.yaml]\n")
    code, out, _ = run(capsys, "audit", "--repo", str(repo), "--config", str(repo / "c.yaml"))
    assert code == 0 and "No rollout risks in 0 Istio resources" in out
    assert "hint: no Istio resources in the files read (paths: deploy/*.yaml)" in out and "set `paths`" in out
    code, out, _ = run(capsys, "audit", "--repo", str(repo))
    assert code == 0 and "hint:" not in out


def test_settings_the_change_cannot_use_leave_the_review_to_the_base(repo: Path, capsys: pytest.CaptureFixture[str]
                                                                     ) -> None:
    commit(repo, {".istio-pr-bot.yaml": "fail-on: never\n#" + "x" * (2 << 20) + "\n"}, "a very large config")
    code, out, _ = run(capsys, "diff", "--repo", str(repo), "--base", "main", "--head", "pr", "--fail-on", "warning")
    assert code == 1 and "its settings cannot be used: .istio-pr-bot.yaml is larger than 1024 KiB" in out
    code, _, err = run(capsys, "diff", "--repo", str(repo), "--base", "main", "--head", "pr", "--config-from", "head")
    assert code == 2 and err.count("\n") == 1 and "head (config-from: head) revision's settings cannot be used" in err


def test_a_branch_behind_its_base_is_not_said_to_undo_the_bases_changes(repo: Path,
                                                                        capsys: pytest.CaptureFixture[str]) -> None:
    on_main(repo, {".istio-pr-bot.yaml": "fail-on: warning\n"})  # after the pull request started
    commit(repo, {".istio-pr-bot.yaml": "rules:\n  subset-add-order: {enabled: false}\n"}, "quiet a rule")
    code, out, _ = run(capsys, "diff", "--repo", str(repo), "--base", "main", "--head", "pr", "--format", "json")
    change = json.loads(out)["config_change"]
    assert code == 1  # the base's fail-on: warning
    assert change["changes"] == [{"key": "rule subset-add-order", "before": "enabled", "after": "disabled"}]
    assert [h["why"] for h in change["hidden"]] == ["rule disabled"]
    assert change["fails_now"] is True and change["fails_after"] is False
