"""The survey's status words as StrEnums; the stored and answered values are the strings."""

from __future__ import annotations

from enum import StrEnum


class TicketStatus(StrEnum):
    """Where a saran/kritik stands."""

    BARU = "baru"
    DITANGGAPI = "ditanggapi"
    SELESAI = "selesai"


class Channel(StrEnum):
    """How a response arrived (stored as is in responses.channel)."""

    QR = "qr"  # the public form, reached by the unit's QR code
    KERTAS = "kertas"  # an operator typing a paper form
    IMPOR = "impor"  # a CSV/XLSX file of paper forms


class HeadlineStatus(StrEnum):
    """Whether a report's headline carries an index: none yet, some unsur unanswered, or all."""

    KOSONG = "kosong"
    TIDAK_LENGKAP = "tidak_lengkap"
    LENGKAP = "lengkap"
