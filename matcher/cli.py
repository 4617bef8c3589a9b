"""The `matcher` command line: solve, check, replan, validate, schema, example, explain,
what-if, score, credits and next-week.

Exit codes: 0 success; 1 the checked plan breaks a hard rule; 2 invalid input or usage, with
the field or option named (nothing is written then); 3 an internal error (a bug in matcher),
reported in one line asking to report it; `matcher --debug ...` prints its traceback too.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from importlib import resources
from pathlib import Path
from types import FrameType
from typing import TypeVar

from pydantic import TypeAdapter, ValidationError

from matcher.api import SEED_MAX, solve
from matcher.checker import check_plan
from matcher.continuity import DEFAULT_HISTORY_WEEKS, uncovered_two_weeks
from matcher.desk.commands import add_desk_commands
from matcher.desk.progress import progress_line
from matcher.district.commands import add_district_commands
from matcher.explain import (
    Explanation,
    WhatIf,
    explain_unassigned,
    render_explanations,
    score_plan,
    what_if,
)
from matcher.explain.seat_whatif import SeatSuggestion, seat_suggestions
from matcher.explain.seats import SeatExplanation, explain_unseated, render_seat_explanations
from matcher.generator import (
    COMMUNITY_OPTIONS,
    add_community_options,
    community_from_options,
    describe,
    problem_json,
    write_problem,
)
from matcher.io import (
    InputError,
    load_parameters,
    load_plan,
    load_problem,
    output_path_problems,
    to_json,
    write_text_atomic,
)
from matcher.ledger import CreditRates, LedgerStore
from matcher.messages import message
from matcher.models import Plan, Problem, format_validation_error
from matcher.replan import ChangeList, load_changes, replan
from matcher.season import next_week_problem, plan_keeping_previous, raised_priorities
from matcher.service.cli import add_serve_command
from matcher.solvers.base import (
    DEFAULT_MAX_MEMORY_MIB,
    checked_memory_budget,
    checked_time_limit,
)
from matcher.solvers.registry import default_time_limit_s, registered_names

T = TypeVar("T")

EXIT_OK = 0
EXIT_VIOLATIONS = 1
EXIT_INVALID = 2
EXIT_INTERNAL = 3
EXIT_INTERRUPTED = 130


EXAMPLE_FOLDER = "bundled_examples"


def _examples_folder() -> Path:
    """Bundled examples: inside the installed package, else the repository's `examples/`."""
    packaged = Path(str(resources.files("matcher"))) / EXAMPLE_FOLDER
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "examples"


def example_names() -> list[str]:
    """Names of the bundled example problems."""
    folder = _examples_folder()
    return sorted(path.stem for path in folder.glob("*.json")) if folder.is_dir() else []


def _print_error(message: str) -> None:
    print(f"matcher: {message}", file=sys.stderr)


def _checked_number(text: str, unit: str, check: Callable[[float], float | None]) -> float:
    """A positive, finite number of `unit` from the command line, checked by the same function
    `matcher.solve` checks it with (`check`), or an argparse error that says what is wrong."""
    try:
        number = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of {unit}: {text!r}") from None
    try:
        value = check(number)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    assert value is not None
    return value


def _time_limit_s(text: str) -> float:
    """`--time-limit-s`: seconds, positive and finite."""
    return _checked_number(text, "seconds", checked_time_limit)


def _memory_mib(text: str) -> float:
    """`--max-memory-mib`: MiB, positive and finite."""
    return _checked_number(text, "MiB", checked_memory_budget)


