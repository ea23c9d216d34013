"""HTTP errors for people: Bahasa Indonesia, the field named, what to do next."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.auth import AuthError
from shared.logging import get_logger
from shared.problems import DomainError

log = get_logger(__name__)

# Human names of fields, so a message says "Nomor HP" rather than "phone".
FIELD_LABELS: dict[str, str] = {
    "name": "Nama",
    "school": "Asal sekolah",
    "phone": "Nomor HP",
    "level": "Jenjang",
    "desa": "Desa/kelurahan",
    "consent": "Persetujuan",
    "title": "Judul kegiatan",
    "date": "Tanggal",
    "location": "Lokasi",
    "capacity": "Kuota peserta",
    "tenant": "Kecamatan",
    "scores": "Nilai",
    "unit": "Unit layanan",
    "registration_id": "ID pendaftaran",
    "role": "Peran",
    "service_type": "Jenis layanan",
    "gender": "Jenis kelamin",
    "age": "Usia",
    "education": "Pendidikan",
    "occupation": "Pekerjaan",
    "suggestion": "Saran",
    "from": "Tanggal awal",
    "to": "Tanggal akhir",
    "population": "Populasi",
    "scheme": "Skema",
    "invite_link": "Tautan undangan",
    "reason": "Alasan",
    "venue": "Tempat",
    "starts_at": "Waktu mulai",
    "ends_at": "Waktu selesai",
    "registration_opens_at": "Pendaftaran dibuka",
    "registration_closes_at": "Pendaftaran ditutup",
    "certificate_policy": "Kebijakan sertifikat",
    "whatsapp_cohort": "Kelompok WhatsApp",
    "registration_open": "Pendaftaran dibuka",
    "code": "Kode pendaftaran",
    "submitted_at": "Waktu pengisian",
    "phone_consent": "Persetujuan dihubungi",
    "guide_code": "Kode pemandu",
    "period": "Periode",
    "weight": "Bobot",
    "file": "Berkas",
    "Idempotency-Key": "Kunci pengiriman",
    "reply": "Tanggapan",
    "ticket_id": "Tiket",
}


def _message(error: dict[str, Any]) -> str:
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return "wajib diisi."
    if kind == "string_too_short":
        return f"terlalu pendek (minimal {ctx.get('min_length')} karakter)."
    if kind == "string_too_long":
        return f"terlalu panjang (maksimal {ctx.get('max_length')} karakter)."
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return "harus berupa angka bulat."
    if kind in ("greater_than_equal", "greater_than"):
        return f"harus bernilai paling kecil {ctx.get('ge', ctx.get('gt'))}."
    if kind in ("less_than_equal", "less_than"):
        return f"harus bernilai paling besar {ctx.get('le', ctx.get('lt'))}."
    if kind in ("literal_error", "enum"):
        return f"harus salah satu dari: {ctx.get('expected', '')}."
    if kind in ("bool_parsing", "bool_type"):
        return "harus bernilai true atau false."
    if kind in ("date_parsing", "date_from_datetime_parsing", "date_type"):
        return "harus berupa tanggal dengan format TTTT-BB-HH (contoh 2026-12-01)."
    if kind in ("datetime_parsing", "datetime_from_date_parsing", "datetime_type"):
        return "harus berupa waktu dengan format TTTT-BB-HHTjj:mm (contoh 2026-12-05T08:00)."
    if kind in ("uuid_parsing", "uuid_type"):
        return "bukan ID yang valid."
    if kind == "json_invalid":
        return "format JSON tidak valid."
    if kind in ("string_type", "dict_type", "model_type"):
        return "jenis datanya tidak sesuai."
    if kind == "extra_forbidden":
        return "tidak dikenal; hapus kolom ini."
    if kind in ("value_error", "assertion_error"):
        return str(ctx.get("error", error.get("msg", ""))).removeprefix("Value error, ")
    return "tidak valid."


def describe_validation(errors: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Turns pydantic errors into [{field, label, message}] in Bahasa Indonesia."""
    fields = []
    for error in errors:
        loc = [str(p) for p in error.get("loc", ()) if p not in ("body", "query", "path")]
        field = ".".join(loc) or "body"
        label = FIELD_LABELS.get(loc[0], loc[0]) if loc else "Data"
        if len(loc) > 1:
            label = f"{label} {'.'.join(loc[1:])}"
        fields.append({"field": field, "label": label, "message": f"{label} {_message(error)}"})
    return fields


def install_error_handlers(app: FastAPI) -> None:
    """Registers the handlers that give every error the same Indonesian JSON shape."""

    @app.exception_handler(RequestValidationError)
    async def on_validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        fields = describe_validation(list(exc.errors()))
        log.info("http.validation_failed", fields=[f["field"] for f in fields])
        return JSONResponse(
            status_code=422,
            content={
                "error": "data_tidak_valid",
                "message": "Data belum benar. Periksa kolom berikut: "
                + ", ".join(f["label"] for f in fields)
                + ".",
                "fields": fields,
            },
        )

    @app.exception_handler(DomainError)
    async def on_domain(_request: Request, exc: DomainError) -> JSONResponse:
        content: dict[str, Any] = {"error": exc.code, "message": exc.message}
        if exc.field:
            content["fields"] = [
                {
                    "field": exc.field,
                    "label": FIELD_LABELS.get(exc.field, exc.field),
                    "message": exc.message,
                }
            ]
        return JSONResponse(status_code=exc.status, content=content)

    @app.exception_handler(AuthError)
    async def on_auth(_request: Request, exc: AuthError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return JSONResponse(
            status_code=exc.status,
            headers=headers,
            content={"error": "tidak_berwenang", "message": exc.message},
        )

    @app.exception_handler(StarletteHTTPException)
    async def on_http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = exc.detail if isinstance(exc.detail, str) else "Permintaan tidak dapat diproses."
        if exc.status_code == 404 and message == "Not Found":
            message = "Halaman atau data tidak ditemukan."
        if exc.status_code == 405:
            message = "Metode HTTP ini tidak didukung untuk alamat tersebut."
        return JSONResponse(
            status_code=exc.status_code, content={"error": "http_error", "message": message}
        )

    @app.exception_handler(Exception)
    async def on_crash(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("http.unhandled_error", error=type(exc).__name__)
        return JSONResponse(
            status_code=500,
            content={
                "error": "kesalahan_server",
                "message": "Terjadi kesalahan pada server. Data Anda tidak hilang; "
                "silakan coba lagi beberapa saat lagi.",
            },
        )
