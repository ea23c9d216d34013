"""The one table from domain problems to HTTP answers: status, error code, Indonesian message.

Rules raise named `shared.problems.Problem` subclasses, defined where their domain lives; this
table, in `shared` so every service answers alike, says how each one reads to people. It is
keyed by class name because `shared` imports no service; a unit test checks that every
`Problem` subclass in the code has exactly one row here and that no row is stale.

A message is a `str.format` template filled with the problem's facts (and its field).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shared.problems import DomainError, Problem

INVALID = "data_tidak_valid"
NOT_FOUND = "tidak_ditemukan"
REFUSED = "ditolak"


@dataclass(frozen=True, slots=True)
class ProblemRow:
    """How one kind of problem answers: HTTP status, error code, message template, field."""

    status: int
    code: str
    message: str
    field: str | None = None


@dataclass(frozen=True, slots=True)
class Answer:
    """What the web layer sends for a refusal (before the JSON or HTML shape is chosen)."""

    status: int
    code: str
    message: str
    field: str | None
    headers: dict[str, str] | None = None


# Kept in one place so the wording of every refusal can be read (and corrected) together.
PROBLEMS: dict[str, ProblemRow] = {
    # shared: kecamatan (tenants)
    "TenantNotServed": ProblemRow(404, NOT_FOUND, "Kecamatan '{tenant}' tidak dikenal.", "tenant"),
    "UnknownOperatorTenant": ProblemRow(
        422, INVALID, "Kecamatan '{tenant}' tidak dikenal.", "tenant"
    ),
    "TenantUnavailable": ProblemRow(
        503,
        "kecamatan_tidak_tersedia",
        "Layanan untuk kecamatan ini sedang tidak tersedia, jadi permintaan Anda belum "
        "diproses. Silakan coba lagi nanti atau hubungi kantor kecamatan.",
    ),
    # certificates
    "CertificateLinkUnknown": ProblemRow(
        404,
        NOT_FOUND,
        "Sertifikat tidak ditemukan. Periksa kembali tautan atau kode QR-nya.",
    ),
    "CertificateNotFound": ProblemRow(404, NOT_FOUND, "Sertifikat tidak ditemukan."),
    "CertificateFileMissing": ProblemRow(
        404, NOT_FOUND, "Berkas sertifikat tidak ditemukan. Hubungi kantor kecamatan."
    ),
    "CertificateRevoked": ProblemRow(
        410,
        "sertifikat_dicabut",
        "Sertifikat ini sudah dicabut sehingga tidak dapat diunduh lagi. "
        "Hubungi kantor kecamatan bila ada pertanyaan.",
    ),
    "CertificateNotReady": ProblemRow(
        409,
        "sertifikat_sedang_dibuat",
        "Sertifikat sedang dibuat. Silakan coba lagi dalam beberapa saat.",
    ),
    "AlreadyRevoked": ProblemRow(409, "sudah_dicabut", "Sertifikat ini sudah dicabut sebelumnya."),
    "NoCertificatesForEvent": ProblemRow(
        404, NOT_FOUND, "Tidak ada sertifikat untuk kegiatan ini."
    ),
    "NothingToReissue": ProblemRow(
        404, NOT_FOUND, "Tidak ada sertifikat berlaku yang dapat diterbitkan ulang."
    ),
    "TemplateNotAccepted": ProblemRow(422, "templat_ditolak", "{detail}", "html"),
    "NoOwnTemplate": ProblemRow(404, NOT_FOUND, "Kecamatan ini belum mengunggah templat sendiri."),
    # consultation: groups, invitations, mentors, conversations
    "NotAnInviteLink": ProblemRow(
        422,
        INVALID,
        "Tautan undangan (invite_link) harus diawali https://chat.whatsapp.com/ — salin "
        "dari grup WhatsApp: Info grup > Undang lewat tautan.",
        "invite_link",
    ),
    "InviteLinkTaken": ProblemRow(
        409, "sudah_ada", "Tautan undangan ini sudah dipakai grup lain.", "invite_link"
    ),
    "GroupNotFound": ProblemRow(404, NOT_FOUND, "Grup WhatsApp tidak ditemukan."),
    "InvitationUnknown": ProblemRow(404, NOT_FOUND, "Tautan undangan tidak dikenal."),
    "InvitationGroupMissing": ProblemRow(404, NOT_FOUND, "Grup untuk undangan ini belum tersedia."),
    "MentorNotFound": ProblemRow(404, NOT_FOUND, "Mentor tidak ditemukan."),
    "AdminTokenMissing": ProblemRow(503, "belum_siap", "MENJAMU_ADMIN_TOKEN belum diatur."),
    "ConversationNotFound": ProblemRow(404, NOT_FOUND, "Percakapan tidak ditemukan."),
    "NotWithMentor": ProblemRow(
        409, "status_tidak_sesuai", "Percakapan ini tidak sedang ditangani mentor."
    ),
    "ConversationAlreadyClosed": ProblemRow(
        409, "status_tidak_sesuai", "Percakapan ini sudah ditutup."
    ),
    # dashboard
    "JourneyNotFound": ProblemRow(
        404, NOT_FOUND, "Pendaftaran tidak ditemukan.", "registration_id"
    ),
    "JourneyPhoneInvalid": ProblemRow(422, INVALID, "Nomor HP {detail}", "phone"),
    "UnknownStream": ProblemRow(422, INVALID, "Stream '{stream}' tidak dikenal.", "stream"),
    "StaticFileNotFound": ProblemRow(404, NOT_FOUND, "Berkas tidak ditemukan."),
    # survey: units, submissions, guides
    "UnitNotAccepting": ProblemRow(
        404,
        NOT_FOUND,
        "Unit layanan '{unit}' tidak ditemukan atau tidak lagi menerima survei. "
        "Periksa kembali kode QR yang Anda pindai.",
        "unit",
    ),
    "UnknownUnit": ProblemRow(404, NOT_FOUND, "Unit layanan '{unit}' tidak ditemukan.", "unit"),
    "PaperTimeNotAllowed": ProblemRow(
        422,
        INVALID,
        "Waktu pengisian (submitted_at) hanya boleh diisi petugas untuk formulir kertas.",
        "submitted_at",
    ),
    "UnknownGuideCode": ProblemRow(
        422,
        INVALID,
        "Kode pemandu tidak dikenal. Periksa kode pada bukti pendaftaran pemandu, "
        "atau kosongkan kolom ini.",
        "guide_code",
    ),
    "IdempotencyKeyReused": ProblemRow(
        409,
        "kunci_sudah_dipakai",
        "Idempotency-Key ini sudah dipakai untuk jawaban lain. Kirim dengan kunci baru.",
        "Idempotency-Key",
    ),
    "FormTokenReused": ProblemRow(
        409,
        "kunci_sudah_dipakai",
        "Formulir ini sudah terkirim dengan jawaban lain. Muat ulang halaman untuk mengisi "
        "penilaian baru.",
        "form_token",
    ),
    # survey: paper-form imports
    "ImportTooLarge": ProblemRow(
        413, REFUSED, "Berkas terlalu besar (maksimal {max_mb} MB).", "file"
    ),
    "ImportUnreadable": ProblemRow(422, INVALID, "{detail}", "file"),
    "UnknownTemplateKind": ProblemRow(
        404, NOT_FOUND, "Templat tersedia sebagai .csv atau .xlsx.", "kind"
    ),
    # survey: tickets (saran and kritik)
    "TicketNotFound": ProblemRow(404, NOT_FOUND, "Tiket tidak ditemukan.", "ticket_id"),
    "TicketClosed": ProblemRow(409, REFUSED, "Tiket ini sudah selesai.", "status"),
    # survey: reports and their periods
    "UnknownScheme": ProblemRow(
        422, INVALID, "Skema '{scheme}' tidak dikenal. Pilihan: {choices}.", "scheme"
    ),
    "UnknownWeight": ProblemRow(
        422, INVALID, "Bobot '{weight}' tidak dikenal. Pilihan: {choices}.", "weight"
    ),
    "UnknownPeriod": ProblemRow(
        422,
        INVALID,
        "Periode tidak dikenal. Contoh: 2025-03 (bulan), 2025-Q1 (triwulan), "
        "2025-S1 (semester), 2025 (tahun).",
        "period",
    ),
    "PeriodYearOutOfRange": ProblemRow(
        422, INVALID, "Tahun pada periode harus {first} sampai {last}.", "period"
    ),
    "PeriodMonthOutOfRange": ProblemRow(
        422, INVALID, "Bulan pada periode harus 01 sampai 12.", "period"
    ),
    "PeriodAndRange": ProblemRow(
        422, INVALID, "Pakai period atau from/to, tidak keduanya.", "period"
    ),
    "DateYearOutOfRange": ProblemRow(
        422, INVALID, "Tanggal {label} ({field}) harus antara tahun {first} dan {last}.", "from"
    ),
    "RangeReversed": ProblemRow(
        422, INVALID, "Tanggal awal (from) tidak boleh sesudah tanggal akhir (to).", "from"
    ),
}

# A class without a row is a bug the unit test catches; should one slip through, people still
# get a refusal in Indonesian rather than a crash.
FALLBACK = ProblemRow(400, REFUSED, "Permintaan ini tidak dapat diproses.")


def row_of(problem: Problem) -> ProblemRow | None:
    """The row of a problem's class, else of its nearest ancestor that has one."""
    for cls in type(problem).__mro__:
        row = PROBLEMS.get(cls.__name__)
        if row is not None:
            return row
        if cls is Problem:
            break
    return None


def answer_for(exc: Problem | DomainError) -> Answer:
    """How a refusal answers: from the table for a named problem, from the error itself else."""
    retry_after = getattr(exc, "retry_after", None)
    headers = {"Retry-After": str(retry_after)} if retry_after else None
    if isinstance(exc, DomainError):
        return Answer(exc.status, exc.code, exc.message, exc.field, headers)
    row = row_of(exc) or FALLBACK
    field = exc.field or row.field
    facts: dict[str, Any] = {**exc.facts, "field": field}
    return Answer(row.status, row.code, row.message.format(**facts), field, headers)
