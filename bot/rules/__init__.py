"""Every rule, in one literal tuple. Ids name the hazard and never change."""

from __future__ import annotations

from bot.rules import (
    duplicate_resource,
    exportto_widened,
    gateway_host_conflict,
    gateway_port_name_conflict,
    gateway_shared_certificate,
    parse_error,
    subset_add_order,
    subset_missing,
    subset_remove_order,
)
from bot.rules.base import Rule

RULES: tuple[Rule, ...] = (
    parse_error,
    duplicate_resource,
    subset_add_order,
    subset_remove_order,
    subset_missing,
    gateway_port_name_conflict,
    gateway_host_conflict,
    gateway_shared_certificate,
    exportto_widened,
)  # type: ignore[assignment]

RULE_IDS: tuple[str, ...] = tuple(rule.ID for rule in RULES)
BY_ID = {rule.ID: rule for rule in RULES}