def _seed(text: str) -> int:
    """`--seed`: a whole number from 0 to 2**31-1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if not 0 <= value <= SEED_MAX:
        raise argparse.ArgumentTypeError(
            f"{text if len(text) <= 40 else text[:40] + '...'} is out of range: "
            f"a seed is a whole number from 0 to {SEED_MAX}"
        )
    return value


def _check_outputs(outputs: Sequence[tuple[str, str | None]], inputs: Sequence[str | None]) -> None:
    """Raise InputError, before any work, if an output cannot be written or is an input."""
    problems = output_path_problems(outputs, inputs)
    if problems:
        raise InputError("\n".join(problems))


def solver_choices_help() -> str:
    """What `--solver` takes, with each solver's default time limit (its parameters type's
    `default_time_limit_s`), read from the registry when the help is shown."""
    described = []
    for name in registered_names():
        limit = default_time_limit_s(name)
        described.append(
            f"{name} ({limit:g} s)" if limit is not None else f"{name} (none of its own)"
        )
    return (
        "the solver (default greedy); default time limits: "
        + ", ".join(described)
        + "; auto takes that of the solver it picks"
    )


class _SolveHelpFormatter(argparse.HelpFormatter):
    """Help whose `--solver` line is written when shown, so that parsing a command never loads
    the solvers just to describe them."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.dest == "solver":
            return solver_choices_help().replace("%", "%%")
        return super()._get_help_string(action)


def _loaded(problems: list[str], load: Callable[[], T]) -> T | None:
    """What `load` returns, or None with its InputError added to `problems`."""
    try:
        return load()
    except InputError as error:
        problems.append(str(error))
        return None


def _command_solve(arguments: argparse.Namespace) -> int:
    """Plan the week; every problem with the input and output files is listed before any work.
    The time limit counts from here: reading and validating the input is part of it."""
    began = time.perf_counter()
    problems = output_path_problems(
        [("-o", arguments.output)],
        [arguments.problem, arguments.config, arguments.ledger, arguments.previous_plan],
    )
    config, ledger, previous = arguments.config, arguments.ledger, arguments.previous_plan
    parameters = (
        _loaded(problems, lambda: load_parameters(config, arguments.solver)) if config else None
    )
    loaded_problem = _loaded(problems, lambda: load_problem(arguments.problem))
    credits = None
    if ledger is not None:
        if Path(ledger).is_file():
            credits = _loaded(problems, lambda: LedgerStore(ledger).load())
        else:
            problems.append(f"{ledger}: no such ledger file")
    previous_plan = _loaded(problems, lambda: load_plan(previous)) if previous else None
    if arguments.keep_previous and not previous:
        problems.append("--keep-previous needs --previous-plan (last week's plan)")
    if arguments.keep_previous and config:
        problems.append("--keep-previous plans with the solver's defaults; drop --config")
    if problems or loaded_problem is None:
        raise InputError("\n".join(problems))
    problem = loaded_problem if credits is None else credits.apply_credits(loaded_problem)
    if arguments.keep_previous and previous_plan is not None:
        plan = plan_keeping_previous(
            problem,
            previous_plan,
            solver=arguments.solver,
            time_limit_s=arguments.time_limit_s,
            seed=arguments.seed,
            language=arguments.language,
        )
    else:
        line = progress_line(arguments.quiet)
        with line if line is not None else contextlib.nullcontext():
            plan = solve(
                problem,
                solver=arguments.solver,
                time_limit_s=arguments.time_limit_s,
                seed=arguments.seed,
                language=arguments.language,
                parameters=parameters,
                started_at=began,
                max_memory_mib=arguments.max_memory_mib,
                progress=line,
            )
    if previous_plan is not None:
        plan = plan.model_copy(
            update={"uncovered_two_weeks": uncovered_two_weeks(previous_plan, plan, problem)}
        )
    write_text_atomic(arguments.output, to_json(plan))
    print(plan.summary())
    chosen = plan.solver.statistics.get("auto")
    if isinstance(chosen, dict) and "chosen" in chosen:
        print(f"auto chose {chosen['chosen']}: {chosen.get('reason', '')}")
        if "found_by" in chosen:
            print(
                f"auto: the plan was found by {chosen['found_by']} (cpsat warm-started from ruin)"
            )
    for warning in plan.warnings:
        print(f"warning: {warning}")
    print(f"plan written to {arguments.output}")
    return EXIT_OK


