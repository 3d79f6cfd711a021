"""What GitHub gives a step: its environment, inputs and event, and files for outputs and the summary."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TextIO

from bot.action.event import Event, commit_id
from bot.action.inputs import Inputs
from bot.render.annotations import escape_data as escape


@dataclass
class Runner:
    env: Mapping[str, str]
    out: TextIO
    inputs: Inputs
    event: Event
    workspace: str
    repository: str  # owner/name
    outputs: dict[str, str] = field(default_factory=dict)  # written by flush_outputs

    @classmethod
    def from_env(cls, env: Mapping[str, str], out: TextIO) -> Runner:
        return cls(env, out, Inputs.from_env(env),
                   Event.read(env.get("GITHUB_EVENT_NAME", ""), env.get("GITHUB_EVENT_PATH", "")),
                   env.get("GITHUB_WORKSPACE", os.getcwd()), env.get("GITHUB_REPOSITORY", ""))

    def log(self, text: str) -> None:
        """Write a line to the log, with the token masked."""
        self.out.write(text.replace(self.inputs.token, "***") if self.inputs.token else text)
        if not text.endswith("\n"):
            self.out.write("\n")

    def notice(self, text: str) -> None:
        self.log(f"::notice::{escape(text)}")

    def warn(self, text: str) -> None:
        self.log(f"::warning::{escape(text)}")

    def set_output(self, name: str, value: str) -> None:
        self.outputs[name] = value

    def flush_outputs(self) -> None:
        path = self.env.get("GITHUB_OUTPUT")
        if not path:
            return
        with open(path, "a", encoding="utf-8") as fh:
            for name, value in self.outputs.items():
                delimiter = f"ghadelimiter_{secrets.token_hex(8)}"
                fh.write(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")

    def summary(self, text: str) -> None:
        path = self.env.get("GITHUB_STEP_SUMMARY")
        if path:
            with open(path, "a", encoding="utf-8") as fh:
                fh.write(text)

    def repository_url(self) -> str:
        """The repository's URL on its GitHub server ('' when the environment does not name it)."""
        server = self.env.get("GITHUB_SERVER_URL", "https://github.com")
        return f"{server}/{self.repository}" if self.repository else ""

    def link_base(self, head: str) -> str:
        """Where files at `head` are shown on GitHub ('' when `head` is not a commit of this repository)."""
        server = self.env.get("GITHUB_SERVER_URL", "https://github.com")
        return f"{server}/{self.repository}/blob/{head}" if self.repository and commit_id(head) else ""

    def event_time(self, stamp: str) -> str:
        """The time a comment is stamped with: the event's, else the run number (ordered as text)."""
        return stamp or f"run-{int(self.env.get('GITHUB_RUN_NUMBER', '0') or 0):012d}"
