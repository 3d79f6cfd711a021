"""What a kustomization or chart reads; whether a change touches a target; the root kustomization
as a controller builds it (pure)."""

from __future__ import annotations

import json

import pytest
import yaml

from bot import kustomize_edit
from bot.inputs import chart_closure, is_remote, kustomization_closure
from bot.targets import Cluster, KustomizeEdits, Source, SourceKind, Target, Tool, touched

K = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"


def closure_of(files: dict[str, str], folder: str):  # type: ignore[no-untyped-def]
    data = {p: t.encode() for p, t in files.items()}
    return kustomization_closure(folder, data.keys(), data)


def test_every_field_that_names_a_file_is_followed_recursively() -> None:
    files = {
        "app/kustomization.yaml": K + """resources: [vs.yaml, ../base, "https://github.com/x/y//z?ref=v1", host.example/x]
bases: [../old]
components: [../comp]
crds: [crd.yaml]
patches: [{path: patch.yaml}, {patch: "inline"}]
patchesStrategicMerge: [smp.yaml, "apiVersion: v1\\nkind: Service\\n"]
patchesJson6902: [{path: json.yaml, target: {kind: Service}}]
configMapGenerator: [{name: c, files: [key=conf/a.txt, conf/b.txt], envs: [e.env]}]
secretGenerator: [{name: s, env: s.env}]
replacements: [{path: repl.yaml}]
configurations: [conf.yaml]
transformers: [t.yaml]
openapi: {path: schema.json}
""",
        "app/vs.yaml": "", "app/crd.yaml": "", "app/patch.yaml": "", "app/smp.yaml": "", "app/json.yaml": "",
        "app/conf/a.txt": "", "app/conf/b.txt": "", "app/e.env": "", "app/s.env": "", "app/repl.yaml": "",
        "app/conf.yaml": "", "app/t.yaml": "", "app/schema.json": "",
        "base/kustomization.yml": K + "resources: [svc.yaml, ../app]\n", "base/svc.yaml": "",
        "old/Kustomization": K + "resources: [gone.yaml]\n",
        "comp/kustomization.yaml": "kind: Component\nresources: [c.yaml]\n", "comp/c.yaml": "",
        "unrelated.yaml": "", "app/host.example/x/kustomization.yaml": K,
    }
    closure = closure_of(files, "app")
    assert set(closure.files) == set(files) - {"unrelated.yaml", "old/gone.yaml"}
    assert closure.remote == ("https://github.com/x/y//z?ref=v1",)
    assert closure.missing == ("old/gone.yaml",)
    # the cycle back to app is walked once; a local folder that looks like a host name is local
    assert closure.kustomizations == ("app", "base", "app/host.example/x", "old", "comp")


def test_problems_outside_paths_and_missing_folders() -> None:
    closure = closure_of({"a/kustomization.yaml": K + "resources: [../../etc/passwd, ../nowhere, ./sub]\n",
                          "a/sub/x.yaml": "", "b/kustomization.yaml": "resources: [\n"}, "a")
    assert closure.problems == ("a/kustomization.yaml: ../../etc/passwd is outside the repository",)
    assert closure.missing == ("nowhere/", "a/sub/")  # folders, as they have no kustomization
    broken = closure_of({"b/kustomization.yaml": "resources: [\n"}, "b")
    assert broken.problems == ("b/kustomization.yaml: not valid YAML (line 2)",)
    assert closure_of({}, "c").missing == ("c/",)


def test_helm_charts_in_a_kustomization_read_their_chart_home() -> None:
    closure = closure_of({"a/kustomization.yaml": K + "helmCharts: [{name: x, valuesFile: v.yaml}]\n",
                          "a/v.yaml": ""}, "a")
    assert closure.files == ("a/kustomization.yaml", "a/v.yaml") and closure.folders == ("a/charts",)
    assert closure.inputs == ("a/kustomization.yaml", "a/v.yaml", "a/charts/")


@pytest.mark.parametrize("entry, remote", [
    ("https://github.com/org/repo//dir?ref=v1", True), ("git@github.com:org/repo", True),
    ("github.com/org/repo/dir", True), ("ssh://host/repo", True), ("file:///tmp/x", True),
    ("../base", False), ("vs.yaml", False)])
