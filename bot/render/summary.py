"""Words every renderer shares: the verdict and counts."""

from __future__ import annotations

from dataclasses import dataclass

from bot.findings import Severity
from bot.report import ConfigReview, Report


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def verdict(report: Report) -> str:
    found = report.headline()
    counts = [plural(sum(1 for f in found if f.severity is s), s.value) for s in
              (Severity.ERROR, Severity.WARNING, Severity.NOTICE)]
    counts = [c for c in counts if not c.startswith("0 ")]
    if report.mode == "diff":
        scope = f"{plural(len(report.changes), 'changed Istio resource')}"
    else:
        scope = f"{plural(report.resources, 'Istio resource')}"
    text = f"{', '.join(counts)} in {scope}" if counts else f"No rollout risks in {scope}"
    earlier = len(report.earlier())
    if earlier:
        text += f" ({earlier} pre-existing)"
    if report.targets:
        touched = [t for t in report.targets if t.touched] if report.mode == "diff" else list(report.targets)
        clusters = {t.cluster for t in touched}
        what = "changed target" if report.mode == "diff" else "target"
        text += f"; {plural(len(touched), what)} in {plural(len(clusters), 'cluster')}"
        missing = report.not_reviewed()
        if missing:
            text += f", {len(missing)} not reviewed"
    return text


def max_severity(report: Report) -> Severity | None:
    found = report.headline()
    return max((f.severity for f in found), key=lambda s: s.rank, default=None)


def short_rev(rev: str | None) -> str | None:
    """A commit id shortened to 12 characters; anything else as it is."""
    if rev and len(rev) == 40 and all(c in "0123456789abcdef" for c in rev):
        return rev[:12]
    return rev


def nothing_found(report: Report) -> str:
    """The hint for a review that found no Istio resource at all ('' otherwise)."""
    if not report.empty:
        return ""
    globs = ", ".join(report.paths) or "none"
    return (f"no Istio resources in the files read (paths: {globs}); if the manifests are elsewhere or named "
            "otherwise, set `paths` in .istio-pr-bot.yaml (or the action's `paths` input)")


def fix_first(report: Report, cluster: str | None = None) -> str:
    """What the plan says when errors hold resources back ('' when none do); with `cluster`, what that
    cluster's plan says (a repository of deploy targets has one plan per cluster)."""
    held = [r for r in report.plan.left_out if cluster is None or r.cluster == cluster]
    if not held:
        return ""
    errors = sum(1 for f in report.headline()
                 if f.severity is Severity.ERROR and (cluster is None or f.resource.cluster == cluster))
    return (f"Fix the {plural(errors, 'error')} first. Until then the stages leave out what the errors flag, "
            "and what must follow it:")


@dataclass(frozen=True)
class SettingsWords:
    """What the renderers say about a change to the review's own settings (plain text)."""

    lead: str
    check: str  # '' when the verdict would not change
    hidden: str  # introduces the list of hidden findings ('' when none)


def settings_words(change: ConfigReview) -> SettingsWords:
    from_base = change.used == "base"
    if change.error:
        lead = (f"This pull request edits {change.file}, and its settings cannot be used: {change.error}. The review "
                "uses the base branch's; once merged, every review would stop with this error." if from_base else
                f"The base branch's {change.file} cannot be used ({change.error}), so this pull request's settings are "
                "not compared with it.")
        return SettingsWords(lead, "", "")
    lead = (f"This pull request edits {change.file}. The review uses the base branch's settings, which a pull request "
            "cannot loosen; once merged, these change:" if from_base else
            f"This pull request edits {change.file}, and the review uses its settings (config-from: head). Compared "
            "with the base branch's:")
    check = ""
    if change.fails_now != change.fails_after:
        if from_base:
            check = f"With the new settings this check would {'fail' if change.fails_after else 'pass'}."
        else:
            check = f"With the base branch's settings this check would {'fail' if change.fails_now else 'pass'}."
    n = len(change.hidden)
    hidden = ""
    if n:
        hidden = (f"The new settings would hide {plural(n, 'finding')} of this pull request:" if from_base else
                  f"The base branch's settings would also report {plural(n, 'finding')} this review leaves out:")
    return SettingsWords(lead, check, hidden)
