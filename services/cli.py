"""`menjamu` command: run everything, serve one service, migrate, tokens, dead letters."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from services.ops import cli as ops_cli
from services.registry import SERVICES, entry


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `menjamu` console script."""
    args = _parser().parse_args(argv)
    if args.command in ("run", "serve", "migrate"):
        from shared.datafiles import protect_data_dir
        from shared.settings import ServiceSettings

        protect_data_dir(ServiceSettings().data_dir)
    if (code := ops_cli.run(args)) is not None:
        return code
    return _dispatch(args)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="menjamu", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser(
        "run",
        help="start all four services (embedded Redis and SQLite "
        "unless REDIS_URL / DATABASE_URL are set)",
    )
    run.add_argument("--only", nargs="*", choices=SERVICES, help="start only these services")
    serve = sub.add_parser("serve", help="serve one service (HTTP + its consumers)")
    serve.add_argument("service", choices=SERVICES)
    migrate = sub.add_parser("migrate", help="migrate the databases (all services by default)")
    migrate.add_argument("services", nargs="*", help=f"any of: {', '.join(SERVICES)}")
    token = sub.add_parser("token", help="issue a role token signed with MENJAMU_ADMIN_TOKEN")
    token.add_argument("--role", required=True, choices=("admin", "operator", "mentor"))
    token.add_argument("--tenant", required=True)
    token.add_argument("--subject", required=True, help="who holds it (for the audit log)")
    token.add_argument("--ttl-days", type=int, default=365)
    dlq = sub.add_parser("dlq", help="list or replay dead letters of a stream")
    dlq.add_argument("action", choices=("list", "replay"))
    dlq.add_argument("stream", help="e.g. registration.participant_registered.v1")
    dlq.add_argument("--id", action="append", dest="ids", help="replay only these entries")
    sub.add_parser("streams", help="show each consumer group's pending, lag and dead letters")
    outbox = sub.add_parser("outbox", help="list or re-send outbox rows the relay parked")
    outbox.add_argument("action", choices=("list", "retry"))
    outbox.add_argument("services", nargs="*", help=f"any of: {', '.join(SERVICES)} (all)")
    outbox.add_argument("--id", type=int, action="append", dest="ids", help="only these rows")
    survey = sub.add_parser("survey", help="survey commands: rebuild the IKM aggregates")
    survey.add_argument("action", choices=("rebuild",))
    ops_cli.add_commands(sub)
    return parser


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "run":
        from services.supervisor import run_all

        return run_all(args.only or list(SERVICES))
    if args.command == "serve":
        return _serve(args.service)
    if args.command == "migrate":
        return _migrate(args.services or list(SERVICES))
    if args.command == "token":
        return _token(args)
    if args.command == "dlq":
        return asyncio.run(_dlq(args.action, args.stream, args.ids))
    if args.command == "streams":
        return asyncio.run(_streams())
    if args.command == "outbox":
        return asyncio.run(_outbox(args.action, args.services or list(SERVICES), args.ids))
    if args.command == "survey":
        from services.survey.commands import main as survey_main

        return survey_main(args.action)
    return 2


def _serve(name: str) -> int:
    import uvicorn

    service = entry(name)
    settings = service.settings()
    uvicorn.run(
        f"{service.app_module}:create_app",
        factory=True,
        host=settings.host,
        port=settings.effective_port,
        log_config=None,
        access_log=False,  # uvicorn.access is quiet anyway: RequestContext logs each request
        proxy_headers=True,
        timeout_graceful_shutdown=20,
    )
    return 0


def _migrate(names: list[str]) -> int:
    from shared.migrations import upgrade

    for name in names:
        service = entry(name)
        upgrade(service.settings(), service.migrations)
        print(f"migrated {name}")
    return 0


def _token(args: argparse.Namespace) -> int:
    from shared.auth import issue_token
    from shared.settings import ServiceSettings

    admin = ServiceSettings().admin_token
    if admin is None:
        print("MENJAMU_ADMIN_TOKEN is not set", file=sys.stderr)
        return 2
    print(
        issue_token(
            admin.get_secret_value(),
            role=args.role,
            tenant=args.tenant,
            subject=args.subject,
            ttl_days=args.ttl_days,
        )
    )
    return 0


async def _dlq(action: str, stream: str, ids: list[str] | None) -> int:
    from shared.redis_conn import redis_client
    from shared.settings import ServiceSettings
    from shared.streams import list_dead_letters, replay_dead_letters

    redis = redis_client(ServiceSettings().redis_target)
    try:
        if action == "list":
            _print(await list_dead_letters(redis, stream))
        else:
            print(f"replayed {await replay_dead_letters(redis, stream, ids)}")
    finally:
        await redis.aclose()
    return 0


async def _streams() -> int:
    from redis.exceptions import ResponseError

    from shared.contracts import ALL_EVENTS
    from shared.redis_conn import redis_client
    from shared.settings import ServiceSettings
    from shared.streams import group_stats

    redis = redis_client(ServiceSettings().redis_target)
    try:
        stats = []
        for event in ALL_EVENTS:
            try:
                groups = await redis.xinfo_groups(event.STREAM)
            except ResponseError:
                groups = []
            for group in groups:
                name = group["name"].decode()
                stats.append(await group_stats(redis, event.STREAM, name))
        _print(stats)
    finally:
        await redis.aclose()
    return 0


async def _outbox(action: str, names: list[str], ids: list[int] | None) -> int:
    from shared.db import Database
    from shared.outbox import parked_rows, retry_parked

    result: dict[str, Any] = {}
    for name in names:
        db = Database(entry(name).settings())
        try:
            if action == "list":
                result[name] = await parked_rows(db)
            else:
                result[name] = {"requeued": await retry_parked(db, ids)}
        finally:
            await db.dispose()
    _print(result)
    return 0


def _print(value: Any) -> None:
    print(json.dumps(value, indent=2, default=str))


if __name__ == "__main__":
    sys.exit(main())
