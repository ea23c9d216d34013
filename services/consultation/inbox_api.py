"""The mentor inbox API: a mentor sees only their own conversations, an operator the tenant's."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from services.consultation import conversations, inbox_repository, outbound
from services.consultation.answers import pick_requirements, requirement_answer
from services.consultation.handlers import Parts
from services.consultation.mentors_api import parts_of
from services.consultation.models import Conversation
from services.consultation.schemas import (
    ConversationDetail,
    ConversationRead,
    LineRead,
    ReplyCreate,
)
from shared.auth import AuthError, Principal
from shared.logging import get_logger
from shared.outbox import add_event
from shared.privacy import mask_phone
from shared.web import SessionDep, require

router = APIRouter(prefix="/api/v1", tags=["inbox"])
InboxDep = Annotated[Principal, Depends(require("operator", "mentor"))]
log = get_logger(__name__)


def _mentor_id(principal: Principal) -> uuid.UUID | None:
    """The mentor a mentor token is bound to (None for operators and admins)."""
    if principal.role != "mentor":
        return None
    try:
        return uuid.UUID(principal.subject)
    except ValueError:
        raise AuthError(
            "Token mentor ini tidak terikat pada mentor mana pun.", status=403
        ) from None


def _tenant(principal: Principal) -> str | None:
    return None if principal.tenant == "*" else principal.tenant


def _view(parts: Parts, conv: Conversation, flagged: bool, principal: Principal) -> dict[str, Any]:
    # Mentors (often students) reply through the service and never need the citizen's number.
    phone = mask_phone(conv.phone) if principal.role == "mentor" else conv.phone
    return {
        "id": conv.id,
        "tenant": conv.tenant,
        "phone": phone,
        "topic": conv.topic,
        "status": conv.status,
        "mentor_id": conv.mentor_id,
        "waiting_since": conv.queued_at or conv.created_at,
        "window_left_s": round(outbound.window_left_s(conv.last_inbound_at, parts.clock.now())),
        "repeat_offender": flagged,
        "rating": conv.rating,
    }


async def _visible(session: Any, principal: Principal, conversation_id: uuid.UUID) -> Conversation:
    """The conversation if the caller may see it; otherwise 404 (no hint it exists)."""
    conv = await inbox_repository.get_conversation(session, conversation_id)
    mentor_id = _mentor_id(principal)
    if (
        conv is None
        or not principal.can_act_for(conv.tenant)
        or (mentor_id is not None and conv.mentor_id != mentor_id)
    ):
        raise conversations.ConversationNotFound()
    return conv


@router.get("/conversations", response_model=list[ConversationRead])
async def list_conversations(
    request: Request,
    session: SessionDep,
    principal: InboxDep,
    status: Annotated[str | None, Query(pattern="^(bot|queued|assigned|closed)$")] = None,
) -> list[ConversationRead]:
    """Open conversations (or one status), oldest waiting first, with window time left."""
    parts = parts_of(request)
    rows = await inbox_repository.list_conversations(
        session, tenant=_tenant(principal), mentor_id=_mentor_id(principal), status=status
    )
    return [ConversationRead.model_validate(_view(parts, c, f, principal)) for c, f in rows]


@router.get("/conversations/{conversation_id}", response_model=ConversationDetail)
async def show_conversation(
    conversation_id: uuid.UUID, request: Request, session: SessionDep, principal: InboxDep
) -> ConversationDetail:
    """A conversation's history and canned answers for its topic."""
    parts = parts_of(request)
    conv = await _visible(session, principal, conversation_id)
    contact = await inbox_repository.get_contact(session, conv.tenant, conv.phone)
    lines = await inbox_repository.history(session, conv.id)
    config = parts.configs[conv.tenant]
    canned = [
        requirement_answer(
            [r], raw=config.raw, tenant_name=config.tenant.name, address=config.tenant.address
        )
        for r in pick_requirements("", conv.topic, config.catalogue)
    ]
    return ConversationDetail.model_validate(
        {
            **_view(parts, conv, bool(contact and contact.flagged), principal),
            "messages": [LineRead.model_validate(line) for line in lines],
            "canned_answers": canned,
        }
    )


@router.post("/conversations/{conversation_id}/messages", response_model=ConversationRead)
async def reply(
    conversation_id: uuid.UUID,
    data: ReplyCreate,
    request: Request,
    session: SessionDep,
    principal: InboxDep,
) -> ConversationRead:
    """Replies through the gateway (free-form in the window, the reply template outside)."""
    parts = parts_of(request)
    conv = await _visible(session, principal, conversation_id)
    await conversations.reply(
        session, parts.configs[conv.tenant], conv, data.text, now=parts.clock.now()
    )
    log.info("consultation.mentor_replied", conversation_id=str(conv.id), by=principal.subject)
    return ConversationRead.model_validate(_view(parts, conv, False, principal))


@router.post("/conversations/{conversation_id}/close", response_model=ConversationRead)
async def close(
    conversation_id: uuid.UUID, request: Request, session: SessionDep, principal: InboxDep
) -> ConversationRead:
    """Closes the conversation; the citizen is asked for a 1-5 rating."""
    parts = parts_of(request)
    conv = await _visible(session, principal, conversation_id)
    events = await conversations.close(
        session, parts.configs[conv.tenant], conv, now=parts.clock.now(), sla=parts.sla
    )
    for event in events:
        await add_event(session, event)
    return ConversationRead.model_validate(_view(parts, conv, False, principal))
