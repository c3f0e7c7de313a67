"""Synthesize small apps in-process for the stand-in's scenarios (faster than the CLI)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import aws_cdk as cdk

from rehearsal.assembly import StackTemplate, read_stacks

STACK_NAME = "Scenario"


def synth(outdir: Path, declare: Callable[[cdk.Stack], object]) -> StackTemplate:
    """One stack named ``Scenario`` holding what ``declare`` adds, synthesized to ``outdir``."""
    # The CLI turns asset metadata on; the stand-in reads the asset folder from it.
    app = cdk.App(outdir=str(outdir), context={"aws:cdk:enable-asset-metadata": True})
    declare(cdk.Stack(app, STACK_NAME))
    app.synth()
    (stack,) = read_stacks(outdir)
    return stack
