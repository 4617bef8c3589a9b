"""`matcher district ...`: plan a whole district, or write a generated one. Added to the command
line by one call (`add_district_commands`)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from matcher.io import write_text_atomic


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a whole number, not {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"at least 1, not {value}")
    return value


def _time_limit(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"seconds, not {text!r}") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"positive and finite, not {text}")
    return value


def _seed(text: str) -> int:
    from matcher.api import checked_seed

    try:
        return checked_seed(int(text))
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def add_district_commands(commands: Any) -> None:
    """Add `district solve` and `district generate` to the `matcher` command's subparsers."""
    from matcher.solvers.registry import registered_names

    district = commands.add_parser(
        "district", help="plan many communities at once, sharing district helpers"
    )
    actions = district.add_subparsers(dest="district_command", required=True)
    solve = actions.add_parser(
        "solve",
        help="plan every community of a district; plans, problems and a summary in OUTDIR",
    )
    solve.add_argument("district", help="district JSON file (communities inline or by file)")
    solve.add_argument("-o", "--output", required=True, help="folder for the plans (required)")
    solve.add_argument(
        "--workers",
        type=_positive_int,
        default=None,
        help="solves at once (default: the cores; with --ray, the cluster's CPUs)",
    )
    solve.add_argument(
        "--ray",
        action="store_true",
        help="run the solves as Ray tasks (the district extra; default: a local process pool)",
    )
    solve.add_argument(
        "--ray-address",
        dest="ray_address",
        default=None,
        help="a Ray cluster to join, e.g. ray://head:10001 (implies --ray; default: a local "
        "Ray started for this run)",
    )
    solve.add_argument(
        "--solver", choices=registered_names(), default="greedy", help="default greedy"
    )
    solve.add_argument(
        "--time-limit-s",
        dest="time_limit_s",
        type=_time_limit,
        default=None,
        help="seconds per community solve (default: the solver's own)",
    )
    solve.add_argument("--seed", type=_seed, default=0, help="for every community (default 0)")
    solve.add_argument(
        "--quiet",
        action="store_true",
        help="no progress display, only the summary (default: a progress line on a terminal)",
    )
    solve.set_defaults(handler=_command_solve)

    generate = actions.add_parser(
        "generate", help="write a generated district: its file and one file per community"
    )
    generate.add_argument(
        "-o", "--output", required=True, help="the district file to write (required)"
    )
    generate.add_argument(
        "--communities", type=_positive_int, default=4, help="how many (default 4)"
    )
    generate.add_argument(
        "--recipients", type=_positive_int, default=150, help="per community (default 150)"
    )
    generate.add_argument("--seed", type=_seed, default=0, help="default 0")
    generate.set_defaults(handler=_command_generate)


def _command_solve(arguments: argparse.Namespace) -> int:
    """Solve the district; print the summary; exit 1 if the district check fails."""
    from matcher.district.runner import DistrictProgress, solve_district

    use_ray = arguments.ray or arguments.ray_address is not None
    live: Any = None
    update = None
    if not arguments.quiet and sys.stderr.isatty():
        from rich.console import Console
        from rich.live import Live

        console = Console(stderr=True)
        live = Live("district: starting", console=console, transient=True)
        live.start()

        def update(state: DistrictProgress) -> None:
            coverage = state.weighted_coverage_pct
            shown = "-" if coverage is None else f"{coverage:.1f}%"
            live.update(
                f"district round {state.round}: {state.done} done, {state.running} running, "
                f"{state.queued} queued; weighted coverage so far {shown}"
            )

    try:
        result = solve_district(
            arguments.district,
            solver=arguments.solver,
            time_limit_s=arguments.time_limit_s,
            seed=arguments.seed,
            executor="ray" if use_ray else "pool",
            workers=arguments.workers,
            ray_address=arguments.ray_address,
            output_dir=arguments.output,
            progress=update,
        )
    finally:
        if live is not None:
            live.stop()
    print(result.summary.text())
    return 0 if result.check.ok else 1


def _command_generate(arguments: argparse.Namespace) -> int:
    """Write `--communities` generated communities beside the district file that names them."""
    from matcher.district.generate import generate_district
    from matcher.generator import problem_json

    district = generate_district(
        [arguments.recipients] * arguments.communities, seed=arguments.seed
    )
    target = Path(arguments.output)
    folder = target.parent
    folder.mkdir(parents=True, exist_ok=True)
    entries = []
    for community in district.communities:
        assert community.problem is not None
        name = f"{target.stem}-{community.id}.json"
        write_text_atomic(folder / name, problem_json(community.problem))
        entries.append({"id": community.id, "file": name})
    data = district.model_dump(mode="json", exclude_defaults=True)
    data["communities"] = entries
    write_text_atomic(target, json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {target} and {len(entries)} community files beside it")
    return 0


__all__ = ["add_district_commands"]