def _load_checked(arguments: argparse.Namespace, refusal: str) -> tuple[Problem, Plan] | None:
    """The problem and plan the arguments name, or None (report and `refusal` printed) when the
    plan breaks a hard rule."""
    problem = load_problem(arguments.problem)
    plan = load_plan(arguments.plan)
    report = check_plan(problem, plan)
    if report.ok:
        return problem, plan
    print(report.summary())
    _print_error(f"the plan breaks hard rules; {refusal}")
    return None


def _command_next_week(arguments: argparse.Namespace) -> int:
    """Write next week's problem: history rolled on, at-risk recipients raised."""
    _check_outputs(
        [("-o", arguments.output)], [arguments.problem, arguments.plan, arguments.upcoming]
    )
    loaded = _load_checked(arguments, "next week's history would be wrong")
    if loaded is None:
        return EXIT_VIOLATIONS
    problem, plan = loaded
    upcoming = load_problem(arguments.upcoming) if arguments.upcoming else None
    following = next_week_problem(problem, plan, upcoming, keep_weeks=arguments.keep_weeks)
    write_text_atomic(arguments.output, to_json(following))
    raised = raised_priorities(problem, plan, upcoming if upcoming is not None else problem)
    print(
        f"next week starts {following.week_start.isoformat()}: {len(following.history)} "
        f"history entries, {len(raised)} high-priority recipient(s) raised "
        f"({', '.join(sorted(raised)) or 'none'})"
    )
    print(f"problem written to {arguments.output}")
    return EXIT_OK


def _command_credits_record(arguments: argparse.Namespace) -> int:
    """Credit a checked plan's visits to the ledger file; a plan that breaks a rule earns none."""
    _check_outputs([("--ledger", arguments.ledger)], [arguments.problem, arguments.plan])
    loaded = _load_checked(arguments, "no credits recorded")
    if loaded is None:
        return EXIT_VIOLATIONS
    problem, plan = loaded
    added = LedgerStore(arguments.ledger).record_plan(plan, problem, CreditRates())
    total = sum(entry.credits for entry in added)
    print(
        f"{len(added)} visit credit(s) recorded, {total:.2f} credits, in {arguments.ledger}"
        if added
        else f"nothing new: this plan's visits are already in {arguments.ledger}"
    )
    return EXIT_OK


def _command_credits_show(arguments: argparse.Namespace) -> int:
    """Print each person's credits earned, redeemed and balance."""
    if not Path(arguments.ledger).is_file():
        raise InputError(f"{arguments.ledger}: no such ledger file")
    ledger = LedgerStore(arguments.ledger).load()
    people = sorted({entry.person for entry in ledger.entries})
    rows = [
        {
            "person": person,
            "earned": round(ledger.earned(person), 2),
            "redeemed": round(ledger.redeemed(person), 2),
            "balance": round(ledger.balance(person), 2),
        }
        for person in people
    ]
    if arguments.json:
        print(json.dumps(rows, indent=2, ensure_ascii=False))
        return EXIT_OK
    print(f"{'person':<20} {'earned':>10} {'redeemed':>10} {'balance':>10}")
    for row in rows:
        print(
            f"{row['person']:<20} {row['earned']:>10.2f} {row['redeemed']:>10.2f} "
            f"{row['balance']:>10.2f}"
        )
    return EXIT_OK


def _command_check(arguments: argparse.Namespace) -> int:
    problem = load_problem(arguments.problem)
    plan = load_plan(arguments.plan)
    report = check_plan(problem, plan)
    if arguments.json:
        print(report.model_dump_json(indent=2))
    else:
        print(report.summary())
    return EXIT_OK if report.ok else EXIT_VIOLATIONS


