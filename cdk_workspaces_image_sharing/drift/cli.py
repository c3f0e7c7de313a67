"""``workspace-image-shares`` (also ``python -m cdk_workspaces_image_sharing``): see and repair
the drift between the shares the stacks declare and what WorkSpaces lists.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Mapping, Sequence
from typing import Any, TextIO

from cdk_workspaces_image_sharing.drift import output
from cdk_workspaces_image_sharing.drift.aws import DriftError, connect, explain
from cdk_workspaces_image_sharing.drift.progress import ProgressLine
from cdk_workspaces_image_sharing.drift.repair import (
    Outcome,
    Plan,
    Result,
    apply,
    left_to_fix,
    make_plan,
)
from cdk_workspaces_image_sharing.drift.report import Report, Row, State, build_report
from cdk_workspaces_image_sharing.drift.shares import list_shares
from cdk_workspaces_image_sharing.drift.stacks import Declared, read_all_stacks, read_stacks
from cdk_workspaces_image_sharing.runtime.sharing_functions.contract import PAIR_RESOURCE_TYPE
from cdk_workspaces_image_sharing.runtime.sharing_functions.image_account_pair import (
    account_id_problem,
)
from cdk_workspaces_image_sharing.version import installed_version

PROG = output.COMMAND
EXIT_OK, EXIT_DRIFT, EXIT_ERROR = 0, 1, 2


def _account_id(value: str) -> str:
    problem = account_id_problem(value)
    if problem:
        raise argparse.ArgumentTypeError(f"{value!r} is not an AWS account ID: expected 12 digits")
    return value


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    scope = common.add_argument_group("which stacks")
    which = scope.add_mutually_exclusive_group(required=True)
    which.add_argument(
        "--stack",
        action="append",
        metavar="NAME",
        dest="stacks",
        help="a stack to read (name or stack ID); repeat for more",
    )
    which.add_argument(
        "--all-stacks",
        action="store_true",
        help=f"every stack of the account and Region that holds a {PAIR_RESOURCE_TYPE}",
    )
    common.add_argument(
        "--ignore-account",
        action="append",
        default=[],
        type=_account_id,
        metavar="ID",
        help="an account shared with on purpose outside any stack: its shares are 'ignored', "
        "not 'unmanaged'; repeat for more",
    )
    common.add_argument("--json", action="store_true", help="print JSON (see docs/drift.md)")
    aws = common.add_argument_group("AWS (default: the standard AWS ways, AWS_ENDPOINT_URL too)")
    aws.add_argument("--profile", help="the named profile to use")
    aws.add_argument("--region", help="the Region of the stacks and images")

    parser = argparse.ArgumentParser(
        prog=PROG,
        description=f"Compare the {PAIR_RESOURCE_TYPE} shares that CloudFormation stacks declare "
        "with what Amazon WorkSpaces lists, and repair the difference.",
        epilog="Exit codes: 0 in sync (report) or repaired (repair); 1 drift left; 2 error.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {installed_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser(
        "report",
        parents=[common],
        help="show each declared or shared pair and its state",
        description="States: ok, missing, unmanaged, ignored, duplicate, not-a-share. "
        "Exits 0 when every row is ok or ignored, 1 otherwise, 2 on an error.",
    )
    repair = commands.add_parser(
        "repair",
        parents=[common],
        help="grant the missing shares (and revoke the unmanaged ones, when asked)",
        description="Grants every missing share. Revokes unmanaged shares only with "
        "--revoke-unmanaged and --all-stacks, after showing them, with --yes or a yes at the "
        "terminal. Exits 0 when nothing it was asked to fix remains, 1 otherwise, 2 on an error.",
    )
    repair.add_argument(
        "--revoke-unmanaged",
        action="store_true",
        help="also revoke shares no stack declares (needs --all-stacks)",
    )
    repair.add_argument("--yes", action="store_true", help="revoke without asking")
    repair.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
    return parser


class _Command:
    """One run: the parsed options, the streams, and the steps both commands share."""

    def __init__(
        self,
        options: argparse.Namespace,
        environment: Mapping[str, str] | None,
        stdin: TextIO,
        stdout: TextIO,
        stderr: TextIO,
    ) -> None:
        self.options = options
        self.stdin, self.stdout, self.stderr = stdin, stdout, stderr
        self.progress = ProgressLine(stderr)
        self.declared = Declared((), ())
        self.clients = connect(options.profile, options.region, environment)

    def read(self) -> Report:
        """Read the stacks and the images they declare, and compare."""
        cloudformation = self.clients.cloudformation
        dynamodb = self.clients.dynamodb
        if self.options.all_stacks:
            self.declared = read_all_stacks(cloudformation, dynamodb, self.progress)
        else:
            self.declared = read_stacks(
                cloudformation, dynamodb, self.options.stacks, self.progress
            )
        images = {r.share.image_id for r in self.declared.resources if r.share is not None}
        listed = list_shares(self.clients.workspaces, images, self.progress)
        self.progress.done()
        return build_report(
            self.declared,
            listed,
            self.options.ignore_account,
            all_stacks=self.options.all_stacks,
            region=self.clients.region,
        )

    def report(self) -> int:
        report = self.read()
        if self.options.json:
            self.print_json(output.report_json(report))
        else:
            self.stdout.write(output.render_table(report))
        return EXIT_OK if report.in_sync else EXIT_DRIFT

    def repair(self) -> int:
        revoke_unmanaged = bool(self.options.revoke_unmanaged)
        report = self.read()
        plan = make_plan(report, revoke_unmanaged=revoke_unmanaged)
        # With --json, stdout holds the JSON document alone; what people read goes to stderr.
        say = self.stderr if self.options.json else self.stdout
        kept = 0 if revoke_unmanaged else len(report.rows_in(State.UNMANAGED))
        say.write(output.render_plan(plan, unmanaged_kept=kept))
        if self.options.dry_run:
            outcomes = [Outcome(a, Result.PLANNED) for a in plan.actions]
            say.write("Dry run: nothing was changed.\n")
            left = left_to_fix(report, revoke_unmanaged=revoke_unmanaged)
            return self.finish(plan, outcomes, report, left)
        revokes = list(plan.revokes)
        skipped: list[Outcome] = []
        if revokes and not self.options.yes and not self.confirm(len(revokes)):
            say.write(output.skipped_revokes(len(revokes)))
            skipped = [Outcome(a, Result.NOT_CONFIRMED) for a in revokes]
            revokes = []
        outcomes = apply(self.clients.workspaces, [*plan.grants, *revokes], self.progress)
        self.progress.done()
        say.write(output.render_outcomes(outcomes))
        images = {row.image_id for row in report.rows if row.image_id is not None}
        after = build_report(
            self.declared,
            list_shares(self.clients.workspaces, images),
            self.options.ignore_account,
            all_stacks=self.options.all_stacks,
            region=self.clients.region,
        )
        left = left_to_fix(after, revoke_unmanaged=revoke_unmanaged)
        return self.finish(plan, [*outcomes, *skipped], after, left)

    def finish(self, plan: Plan, outcomes: list[Outcome], report: Report, left: list[Row]) -> int:
        if self.options.json:
            self.print_json(
                output.repair_json(plan, outcomes, report, dry_run=self.options.dry_run)
            )
        elif not self.options.dry_run:
            self.stdout.write(output.render_left(left))
        return EXIT_DRIFT if left else EXIT_OK

    def confirm(self, count: int) -> bool:
        """An interactive yes, asked on stderr; never asked when stdin is not a terminal."""
        isatty = getattr(self.stdin, "isatty", None)
        if not (isatty and isatty()):
            return False
        self.stdout.flush()
        plural = "s" if count != 1 else ""
        self.stderr.write(f"Revoke the {count} unmanaged share{plural} above? [y/N] ")
        self.stderr.flush()
        return self.stdin.readline().strip().lower() in ("y", "yes")

    def print_json(self, document: dict[str, Any]) -> None:
        self.stdout.write(json.dumps(document, indent=2) + "\n")


def main(
    argv: Sequence[str] | None = None,
    *,
    environment: Mapping[str, str] | None = None,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Run the command and return its exit code (never raises SystemExit).

    ``main(["report", "--stack", "MyStack"])`` from Python; ``environment`` overrides the
    process environment's AWS settings without changing it (see ``aws.connect``).
    """
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    parser = build_parser()
    try:
        # argparse prints --help and usage errors on sys.stdout and sys.stderr.
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            options = parser.parse_args(argv)
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else EXIT_ERROR
    if getattr(options, "revoke_unmanaged", False) and not options.all_stacks:
        stderr.write(
            f"{PROG}: error: --revoke-unmanaged needs --all-stacks: a narrower scope cannot "
            "know what other stacks declare\n"
        )
        return EXIT_ERROR
    command: _Command | None = None
    try:
        command = _Command(options, environment, stdin, stdout, stderr)
        return command.report() if options.command == "report" else command.repair()
    except KeyboardInterrupt:
        stderr.write(f"\n{PROG}: interrupted\n")
        return 130
    except Exception as error:
        explained = explain(error)
        if not isinstance(explained, DriftError):
            raise
        if command is not None:
            command.progress.done()
        stderr.write(f"{PROG}: error: {explained}\n")
        return EXIT_ERROR
