"""Sample AWS account IDs for the stand-in's scenarios, the tests and the benchmark.

Standard library only: the benchmark's synth processes import it without the stand-in.
"""

from __future__ import annotations


def sample_accounts(count: int) -> list[str]:
    """``count`` distinct, valid account IDs, the same on every call."""
    return [f"{100000000000 + n * 7919:012d}" for n in range(count)]