def _command_replan(arguments: argparse.Namespace) -> int:
    """Re-plan after changes; every input problem is listed and nothing is written if any."""
    problems: list[str] = []
    problem: Problem | None = None
    plan: Plan | None = None
    changes: ChangeList | None = None
    try:
        problem = load_problem(arguments.problem)
    except InputError as error:
        problems.append(str(error))
    try:
        plan = load_plan(arguments.plan)
    except InputError as error:
        problems.append(str(error))
    try:
        changes = load_changes(arguments.changes)
    except InputError as error:
        problems.append(str(error))
    problems += output_path_problems(
        [
            ("-o", arguments.output),
            ("--diff", arguments.diff),
            ("--problem-out", arguments.problem_out),
        ],
        [arguments.problem, arguments.plan, arguments.changes],
    )
    if problems or problem is None or plan is None or changes is None:
        raise InputError("\n".join(problems))
    try:
        result = replan(
            problem,
            plan,
            changes,
            solver=arguments.solver,
            time_limit_s=arguments.time_limit_s,
            seed=arguments.seed,
        )
    except ValidationError as error:
        raise InputError(format_validation_error(error)) from None
    write_text_atomic(arguments.output, to_json(result.plan))
    if arguments.diff:
        write_text_atomic(arguments.diff, to_json(result.diff))
    if arguments.problem_out:
        write_text_atomic(arguments.problem_out, to_json(result.problem))
    print(result.diff.summary())
    print(result.plan.summary())
    print(f"plan written to {arguments.output}")
    return EXIT_OK


def _command_explain(arguments: argparse.Namespace) -> int:
    problem = load_problem(arguments.problem)
    plan = load_plan(arguments.plan)
    if arguments.seats:
        seats = explain_unseated(problem, plan, language=arguments.language)
        if arguments.json:
            adapter = TypeAdapter(list[SeatExplanation])
            sys.stdout.write(adapter.dump_json(seats, indent=2).decode() + "\n")
        else:
            print(render_seat_explanations(seats))
        return EXIT_OK
    items = explain_unassigned(problem, plan, language=arguments.language)
    if arguments.json:
        sys.stdout.write(TypeAdapter(list[Explanation]).dump_json(items, indent=2).decode() + "\n")
    else:
        print(render_explanations(items, verdicts=arguments.volunteers))
        if plan.unseated:
            print("unseated wishes:")
            print(
                render_seat_explanations(
                    explain_unseated(problem, plan, language=arguments.language)
                )
            )
    return EXIT_OK


def _command_what_if(arguments: argparse.Namespace) -> int:
    problem = load_problem(arguments.problem)
    plan = load_plan(arguments.plan)
    if arguments.seats:
        suggestions = seat_suggestions(
            problem, plan, limit=arguments.limit, language=arguments.language
        )
        if arguments.json:
            adapter = TypeAdapter(list[SeatSuggestion])
            sys.stdout.write(adapter.dump_json(suggestions, indent=2).decode() + "\n")
        else:
            for suggestion in suggestions:
                print(suggestion.message)
            if not suggestions:
                print(message("seat.no_suggestion", arguments.language or problem.policy.language))
        return EXIT_OK
    items = what_if(
        problem,
        plan,
        solver=arguments.solver,
        limit=arguments.limit,
        time_limit_s=arguments.time_limit_s,
        seed=arguments.seed,
        language=arguments.language,
        total_time_limit_s=arguments.total_time_limit_s,
    )
    if arguments.json:
        sys.stdout.write(TypeAdapter(list[WhatIf]).dump_json(items, indent=2).decode() + "\n")
    else:
        for item in items:
            print(item.summary())
    return EXIT_OK


def _command_score(arguments: argparse.Namespace) -> int:
    problem = load_problem(arguments.problem)
    plan = load_plan(arguments.plan)
    reference = load_plan(arguments.reference) if arguments.reference else None
    score = score_plan(
        problem,
        plan,
        reference,
        solver=arguments.solver,
        time_limit_s=arguments.time_limit_s,
        seed=arguments.seed,
        language=arguments.language,
    )
    print(score.model_dump_json(indent=2) if arguments.json else score.summary())
    return EXIT_OK if score.ok else EXIT_VIOLATIONS


def _command_validate(arguments: argparse.Namespace) -> int:
    problem = load_problem(arguments.problem)
    print(
        f"{arguments.problem}: valid: {len(problem.recipients)} recipients, "
        f"{len(problem.need_by_id)} needs, {len(problem.volunteers)} volunteers"
    )
    for warning in problem.warnings():
        print(f"warning: {warning}")
    return EXIT_OK


