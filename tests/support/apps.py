"""Synthesize small apps in-process (faster than the CLI), for the construct tests and the
stand-in's scenarios."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import aws_cdk as cdk
from aws_cdk.assertions import Template

from rehearsal.assembly import StackTemplate, read_templates

STACK_NAME = "Scenario"


@dataclass(frozen=True)
class SynthesizedStack:
    """A stack synthesized in-process: the construct, its template, and the assembly folder."""

    stack: cdk.Stack
    template: Template
    assembly_dir: Path


def synth(outdir: Path, declare: Callable[[cdk.Stack], object]) -> StackTemplate:
    """One stack named ``Scenario`` holding what ``declare`` adds, synthesized to ``outdir``."""
    # The CLI turns asset metadata on; the stand-in reads the asset folder from it.
    app = cdk.App(outdir=str(outdir), context={"aws:cdk:enable-asset-metadata": True})
    declare(cdk.Stack(app, STACK_NAME))
    app.synth()
    (stack,) = read_templates(outdir)
    return stack
