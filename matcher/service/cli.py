"""`matcher serve` (run the service) and `matcher serve keys add|list|revoke` (its API keys)."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path
from typing import Any

from matcher.io import InputError
from matcher.service.config import SERVICE_INPUT_LIMITS, ServiceConfig

INSTALL_HINT = "the service needs its extra: pip install 'matcher-care[service]'"


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"at least 1, not {value}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"a positive, finite number, not {text}")
    return value


def config_from_arguments(arguments: argparse.Namespace) -> ServiceConfig:
    """The service's settings from `matcher serve`'s options."""
    from dataclasses import replace

    limits = replace(
        SERVICE_INPUT_LIMITS,
        max_recipients=arguments.max_recipients,
        max_volunteers=arguments.max_volunteers,
        max_matrix_places=arguments.max_matrix_places,
        max_walkway_edges=arguments.max_walkway_edges,
    )
    return ServiceConfig(
        data_dir=Path(arguments.data_dir),
        workers=arguments.workers,
        queue_size=arguments.queue_size,
        max_jobs_per_tenant=arguments.max_jobs_per_tenant,
        max_body_bytes=arguments.max_body_bytes,
        limits=limits,
        max_time_limit_s=arguments.max_time_limit_s,
        max_sync_time_limit_s=arguments.max_sync_time_limit_s,
        job_expiry_s=arguments.expire_after_h * 3600.0,
        plan_interval_s=arguments.plan_interval_s,
        max_memory_mib=arguments.max_memory_mib,
    )


def openapi_schema() -> dict[str, Any]:
    """The service's OpenAPI document (`matcher schema openapi`); InputError without the
    `service` extra."""
    try:
        from matcher.service.app import openapi_document
    except ImportError as error:
        raise InputError(f"{INSTALL_HINT} ({error})") from None
    return openapi_document()


def _storage(arguments: argparse.Namespace) -> Any:
    from matcher.service.storage import SqliteStorage

    return SqliteStorage(Path(arguments.data_dir))


def _command_serve(arguments: argparse.Namespace) -> int:
    """Run the service until interrupted."""
    try:
        import uvicorn

        from matcher.service.app import create_app
    except ImportError as error:
        raise InputError(f"{INSTALL_HINT} ({error})") from None
    config = config_from_arguments(arguments)
    config.data_dir.mkdir(parents=True, exist_ok=True)
    uvicorn.run(
        create_app(config),
        host=arguments.host,
        port=arguments.port,
        log_level=arguments.log_level,
        timeout_graceful_shutdown=5,
    )
    return 0


def _command_keys_add(arguments: argparse.Namespace) -> int:
    from matcher.service.keys import add_key

    made = add_key(_storage(arguments), arguments.tenant)
    print(f"tenant {made.tenant}: API key (shown once, keep it safe):")
    print(made.key)
    return 0


def _command_keys_list(arguments: argparse.Namespace) -> int:
    tenants = _storage(arguments).tenants()
    if not tenants:
        print("no tenants")
    for tenant in tenants:
        made = dt.datetime.fromtimestamp(tenant.created_s, tz=dt.timezone.utc)
        state = "revoked" if tenant.revoked else "active"
        print(f"{tenant.id:<24} key mk.{tenant.key_id}.…  {state:<8} {made:%Y-%m-%d %H:%M} UTC")
    return 0


def _command_keys_revoke(arguments: argparse.Namespace) -> int:
    if not _storage(arguments).revoke_tenant(arguments.tenant):
        raise InputError(f"no tenant {arguments.tenant!r} in {arguments.data_dir}")
    print(f"tenant {arguments.tenant}: key revoked")
    return 0


def _data_dir(parser: argparse.ArgumentParser, suppress: bool) -> None:
    parser.add_argument(
        "--data-dir",
        dest="data_dir",
        default=argparse.SUPPRESS if suppress else "matcher-data",
        help="folder of the service's SQLite store and keys (default: ./matcher-data)",
    )


def add_serve_command(commands: Any) -> None:
    """Add `matcher serve` and `matcher serve keys ...` to the command line's subcommands."""
    defaults = ServiceConfig(data_dir=Path("."))
    serve = commands.add_parser(
        "serve",
        help="run the HTTP service (needs the `service` extra); `serve keys` manages API keys",
        description="Run matcher over HTTP: `matcher serve --host 127.0.0.1 --port 8000 "
        "--data-dir DIR`. Jobs that were solving when the server stopped are failed at the next "
        "start (with the reason); queued jobs are solved.",
    )
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)"
    )
    serve.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
    _data_dir(serve, suppress=False)
    options: list[tuple[str, Any, Any, str]] = [
        ("--workers", _positive_int, defaults.workers, "worker processes solving at once"),
        ("--queue-size", _positive_int, defaults.queue_size, "jobs waiting, all tenants"),
        (
            "--max-jobs-per-tenant",
            _positive_int,
            defaults.max_jobs_per_tenant,
            "jobs queued or solving per tenant",
        ),
        ("--max-body-bytes", _positive_int, defaults.max_body_bytes, "largest request body"),
        (
            "--max-recipients",
            _positive_int,
            SERVICE_INPUT_LIMITS.max_recipients,
            "recipients a problem",
        ),
        (
            "--max-volunteers",
            _positive_int,
            SERVICE_INPUT_LIMITS.max_volunteers,
            "volunteers a problem",
        ),
        (
            "--max-matrix-places",
            _positive_int,
            SERVICE_INPUT_LIMITS.max_matrix_places,
            "places of a travel matrix",
        ),
        (
            "--max-walkway-edges",
            _positive_int,
            SERVICE_INPUT_LIMITS.max_walkway_edges,
            "edges of a walkway graph",
        ),
        (
            "--max-time-limit-s",
            _positive_float,
            defaults.max_time_limit_s,
            "longest background solve",
        ),
        (
            "--max-sync-time-limit-s",
            _positive_float,
            defaults.max_sync_time_limit_s,
            "longest solve of a synchronous request",
        ),
        (
            "--max-memory-mib",
            _positive_float,
            defaults.max_memory_mib,
            "memory budget of each background solve's model",
        ),
        (
            "--plan-interval-s",
            _positive_float,
            defaults.plan_interval_s,
            "seconds between snapshots of a solving job's plan so far",
        ),
        (
            "--expire-after-h",
            _positive_float,
            defaults.job_expiry_s / 3600.0,
            "hours a finished job is kept",
        ),
    ]
    for flag, kind, default, text in options:
        serve.add_argument(flag, type=kind, default=default, help=f"{text} (default {default:g})")
    serve.add_argument(
        "--log-level",
        default="info",
        choices=("critical", "error", "warning", "info", "debug"),
        help="uvicorn's log level (default info)",
    )
    serve.set_defaults(handler=_command_serve)
    keys = serve.add_subparsers(dest="serve_command", required=False, metavar="keys")
    keys_parser = keys.add_parser("keys", help="manage the tenants' API keys")
    key_commands = keys_parser.add_subparsers(dest="keys_command", required=True)
    add = key_commands.add_parser("add", help="add a tenant and print its new API key (once)")
    add.add_argument("tenant", help="the tenant's id: letters, digits, '_', '.', '-'")
    _data_dir(add, suppress=True)
    add.set_defaults(handler=_command_keys_add)
    listing = key_commands.add_parser("list", help="list the tenants and their keys' state")
    _data_dir(listing, suppress=True)
    listing.set_defaults(handler=_command_keys_list)
    revoke = key_commands.add_parser("revoke", help="revoke a tenant's key")
    revoke.add_argument("tenant", help="the tenant's id")
    _data_dir(revoke, suppress=True)
    revoke.set_defaults(handler=_command_keys_revoke)


__all__ = ["add_serve_command", "config_from_arguments", "openapi_schema"]