def _command_schema(arguments: argparse.Namespace) -> int:
    _check_outputs([("-o", arguments.output)], [])
    models: dict[str, type[Problem] | type[Plan] | type[ChangeList]] = {
        "problem": Problem,
        "plan": Plan,
        "changes": ChangeList,
    }
    if arguments.kind == "openapi":
        from matcher.service.cli import openapi_schema

        schema = openapi_schema()
    else:
        schema = models[arguments.kind].model_json_schema(
            mode="serialization" if arguments.kind == "plan" else "validation"
        )
    text = json.dumps(schema, indent=2) + "\n"
    if arguments.output:
        write_text_atomic(arguments.output, text)
    else:
        sys.stdout.write(text)
    return EXIT_OK


def _command_example(arguments: argparse.Namespace) -> int:
    _check_outputs([("-o", arguments.output)], [])
    names = example_names()
    generating = [option for option in COMMUNITY_OPTIONS if hasattr(arguments, option)]
    if generating:
        return _generate_example(arguments, generating)
    if arguments.list or arguments.example is None:
        print("\n".join(names))
        return EXIT_OK
    if arguments.example not in names:
        _print_error(f"no example named {arguments.example!r}; choose one of: {', '.join(names)}")
        return EXIT_INVALID
    text = (_examples_folder() / f"{arguments.example}.json").read_text(encoding="utf-8")
    if arguments.output:
        write_text_atomic(arguments.output, text)
        print(f"example {arguments.example!r} written to {arguments.output}")
    else:
        sys.stdout.write(text)
    return EXIT_OK


def _generate_example(arguments: argparse.Namespace, options: list[str]) -> int:
    """`matcher example community --recipients ...`: a generated demo week of that size."""
    if arguments.example != "community":
        given = ", ".join(f"--{option.replace('_', '-')}" for option in options)
        raise InputError(
            f"{given}: the generator's options make a community week; "
            "write `matcher example community` with them"
        )
    problem = community_from_options(arguments)
    if arguments.output:
        write_problem(problem, arguments.output)
        print(f"a generated community ({describe(problem)}) written to {arguments.output}")
    else:
        sys.stdout.write(problem_json(problem))
    return EXIT_OK


