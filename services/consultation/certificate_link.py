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


def certificate_text(number: str, download_url: str, verify_url: str) -> str:
    """The message that carries the certificate link."""
    return (
        f"Sertifikat elektronik Anda (nomor {number}) sudah terbit.\n"
        f"Unduh: {download_url}\n"
        f"Cek keaslian: {verify_url}\n"
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
        body=certificate_text(event.number, event.download_url, event.verify_url),
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
