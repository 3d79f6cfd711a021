"""Every rule, in one literal tuple. Ids name the hazard and never change."""

from __future__ import annotations

from bot.rules import (
    dr_fragment_conflict,
    dr_lookup_path,
    dr_move_order,
    dr_tls_conflict,
    duplicate_key,
    duplicate_resource,
    exportto_narrowed,
    exportto_widened,
    gateway_host_conflict,
    gateway_port_name_conflict,
    gateway_shared_certificate,
    ingress_bypasses_subsets,
    parse_error,
    reference_missing,
    sidecar_scope_narrowed,
    subset_add_order,
    subset_missing,
    subset_policy_unused,
    subset_remove_order,
    vs_fragment_conflict,
    vs_host_unserved,
    vs_unreachable_rule,
)
from bot.rules.base import Rule

RULES: tuple[Rule, ...] = (
    parse_error,
    duplicate_key,
    duplicate_resource,
    subset_add_order,
    subset_remove_order,
    subset_missing,
    gateway_port_name_conflict,
    gateway_host_conflict,
    gateway_shared_certificate,
    exportto_widened,
    exportto_narrowed,
    sidecar_scope_narrowed,
    dr_lookup_path,
    dr_move_order,
    vs_fragment_conflict,
    vs_host_unserved,
    dr_fragment_conflict,
    dr_tls_conflict,
    ingress_bypasses_subsets,
    vs_unreachable_rule,
    subset_policy_unused,
    reference_missing,
)

RULE_IDS: tuple[str, ...] = tuple(rule.ID for rule in RULES)
BY_ID = {rule.ID: rule for rule in RULES}
