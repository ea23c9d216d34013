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

from shared.problems import Problem

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
    # shared: rate limits (the Retry-After header comes from the problem)
    "RateLimited": ProblemRow(
        429,
        "terlalu_banyak_permintaan",
        "Terlalu banyak permintaan. Silakan coba lagi dalam {wait}.",
    ),
    "NetworkRateLimited": ProblemRow(
        429,
        "terlalu_banyak_permintaan",
        "Terlalu banyak permintaan dari jaringan Anda. Silakan coba lagi dalam {wait}.",
    ),
    "PhoneRateLimited": ProblemRow(
        429,
        "terlalu_banyak_permintaan",
        "Nomor HP ini terlalu sering dipakai dalam waktu singkat. Silakan coba lagi dalam {wait}.",
    ),
    # shared: pages
    "StaticFileNotFound": ProblemRow(404, NOT_FOUND, "Berkas tidak ditemukan."),
    # dashboard
    "JourneyNotFound": ProblemRow(
        404, NOT_FOUND, "Pendaftaran tidak ditemukan.", "registration_id"
    ),
    "JourneyPhoneInvalid": ProblemRow(422, INVALID, "Nomor HP {detail}", "phone"),
    "UnknownStream": ProblemRow(422, INVALID, "Stream '{stream}' tidak dikenal.", "stream"),
    # registration: activities (kegiatan)
    "ActivityNotFound": ProblemRow(
        404, NOT_FOUND, "Kegiatan tidak ditemukan. Periksa kembali tautan pendaftaran Anda."
    ),
    "RequiredFieldCleared": ProblemRow(422, INVALID, "{label} tidak boleh dikosongkan."),
    "StartMissing": ProblemRow(422, INVALID, "Tanggal atau waktu mulai wajib diisi.", "starts_at"),
    "VenueMissing": ProblemRow(422, INVALID, "Tempat kegiatan wajib diisi.", "venue"),
    "EndsBeforeStart": ProblemRow(
        422, INVALID, "Waktu selesai harus sesudah waktu mulai.", "ends_at"
    ),
    "ClosesBeforeOpens": ProblemRow(
        422, INVALID, "Pendaftaran harus ditutup sesudah dibuka.", "registration_closes_at"
    ),
    "CapacityBelowRegistered": ProblemRow(
        409,
        "kuota_terlalu_kecil",
        "Kuota tidak bisa lebih kecil dari jumlah peserta terdaftar ({registered}).",
        "capacity",
    ),
    # registration: sign-up
    "RegistrationClosed": ProblemRow(
        409, "pendaftaran_ditutup", "Pendaftaran untuk kegiatan ini sudah ditutup."
    ),
    "RegistrationNotOpenYet": ProblemRow(
        409, "pendaftaran_belum_dibuka", "Pendaftaran untuk kegiatan ini belum dibuka."
    ),
    "LevelNotOffered": ProblemRow(
        422, INVALID, "Jenjang harus salah satu dari: {levels}.", "level"
    ),
    "DesaNotServed": ProblemRow(
        422, INVALID, "Desa/kelurahan '{desa}' tidak ada di {kecamatan}.", "desa"
    ),
    "IdempotencyKeyMalformed": ProblemRow(
        422,
        INVALID,
        "Header Idempotency-Key harus 1 sampai {max_length} karakter ASCII.",
        "Idempotency-Key",
    ),
    "IdempotencyBodyDiffers": ProblemRow(
        422,
        "kunci_idempotensi_bentrok",
        "Idempotency-Key ini sudah dipakai untuk permintaan dengan isi berbeda. "
        "Gunakan kunci baru untuk permintaan baru.",
        "Idempotency-Key",
    ),
    "IdempotencyKeyBusy": ProblemRow(
        409,
        REFUSED,
        "Permintaan dengan Idempotency-Key ini sedang diproses. Coba lagi sebentar lagi.",
        "Idempotency-Key",
    ),
    # registration: confirmation link, cancellation, check-in
    "ConfirmationLinkUnknown": ProblemRow(
        404, NOT_FOUND, "Tautan konfirmasi tidak dikenal. Periksa kembali tautan Anda."
    ),
    "RegistrationNotFound": ProblemRow(404, NOT_FOUND, "Pendaftaran tidak ditemukan."),
    "RegistrationNotInActivity": ProblemRow(
        404, NOT_FOUND, "Pendaftaran tidak ditemukan di kegiatan ini."
    ),
    "AlreadyAttended": ProblemRow(
        409,
        "sudah_hadir",
        "Peserta sudah hadir (check-in); pendaftaran tidak dapat dibatalkan.",
    ),
    "CodeNotForActivity": ProblemRow(
        404, "kode_tidak_dikenal", "Kode ini tidak terdaftar untuk kegiatan ini.", "code"
    ),
    "StillWaitlisted": ProblemRow(
        409,
        "daftar_tunggu",
        "Peserta masih di daftar tunggu (urutan {position}); belum mendapat tempat.",
        "code",
    ),
    "RegistrationCancelled": ProblemRow(
        409, "dibatalkan", "Pendaftaran ini sudah dibatalkan.", "code"
    ),
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


def answer_for(exc: Problem) -> Answer:
    """How a refusal answers: status, code, message and field from the table."""
    retry_after = getattr(exc, "retry_after", None)
    headers = {"Retry-After": str(retry_after)} if retry_after else None
    row = row_of(exc) or FALLBACK
    field = exc.field or row.field
    facts: dict[str, Any] = {**exc.facts, "field": field}
    return Answer(row.status, row.code, row.message.format(**facts), field, headers)
