"""The desk's commands: `matcher template`, `matcher import` and `matcher export`, added to the
command line by one call (`add_desk_commands`)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from matcher.desk.files import write_folder
from matcher.io import (
    InputError,
    load_plan,
    load_problem,
    output_path_problems,
    to_json,
    write_text_atomic,
)


def _command_template(arguments: argparse.Namespace) -> int:
    from matcher.desk.template import write_template

    problems = output_path_problems([("roster", arguments.roster)], [arguments.source])
    problem = None
    if arguments.source is not None:
        try:
            problem = load_problem(arguments.source)
        except InputError as error:
            problems.append(str(error))
    if problems:
        raise InputError("\n".join(problems))
    write_template(arguments.roster, arguments.language, problem)
    if problem is not None:
        from matcher.desk.fill import problem_rows

        for item in problem_rows(problem)[1]:
            print(f"notice: the workbook cannot hold {item}; keep {arguments.source} for it")
        print(f"roster of {arguments.source} ({arguments.language}) written to {arguments.roster}")
        return 0
    print(
        f"roster template ({arguments.language}) written to {arguments.roster}: fill in the "
        "sheets (row 2 explains each column, row 3 is a worked example to replace), then "
        f"`matcher import {arguments.roster} -o problem.json` or `matcher solve "
        f"{arguments.roster} -o plan.json`"
    )
    return 0


def _command_import(arguments: argparse.Namespace) -> int:
    from matcher.desk.roster import load_roster

    problems = output_path_problems([("-o", arguments.output)], [arguments.roster])
    if problems:
        raise InputError("\n".join(problems))
    problem = load_roster(arguments.roster)
    write_text_atomic(arguments.output, to_json(problem))
    print(
        f"{arguments.roster}: {len(problem.services)} services, {len(problem.recipients)} "
        f"recipients, {len(problem.need_by_id)} needs, {len(problem.volunteers)} volunteers"
    )
    for warning in problem.warnings():
        print(f"warning: {warning}")
    print(f"problem written to {arguments.output}")
    return 0


def _folder_problems(option: str, folder: str | None, inputs: list[str]) -> list[str]:
    if folder is None:
        return []
    path = Path(folder)
    if path.exists() and not path.is_dir():
        return [f"{option} {folder}: that is a file, not a folder"]
    parent = path.resolve().parent
    if not path.exists() and not parent.is_dir():
        return [f"{option} {folder}: the folder {parent} does not exist"]
    return []


def _command_export(arguments: argparse.Namespace) -> int:
    from matcher.checker import check_plan
    from matcher.desk.export import export_files
    from matcher.desk.files import write_bytes_atomic
    from matcher.desk.pictures import cjk_font

    inputs = [arguments.problem, arguments.plan]
    problems = output_path_problems([("--xlsx", arguments.xlsx)], inputs)
    for option in ("ics", "html", "pictures"):
        problems += _folder_problems(f"--{option}", getattr(arguments, option), inputs)
    if not any((arguments.xlsx, arguments.ics, arguments.html, arguments.pictures)):
        problems.append(
            "nothing to export: give --xlsx FILE, --ics DIR, --html DIR or --pictures DIR"
        )
    loaded: list[Any] = []
    for load, path in ((load_problem, arguments.problem), (load_plan, arguments.plan)):
        try:
            loaded.append(load(path))
        except InputError as error:
            problems.append(str(error))
    if problems:
        raise InputError("\n".join(problems))
    problem, plan = loaded
    report = check_plan(problem, plan)
    if not report.ok:
        print(report.summary())
        raise InputError(
            "the plan breaks hard rules; schedules of it would mislead, nothing exported"
        )
    folders = {kind: getattr(arguments, kind) for kind in ("ics", "html", "pictures")}
    kinds = [kind for kind in ("xlsx", *folders) if getattr(arguments, kind)]
    language = arguments.language or problem.policy.language
    if "pictures" in kinds and language == "zh" and cjk_font() is None:
        print("notice: no Chinese font is installed; the pictures are labelled in English")
    made = export_files(problem, plan, kinds, language)
    if "xlsx" in made:
        write_bytes_atomic(arguments.xlsx, made["xlsx"]["schedule.xlsx"])
        print(f"schedule workbook written to {arguments.xlsx}")
    outputs = [(folders[kind], made[kind]) for kind in folders if kind in made]
    for folder, files in outputs:
        write_folder(folder, files)
        print(f"{len(files)} file(s) written to {folder}")
    return 0


def add_desk_commands(commands: Any) -> None:
    """Add `template`, `import` and `export` to the command line's subcommands."""
    template = commands.add_parser(
        "template",
        help="write a roster workbook to fill in (services, recipients, needs, volunteers, "
        "availability, buildings)",
    )
    template.add_argument("roster", help="the .xlsx file to write")
    template.add_argument(
        "--language", choices=("en", "zh"), default="en", help="headers and drop-downs (default en)"
    )
    template.add_argument(
        "--from",
        dest="source",
        metavar="PROBLEM",
        help="fill the workbook in with this problem instead of the worked example (default: "
        "the worked example)",
    )
    template.set_defaults(handler=_command_template)

    importer = commands.add_parser(
        "import",
        help="read a roster workbook (.xlsx) or a folder of CSV files into a problem JSON file",
    )
    importer.add_argument(
        "roster", help="roster .xlsx file, or a folder of .csv files named after the sheets"
    )
    importer.add_argument(
        "-o", "--output", required=True, help="where to write the problem JSON (required)"
    )
    importer.set_defaults(handler=_command_import)

    export = commands.add_parser(
        "export",
        help="schedules of a plan: workbook, calendars, printable pages, pictures",
        description="Write the schedules people carry out. Give any of the outputs; nothing is "
        "written unless every input is valid and the plan keeps every rule.",
    )
    export.add_argument("problem", help="problem JSON file, or a roster .xlsx / CSV folder")
    export.add_argument("plan", help="plan JSON file")
    export.add_argument(
        "--xlsx",
        help="schedule workbook: figures, a sheet per day and per volunteer, unplanned "
        "visits (default: not written)",
    )
    export.add_argument(
        "--ics", help="folder for one iCalendar file per volunteer (default: not written)"
    )
    export.add_argument(
        "--html",
        help="folder for printable pages: index.html and one per volunteer (default: not written)",
    )
    export.add_argument(
        "--pictures",
        help="folder for route maps, timelines, coverage and load pictures, PNG and SVG "
        "(default: not written)",
    )
    export.add_argument(
        "--language",
        choices=("en", "zh"),
        default=None,
        help="language of the schedules (default: the problem's policy)",
    )
    export.set_defaults(handler=_command_export)
