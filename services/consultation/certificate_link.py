"""The certificate reaches the participant: its link on WhatsApp, once per certificate."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.consultation import inbox_repository, outbound, repository
from services.consultation.config import TenantConfig
from shared.contracts import CertificateIssuedV1
from shared.logging import get_logger

log = get_logger(__name__)


class RecipientUnknown(Exception):
    """The registration is not known here yet (its event not handled): retried later."""


def certificate_text(event: CertificateIssuedV1) -> str:
    """The message that carries the certificate link (and the brochure, when there is one)."""
    brochure = f"Brosur persyaratan Adminduk: {event.brochure_url}\n" if event.brochure_url else ""
    return (
        f"Sertifikat elektronik Anda (nomor {event.number}) sudah terbit.\n"
        f"Unduh: {event.download_url}\n"
        f"Cek keaslian: {event.verify_url}\n"
        f"{brochure}"
        "Terima kasih sudah mengikuti sosialisasi Adminduk."
    )


async def send_certificate(
    session: AsyncSession, config: TenantConfig, event: CertificateIssuedV1, *, now: datetime
) -> None:
    """Queues the certificate link (document in the window, template outside it) once."""
    registrant = await inbox_repository.get_registrant(session, event.registration_id)
    if registrant is None:
        raise RecipientUnknown(f"registration {event.registration_id} not seen yet")
    if not registrant.consent:
        log.info("consultation.certificate_not_sent", reason="no_consent")
        return
    key = f"certificate:{event.certificate_id}"
    if await repository.find_by_dedupe_key(session, key) is not None:
        return
    message = await outbound.queue(
        session,
        config,
        to=registrant.phone,
        body=certificate_text(event),
        kind="certificate",
        template_kind="certificate",
        params=[event.number, event.download_url],
        now=now,
        document_url=event.download_url,
        dedupe_key=key,
    )
    log.info(
        "consultation.certificate_queued",
        certificate_id=str(event.certificate_id),
        message_id=str(message.id),
        rule=message.rule,
    )
