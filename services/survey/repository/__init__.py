"""Every query of the survey service (one module per kind of data)."""

from __future__ import annotations

from services.survey.repository.aggregates import (
    PeriodSums,
    add_to_aggregates,
    add_to_daily_responses,
    add_to_profile_counts,
    lock_and_clear_aggregates,
    period_sums,
    processed_event_ids,
    stream_responses,
)
from services.survey.repository.responses import (
    FoundSubmission,
    ResponseFilter,
    add_response,
    claim_submission_keys,
    deactivate_units_except,
    find_guide,
    find_submission,
    get_response,
    get_unit,
    latest_suggestions,
    list_active_units,
    list_responses,
    prune_device_keys,
    record_guide,
    upsert_unit,
)
from services.survey.repository.tickets import (
    add_ticket,
    get_ticket,
    list_tickets,
    ticket_with_response,
    tickets_in_period,
)

__all__ = [
    "FoundSubmission",
    "PeriodSums",
    "ResponseFilter",
    "add_response",
    "add_ticket",
    "add_to_aggregates",
    "add_to_daily_responses",
    "add_to_profile_counts",
    "claim_submission_keys",
    "deactivate_units_except",
    "find_guide",
    "find_submission",
    "get_response",
    "get_ticket",
    "get_unit",
    "latest_suggestions",
    "list_active_units",
    "list_responses",
    "list_tickets",
    "lock_and_clear_aggregates",
    "period_sums",
    "processed_event_ids",
    "prune_device_keys",
    "record_guide",
    "stream_responses",
    "ticket_with_response",
    "tickets_in_period",
    "upsert_unit",
]