SEED_HELP = f"breaks ties; a whole number from 0 to {SEED_MAX} (default 0)"
LANGUAGE_HELP = "language of the sentences: en or zh (default: the problem's policy.language)"
TIME_LIMIT_HELP = "seconds for each solve, positive and finite (default: the solver's own)"
SOLVER_HELP = "the solver (default greedy)"
JSON_HELP = "print JSON (default: text)"
DEBUG_HELP = "on an internal error, print its traceback too"


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the `matcher` command."""
    parser = argparse.ArgumentParser(
        prog="matcher",
        description="Plan a community's week of volunteer care visits.",
        epilog="Exit codes: 0 success; 1 the plan breaks a hard rule; 2 invalid input or usage; "
        "3 an internal error (please report it; --debug shows its traceback).",
    )
    parser.add_argument("--debug", action="store_true", help=DEBUG_HELP)
    commands = parser.add_subparsers(dest="command", required=True)

    solvers = registered_names()
    solve_parser = commands.add_parser(
        "solve",
        help="plan a week and write the plan as JSON",
        formatter_class=_SolveHelpFormatter,
    )
    solve_parser.add_argument(
        "problem", help="problem JSON file, or a roster workbook (.xlsx) or folder of CSV files"
    )
    solve_parser.add_argument(
        "-o", "--output", required=True, help="where to write the plan (required)"
    )
    solve_parser.add_argument(
        "--solver", choices=solvers, default="greedy", help="written when shown"
    )
    solve_parser.add_argument(
        "--time-limit-s",
        type=_time_limit_s,
        default=None,
        dest="time_limit_s",
        help="seconds for the whole solve, positive and finite (default: the solver's own)",
    )
    solve_parser.add_argument(
        "--max-memory-mib",
        type=_memory_mib,
        default=None,
        dest="max_memory_mib",
        help="memory budget of the cpsat and routing models in MiB; a model estimated "
        "over it is shrunk or not built and the greedy plan comes back "
        f"(default: {DEFAULT_MAX_MEMORY_MIB:.0f})",
    )
    solve_parser.add_argument(
        "--config",
        help="TOML file of solver parameters: a table per solver, e.g. [lns] with "
        "iterations = 200 (unknown keys are errors; default: the solver's defaults)",
    )
    solve_parser.add_argument("--seed", type=_seed, default=0, help=SEED_HELP)
    solve_parser.add_argument(
        "--ledger",
        help="time-bank ledger JSON: recipients in it get their credits' priority boost "
        "(default: none)",
    )
    solve_parser.add_argument(
        "--language",
        choices=("en", "zh"),
        default=None,
        help="language of the unplanned visits' sentences (default: the problem's policy)",
    )
    solve_parser.add_argument(
        "--previous-plan",
        dest="previous_plan",
        help="last week's plan: report high-priority recipients left out two weeks running "
        "(default: none)",
    )
    solve_parser.add_argument(
        "--keep-previous",
        dest="keep_previous",
        action="store_true",
        help="keep last week's visits that still keep every rule, unless a fresh plan is "
        "clearly better for high-priority need (needs --previous-plan; default: off)",
    )
    solve_parser.add_argument(
        "--quiet",
        action="store_true",
        help="no live progress line, only the summary (default: a progress line on a "
        "terminal for solves over a second)",
    )
    solve_parser.set_defaults(handler=_command_solve)

    next_week_parser = commands.add_parser(
        "next-week",
        help="next week's problem from this week's: history rolled on, at-risk recipients raised",
    )
    next_week_parser.add_argument("problem", help="this week's problem JSON file")
    next_week_parser.add_argument("plan", help="this week's plan JSON file")
    next_week_parser.add_argument(
        "-o", "--output", required=True, help="next week's problem (required)"
    )
    next_week_parser.add_argument(
        "--upcoming",
        help="next week as the coordinators describe it (default: this week, a week later)",
    )
    next_week_parser.add_argument(
        "--keep-weeks",
        dest="keep_weeks",
        type=int,
        default=DEFAULT_HISTORY_WEEKS,
        help=f"weeks of history to keep (default {DEFAULT_HISTORY_WEEKS})",
    )
    next_week_parser.set_defaults(handler=_command_next_week)

    credits_parser = commands.add_parser(
        "credits", help="the time-bank ledger: record a week's plan, show balances"
    )
    credits_commands = credits_parser.add_subparsers(dest="credits_command", required=True)
    record_parser = credits_commands.add_parser(
        "record", help="credit a checked plan's visits to the volunteers (one credit an hour)"
    )
    record_parser.add_argument("problem", help="problem JSON file")
    record_parser.add_argument("plan", help="the week's plan JSON file")
    record_parser.add_argument(
        "--ledger", required=True, help="ledger JSON file (required; created if missing)"
    )
    record_parser.set_defaults(handler=_command_credits_record)
    show_parser = credits_commands.add_parser("show", help="credits earned, redeemed, balance")
    show_parser.add_argument("--ledger", required=True, help="ledger JSON file (required)")
    show_parser.add_argument("--json", action="store_true", help=JSON_HELP)
    show_parser.set_defaults(handler=_command_credits_show)

    check_parser = commands.add_parser(
        "check", help="verify a plan against every hard rule; exit 1 if it breaks any"
    )
    check_parser.add_argument("problem", help="problem JSON file")
    check_parser.add_argument("plan", help="plan JSON file (from a solver or made by hand)")
    check_parser.add_argument(
        "--json", action="store_true", help="print the report as JSON (default: text)"
    )
    check_parser.set_defaults(handler=_command_check)

    replan_parser = commands.add_parser(
        "replan", help="re-plan after changes, keeping what still works; print what changed"
    )
    replan_parser.add_argument("problem", help="problem JSON file")
    replan_parser.add_argument("plan", help="the current plan of that problem")
    replan_parser.add_argument("changes", help='changes JSON file: {"changes": [...]}')
    replan_parser.add_argument(
        "-o", "--output", required=True, help="where to write the plan (required)"
    )
    replan_parser.add_argument(
        "--diff", help="where to write what changed and why, as JSON (default: not written)"
    )
    replan_parser.add_argument(
        "--problem-out",
        dest="problem_out",
        help="where to write the changed problem (default: not written)",
    )
    replan_parser.add_argument("--solver", choices=solvers, default="greedy", help=SOLVER_HELP)
    replan_parser.add_argument(
        "--time-limit-s",
        type=_time_limit_s,
        default=None,
        dest="time_limit_s",
        help=TIME_LIMIT_HELP,
    )
    replan_parser.add_argument("--seed", type=_seed, default=0, help=SEED_HELP)
    replan_parser.set_defaults(handler=_command_replan)

    validate_parser = commands.add_parser("validate", help="validate a problem file")
    validate_parser.add_argument("problem", help="problem JSON file")
    validate_parser.set_defaults(handler=_command_validate)

    schema_parser = commands.add_parser(
        "schema",
        help="write the JSON Schema of a problem, plan or changes, or the OpenAPI "
        "document of the service (openapi)",
    )
    schema_parser.add_argument(
        "kind",
        choices=("problem", "plan", "changes", "openapi"),
        nargs="?",
        default="problem",
        help="which schema (default problem); openapi: the service's OpenAPI document",
    )
    schema_parser.add_argument("-o", "--output", help="file to write (default: standard output)")
    schema_parser.set_defaults(handler=_command_schema)

    example_parser = commands.add_parser(
        "example",
        help="write a bundled example problem, or a generated community week of any size",
        description="Write a bundled example (`matcher example community -o week.json`), or, "
        "with any of the generator's options, a generated Quanrui-like community week "
        "(`matcher example community --recipients 600 --volunteers 120 --seed 3 -o week.json`).",
    )
    example_parser.add_argument(
        "example", nargs="?", metavar="name", help="example name (see --list)"
    )
    example_parser.add_argument("-o", "--output", help="file to write (default: standard output)")
    example_parser.add_argument(
        "--list", action="store_true", help="list the bundled examples (default: off)"
    )
    add_community_options(example_parser, omit_defaults=True)
    example_parser.set_defaults(handler=_command_example)

    explain_parser = commands.add_parser(
        "explain",
        help="why each unplanned visit is unplanned: one line each (--volunteers: every "
        "volunteer's verdict too)",
    )
    explain_parser.add_argument("problem", help="problem JSON file")
    explain_parser.add_argument("plan", help="plan JSON file")
    explain_parser.add_argument(
        "--seats",
        action="store_true",
        help="explain the unseated wishes of group sessions instead of the unplanned visits "
        "(default: the unplanned visits, then any unseated wishes)",
    )
    explain_parser.add_argument(
        "--language", choices=("en", "zh"), default=None, help=LANGUAGE_HELP
    )
    explain_parser.add_argument(
        "--volunteers",
        "--detail",
        action="store_true",
        help="also each volunteer's verdict, the rule that rules them out (default: one line "
        "per unplanned visit)",
    )
    explain_parser.add_argument(
        "--brief", action="store_true", help="one line per unplanned visit (the default)"
    )
    explain_parser.add_argument(
        "--json", action="store_true", help="print JSON, every verdict included (default: text)"
    )
    explain_parser.set_defaults(handler=_command_explain)

    what_if_parser = commands.add_parser(
        "what-if", help="which single change would plan the most high-priority visits left out"
    )
    what_if_parser.add_argument("problem", help="problem JSON file")
    what_if_parser.add_argument("plan", help="plan JSON file")
    what_if_parser.add_argument("--solver", choices=solvers, default="greedy", help=SOLVER_HELP)
    what_if_parser.add_argument(
        "--limit", type=int, default=12, help="how many changes to try (default 12)"
    )
    what_if_parser.add_argument(
        "--time-limit-s",
        type=_time_limit_s,
        default=None,
        dest="time_limit_s",
        help=TIME_LIMIT_HELP,
    )
    what_if_parser.add_argument(
        "--total-time-limit-s",
        type=_time_limit_s,
        default=None,
        dest="total_time_limit_s",
        help="seconds for all the re-solves together, shared evenly by the unchanged week and "
        "each change (default: no total; each re-solve takes --time-limit-s)",
    )
    what_if_parser.add_argument("--seed", type=_seed, default=0, help=SEED_HELP)
    what_if_parser.add_argument(
        "--language", choices=("en", "zh"), default=None, help=LANGUAGE_HELP
    )
    what_if_parser.add_argument(
        "--seats",
        action="store_true",
        help="propose another session (venue, day, time, lead) for unseated wishes instead "
        "(default: changes for unplanned visits)",
    )
    what_if_parser.add_argument("--json", action="store_true", help=JSON_HELP)
    what_if_parser.set_defaults(handler=_command_what_if)

    score_parser = commands.add_parser(
        "score", help="check a coordinator's plan and score it beside the optimizer's"
    )
    score_parser.add_argument("problem", help="problem JSON file")
    score_parser.add_argument("plan", help="the coordinator's plan JSON file")
    score_parser.add_argument(
        "--reference", help="plan to compare with (default: a fresh solve with --solver)"
    )
    score_parser.add_argument("--solver", choices=solvers, default="greedy", help=SOLVER_HELP)
    score_parser.add_argument(
        "--time-limit-s",
        type=_time_limit_s,
        default=None,
        dest="time_limit_s",
        help=TIME_LIMIT_HELP,
    )
    score_parser.add_argument("--seed", type=_seed, default=0, help=SEED_HELP)
    score_parser.add_argument("--language", choices=("en", "zh"), default=None, help=LANGUAGE_HELP)
    score_parser.add_argument("--json", action="store_true", help=JSON_HELP)
    score_parser.set_defaults(handler=_command_score)
    add_desk_commands(commands)
    add_serve_command(commands)
    add_district_commands(commands)
    _add_debug_to_commands(parser)
    return parser


def _add_debug_to_commands(parser: argparse.ArgumentParser) -> None:
    """`--debug` after the command too (`matcher solve ... --debug`), without overriding the
    global one when absent."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for command in action.choices.values():
                command.add_argument(
                    "--debug", action="store_true", default=argparse.SUPPRESS, help=DEBUG_HELP
                )
                _add_debug_to_commands(command)


