"""HTTP routes of the consultation service: groups, invitations, the invite-link redirect."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse

from services.consultation import invitations, pages, repository, service
from services.consultation.schemas import (
    GroupCreate,
    GroupRead,
    GroupRotate,
    GroupRotated,
    InvitationRead,
    MessageRead,
)
from shared.auth import Principal, authorize
from shared.logging import get_logger
from shared.problem_map import answer_for
from shared.web import OperatorDep, RuntimeDep, SessionDep, resolve_tenant

router = APIRouter(prefix="/api/v1")
public_router = APIRouter(tags=["public"])
dev_router = APIRouter(tags=["development"])
log = get_logger(__name__)


def _tenant_filter(principal: Principal, requested: str | None) -> str | None:
    """The tenant an operator lists: asked for (if allowed), else their own; None = all."""
    code = requested or (None if principal.tenant == "*" else principal.tenant)
    if code is not None:
        authorize(principal, ("operator",), code)
    return code


@router.get("/groups", response_model=list[GroupRead], tags=["operator"])
async def list_groups(
    session: SessionDep, principal: OperatorDep, tenant: str | None = None
) -> list[GroupRead]:
    """Lists the WhatsApp groups of the operator's kecamatan."""
    rows = await repository.list_groups(session, _tenant_filter(principal, tenant))
    return [GroupRead.model_validate(g) for g in rows]


@router.post(
    "/groups", response_model=GroupRead, status_code=status.HTTP_201_CREATED, tags=["operator"]
)
async def create_group(
    data: GroupCreate,
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    principal: OperatorDep,
) -> GroupRead:
    """Adds a group by its invite link; invitations that waited for a group go out now."""
    tenant = resolve_tenant(runtime, principal, data.tenant)
    group = await service.create_group(
        session, tenant=tenant, name=data.name, invite_link=data.invite_link
    )
    parts = request.app.state.consultation
    await invitations.invite_waiting(
        session, parts.configs[tenant.code], group, runtime.settings.effective_public_url
    )
    log.info(
        "consultation.group_created",
        group_id=str(group.id),
        tenant=tenant.code,
        by=principal.subject,
    )
    return GroupRead.model_validate(group)


@router.post("/groups/{group_id}/rotate", response_model=GroupRotated, tags=["operator"])
async def rotate_group_link(
    group_id: uuid.UUID, data: GroupRotate, session: SessionDep, principal: OperatorDep
) -> GroupRotated:
    """Replaces a group's invite link; links already sent then lead to the new one."""
    group = await service.get_group(session, group_id)
    authorize(principal, ("operator",), group.tenant)
    group = await service.rotate_link(session, group, data.invite_link)
    log.info(
        "consultation.group_link_rotated",
        group_id=str(group.id),
        tenant=group.tenant,
        by=principal.subject,
    )
    return GroupRotated(
        group=GroupRead.model_validate(group),
        message=(
            "Tautan undangan grup sudah diganti. Undangan yang sudah terkirim tetap "
            "berlaku: tautannya kini membuka tautan grup yang baru."
        ),
    )


@router.get("/invitations", response_model=list[InvitationRead], tags=["operator"])
async def list_invitations(
    session: SessionDep,
    principal: OperatorDep,
    registration_id: uuid.UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[InvitationRead]:
    """Lists group invitations (of one registration when asked), newest first."""
    rows = await repository.list_invitations(
        session,
        tenant=_tenant_filter(principal, None),
        registration_id=registration_id,
        limit=limit,
    )
    messages = await repository.messages_of(session, [inv.id for inv, _ in rows])
    result = []
    for invitation, group_name in rows:
        message = messages.get(invitation.id)
        result.append(
            InvitationRead(
                id=invitation.id,
                registration_id=invitation.registration_id,
                group_id=invitation.group_id,
                group_name=group_name,
                status=invitation.status,
                sent_at=invitation.sent_at,
                clicked_at=invitation.clicked_at,
                message=MessageRead.model_validate(message) if message else None,
            )
        )
    return result


@public_router.get("/i/{click_token}", response_model=None)
async def follow_invitation(
    click_token: Annotated[str, Path(max_length=64)],
    session: SessionDep,
    user_agent: Annotated[str, Header()] = "",
) -> RedirectResponse | HTMLResponse:
    """Records the click on an invitation link and opens the group's current invite link."""
    try:
        link = await service.record_click(session, click_token, user_agent=user_agent)
    except (service.InvitationUnknown, service.InvitationGroupMissing) as exc:
        return HTMLResponse(
            pages.invitation_not_found_page(answer_for(exc).message),
            status_code=status.HTTP_404_NOT_FOUND,
        )
    return RedirectResponse(
        link, status_code=status.HTTP_307_TEMPORARY_REDIRECT, headers={"Cache-Control": "no-store"}
    )


@public_router.get("/inbox", response_class=HTMLResponse)
async def mentor_inbox() -> HTMLResponse:
    """The mentor inbox page; it holds no data until a mentor enters their token."""
    return HTMLResponse(pages.inbox_page(), headers={"Cache-Control": "no-store"})


@dev_router.get("/dev/whatsapp", response_class=HTMLResponse)
async def dev_whatsapp(session: SessionDep) -> HTMLResponse:
    """Shows what the development gateway would have sent (newest first, phones masked)."""
    return HTMLResponse(pages.dev_messages_page(await repository.list_dev_messages(session)))
