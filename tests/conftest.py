"""Hypothesis profiles: a bounded, derandomized one when CI is set, a broader one locally."""

import os

from hypothesis import HealthCheck, settings

settings.register_profile("ci", max_examples=15, derandomize=True, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=30, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci" if os.environ.get("CI") else "dev")


def pytest_configure(config):
    """One PyTorch thread for the comparison tests: tiny ops on a busy 2-core machine are
    mostly thread start-up and contention otherwise."""
    try:
        import torch
    except ImportError:
        return
    torch.set_num_threads(1)
