"""istio-pr-bot: rollout-risk review of Istio manifests in pull requests."""

__version__ = "0.1.0"
