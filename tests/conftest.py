"""Hypothesis profiles and seed, and one PyTorch thread.

Profiles (MINIGRAD_HYPOTHESIS_PROFILE picks one; default "ci" when CI is set, else "dev"):
- ci:   EXAMPLES examples per property test, no example database, seed derived from the git
        commit, so a CI run is exactly reproducible yet each commit explores new inputs.
- dev:  the same number of examples with a fresh random seed per run, example database on.
- long: LONG_EXAMPLES per test (`make test-long`), for a deep run before a release.
MINIGRAD_HYPOTHESIS_EXAMPLES overrides the number of examples. The seed is printed in the pytest header; MINIGRAD_HYPOTHESIS_SEED=<seed> (or pytest's
--hypothesis-seed) reruns any run exactly.
"""

import hashlib
import os
import random
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, is_hypothesis_test, seed, settings

EXAMPLES = int(os.environ.get("MINIGRAD_HYPOTHESIS_EXAMPLES", "100"))
LONG_EXAMPLES = int(os.environ.get("MINIGRAD_HYPOTHESIS_EXAMPLES", "400"))

_COMMON = {"deadline": None, "database": None, "suppress_health_check": [HealthCheck.too_slow]}
settings.register_profile("ci", max_examples=EXAMPLES, **_COMMON)
settings.register_profile("dev", max_examples=EXAMPLES, **_COMMON)
settings.register_profile("long", max_examples=LONG_EXAMPLES, **_COMMON)
PROFILE = os.environ.get("MINIGRAD_HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev")
settings.load_profile(PROFILE)


def _commit_seed() -> int | None:
    """The first 32 bits of HEAD's commit hash, or None outside a git checkout."""
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent,
                                capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return int(commit[:8], 16)


def _choose_seed() -> tuple[int, str]:
    """(seed, where it came from): the environment, else the commit (ci, long), else random."""
    if os.environ.get("MINIGRAD_HYPOTHESIS_SEED"):
        return int(os.environ["MINIGRAD_HYPOTHESIS_SEED"]), "MINIGRAD_HYPOTHESIS_SEED"
    if PROFILE != "dev":
        seed = _commit_seed()
        if seed is not None:
            return seed, "git commit"
    return random.SystemRandom().randrange(2**32), "random"


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    """Force one hypothesis seed for the run (before hypothesis' own plugin reads it), and one
    PyTorch thread for the comparison tests: tiny ops on a busy 2-core machine are mostly
    thread start-up and contention otherwise."""
    if config.getoption("hypothesis_seed", None) is None:
        seed, source = _choose_seed()
        config.option.hypothesis_seed = str(seed)
        config.stash[_SEED_SOURCE] = source
    try:
        import torch
    except ImportError:
        return
    torch.set_num_threads(1)


_SEED_SOURCE = pytest.StashKey[str]()


def _seed_line(config) -> str:
    source = config.stash.get(_SEED_SOURCE, "--hypothesis-seed")
    seed = config.getoption("hypothesis_seed")
    return (f"hypothesis: profile {PROFILE!r}, {settings.default.max_examples} examples per "
            f"property test, seed {seed} ({source}); rerun exactly with "
            f"MINIGRAD_HYPOTHESIS_SEED={seed}")


def pytest_sessionstart(session):
    """The seed line at the top of the log, even under -q (which hides the header)."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(_seed_line(session.config))


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """And again at the end, next to any failure."""
    if exitstatus != 0:
        terminalreporter.write_line(_seed_line(config))


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_call(item):
    """Seed each property test from the run seed and its node id."""
    test = getattr(item, "obj", None)
    if is_hypothesis_test(test):
        run_seed = item.config.getoption("hypothesis_seed")
        digest = hashlib.sha256(f"{run_seed}:{item.nodeid}".encode()).hexdigest()
        seed(int(digest[:16], 16))(test)