def _terminated(signal_number: int, frame: FrameType | None) -> None:
    """SIGTERM ends the run as an exception, so that temporary files are removed on the way."""
    raise SystemExit(128 + signal_number)


def _report_internal_error(error: BaseException, debug: bool) -> int:
    """One line asking to report the bug; the traceback too with `--debug`."""
    if debug:
        traceback.print_exception(error, file=sys.stderr)
    detail = f"{type(error).__name__}: {error}".splitlines()[0][:300]
    hint = "" if debug else "; run again with --debug for the traceback"
    _print_error(
        f"internal error ({detail}); this is a bug in matcher, please report it to its "
        f"maintainers with the command and its input files{hint}"
    )
    return EXIT_INTERNAL


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (0, 1, 2 or 3: see the module's docstring).
    Usage errors leave through argparse's SystemExit(2)."""
    given = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in given
    previous_handler = None
    try:
        previous_handler = signal.signal(signal.SIGTERM, _terminated)
    except ValueError:
        previous_handler = None
    try:
        arguments = build_parser().parse_args(given)
        debug = bool(getattr(arguments, "debug", debug))
        code: int = arguments.handler(arguments)
    except InputError as error:
        _print_error(str(error))
        return EXIT_INVALID
    except ValueError as error:
        _print_error(str(error))
        return EXIT_INVALID
    except OSError as error:
        target = error.filename or "the output"
        _print_error(f"cannot write {target}: {error.strerror or error}")
        return EXIT_INVALID
    except KeyboardInterrupt:
        _print_error("interrupted; nothing was written")
        return EXIT_INTERRUPTED
    except Exception as error:
        return _report_internal_error(error, debug)
    finally:
        if previous_handler is not None:
            signal.signal(signal.SIGTERM, previous_handler)
    return code


if __name__ == "__main__":
    sys.exit(main())
