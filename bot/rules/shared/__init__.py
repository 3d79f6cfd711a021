"""Helpers shared by several rules (a rule never imports another rule)."""
