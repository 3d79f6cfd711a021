"""Running rules over a context: each enabled rule at its configured severity, then suppression by
annotation and the order findings are reported in."""

from __future__ import annotations

from dataclasses import replace

from bot.config import Config
from bot.context import Context
from bot.findings import Finding, Suppressed
from bot.mesh import Mesh
from bot.rules import RULES
from bot.rules.base import Rule


def enabled(config: Config, diff_mode: bool, only: set[str] | None = None) -> list[Rule]:
    """The rules to run, in registry order: on in config, and (outside a diff) not diff-only."""
    return [rule for rule in RULES
            if config.rule(rule.ID).enabled and not (rule.DIFF_ONLY and not diff_mode)
            and (only is None or rule.ID in only)]


def check(ctx: Context, rule: Rule) -> list[Finding]:
    """One rule's findings, at the severity config gives it (else the rule's own)."""
    severity = ctx.config.rule(rule.ID).severity
    return [replace(found, severity=severity) if severity else found for found in rule.check(ctx)]


def run(ctx: Context, rules: list[Rule]) -> list[Finding]:
    return [found for rule in rules for found in check(ctx, rule)]


def suppress(findings: list[Finding], mesh: Mesh) -> tuple[list[Finding], list[Suppressed]]:
    """Findings on resources whose annotation `istio-pr-bot.io/ignore` names the rule are set apart."""
    kept, suppressed = [], []
    for f in findings:
        res = mesh.by_key.get(f.resource.key)
        if res is not None and f.rule in res.ignored_rules():
            suppressed.append(Suppressed(f))
        else:
            kept.append(f)
    return kept, suppressed


def order(findings: list[Finding]) -> list[Finding]:
    """Introduced first, then by severity, file, line, rule and detail."""
    return sorted(findings, key=lambda f: (not f.introduced, -f.severity.rank, f.resource.file,
                                           f.location_line, f.rule, f.detail))
