"""`menjamu trace <registration id or phone>`: one participant's journey, in time order."""

from __future__ import annotations

import argparse
import os
import sys
import uuid
from typing import Any

import httpx

from shared.privacy import mask_phone


def add_parser(sub: Any) -> None:
    """Adds `trace` to the `menjamu` command."""
    parser = sub.add_parser(
        "trace", help="every event and effect of one registration (asks the dashboard service)"
    )
    parser.add_argument("who", help="registration id, or the participant's phone number")
    parser.add_argument("--dashboard-url", help="default: DASHBOARD_PUBLIC_URL or :8005")
    parser.add_argument("--token", help="operator token (default: MENJAMU_TOKEN or admin token)")


def run(args: argparse.Namespace) -> int:
    """Prints the journey (or journeys, for a phone that registered several times)."""
    url, token = _where(args)
    headers = {"Authorization": f"Bearer {token}"}
    try:
        with httpx.Client(base_url=url, headers=headers, timeout=15) as client:
            journeys = _journeys(client, args.who)
    except httpx.HTTPError as exc:
        print(f"the dashboard service at {url} does not answer: {exc}", file=sys.stderr)
        return 2
    if isinstance(journeys, str):
        print(journeys, file=sys.stderr)
        return 1
    for journey in journeys:
        print(format_journey(journey))
    return 0


def _where(args: argparse.Namespace) -> tuple[str, str]:
    from services.dashboard.settings import Settings

    settings = Settings()
    url = args.dashboard_url or settings.effective_public_url
    token = args.token or os.environ.get("MENJAMU_TOKEN")
    if not token and settings.admin_token is not None:
        token = settings.admin_token.get_secret_value()
    if not token and (settings.data_dir / "admin-token").is_file():
        token = (settings.data_dir / "admin-token").read_text().strip()
    return url, token or ""


def _journeys(client: httpx.Client, who: str) -> list[dict[str, Any]] | str:
    if _is_uuid(who):
        response = client.get(f"/api/v1/journeys/{who}")
        if response.status_code == 200:
            return [response.json()]
        return _error(response, who)
    response = client.get("/api/v1/journeys", params={"phone": who})
    if response.status_code != 200:
        return _error(response, mask_phone(who))
    found: list[dict[str, Any]] = response.json()["journeys"]
    return found or f"no registration for {mask_phone(who)}"


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def _error(response: httpx.Response, who: str) -> str:
    try:
        message = response.json().get("message", response.text)
    except ValueError:
        message = response.text
    return f"{who}: {response.status_code} {message}"


def format_journey(journey: dict[str, Any]) -> str:
    """Renders one journey as a header and one line per step."""
    head = (
        f"registration {journey['registration_id']}  tenant {journey['tenant']}  "
        f"phone {journey.get('phone_masked') or '-'}  correlation {journey['correlation_id']}"
    )
    lines = [head]
    for step in journey["steps"]:
        lines.append(f"  {step['occurred_at'][:19]}  {step['source']:<13} {step['label']}")
    for dead in journey.get("dead_letters") or []:
        lines.append(
            f"  {str(dead.get('at') or '')[:19]}  {dead.get('group') or '?':<13} "
            f"gagal, masuk dead letter: {dead.get('reason')} "
            f"(menjamu dlq replay {dead.get('stream')} --id {dead.get('id')})"
        )
    missing = journey.get("missing") or []
    if missing:
        lines.append(f"  belum terjadi: {', '.join(missing)}")
    return "\n".join(lines)