def test_remote_references(entry: str, remote: bool) -> None:
    assert is_remote(entry) is remote


def test_a_chart_reads_its_folder_value_files_and_file_dependencies() -> None:
    files = {"c/Chart.yaml": b"dependencies:\n- {name: d, repository: file://../d}\n- {name: e, repository: file://../e}\n"
                             b"- {name: f, repository: https://charts.example.com}\n- {name: g, repository: file://../../g}\n",
             "d/Chart.yaml": b"name: d\n", "env/prod.yaml": b""}
    closure = chart_closure("c", ("env/prod.yaml", "env/qa.yaml"), files.keys(), files)
    assert closure.inputs == ("env/prod.yaml", "c/", "d/")
    assert closure.missing == ("e", "env/qa.yaml")
    assert closure.problems == ("c/Chart.yaml: dependency file://../../g is outside the repository",)


def target(inputs: tuple[str, ...], namespace: str | None = None) -> Target:
    return Target("t", Cluster("prod"), SourceKind.KUSTOMIZE, "app", (Source(Tool.KUSTOMIZE, "app"),), namespace,
                  inputs=inputs)


def test_touched_by_inputs_at_either_revision_or_a_new_definition() -> None:
    base, head = target(("app/kustomization.yaml", "charts/x/")), target(("app/kustomization.yaml", "new.yaml"))
    assert touched(base, head, {"charts/x/templates/vs.yaml"})  # read at base only
    assert touched(base, head, {"new.yaml"})  # read at head only
    assert not touched(base, head, {"charts/y/values.yaml", "README.md"})
    assert touched(base, target(base.inputs, namespace="shop"), set())  # rendered differently
    assert touched(None, head, set()) and touched(base, None, set())


# --- the root kustomization as controllers build it

def test_edits_and_origin_annotations_keep_what_the_user_wrote() -> None:
    text = (K + "# keep me\nnamespace: old\nimages:\n- name: nginx\n  newTag: '1.10'\nbuildMetadata: [managedByLabel]\n"
            "components: [a]\ncommonLabels: {team: x}\n").encode()
    edits = KustomizeEdits(namespace="new", name_suffix="-s", components=("a", "b"),
                           patches=(json.dumps({"path": "p.yaml"}),), images=("nginx=registry/nginx:1.27", "redis:7"),
                           labels=(("env", "prod"),))
    edited = kustomize_edit.edit(text, edits)
    out = edited.text.decode()
    assert edited.origin_added and "# keep me" in out
    doc = yaml.safe_load(out)
    assert doc["namespace"] == "new" and doc["nameSuffix"] == "-s" and doc["components"] == ["a", "b"]
    assert doc["patches"] == [{"path": "p.yaml"}]
    assert doc["images"] == [{"name": "nginx", "newTag": "1.27", "newName": "registry/nginx"},
                             {"name": "redis", "newTag": "7"}]
    assert doc["commonLabels"] == {"team": "x", "env": "prod"}
    assert doc["buildMetadata"] == ["managedByLabel", "originAnnotations"]
    assert kustomize_edit.edit(text, KustomizeEdits(), origin=False).text == text  # comments, quotes kept


def test_an_unreadable_kustomization_is_left_for_kustomize_to_report() -> None:
    for text, problem in ((b"resources: [\n", "not valid YAML"), (b"- a\n", "not a mapping")):
        edited = kustomize_edit.edit(text, KustomizeEdits(namespace="x"))
        assert (edited.text, edited.origin_added, edited.problem) == (text, False, problem)


def test_flux_generates_a_kustomization_of_the_yaml_below_a_folder() -> None:
    paths = ["apps/a.yaml", "apps/b.yml", "apps/notes.md", "apps/deep/c.yaml", "apps/unit/kustomization.yaml",
             "apps/unit/x.yaml", "apps/unit/sub/y.yaml", "other/z.yaml"]
    doc = json.loads(kustomize_edit.generated("apps", paths))
    assert doc["resources"] == ["./a.yaml", "./b.yml", "./deep/c.yaml", "./unit"]
    assert json.loads(kustomize_edit.generated("empty", paths)) == {
        "apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization", "namespace": "_placeholder"}
