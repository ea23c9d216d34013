"""HTTP error handlers: refusals (shared.problems, answered per shared.problem_map) and invalid
requests become answers for people: Bahasa Indonesia, the field named, what to do next."""

from __future__ import annotations

from typing import Any, cast

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.auth import AuthError
from shared.logging import get_logger
from shared.pages import error_response
from shared.problem_map import answer_for, row_of
from shared.problems import Problem

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
        return "bukan JSON yang valid."
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
        if error.get("type") == "json_invalid":
            field, label = "body", "Data"
        message = f"{label} {_message(error)}"
        fields.append({"field": field, "label": label, "message": message})
    return fields


def _validation_content(errors: list[dict[str, Any]]) -> dict[str, Any]:
    fields = describe_validation(errors)
    if any(e.get("type") == "json_invalid" for e in errors):
        message = "JSON tidak valid. Periksa tanda kutip, koma dan kurung pada data yang dikirim."
    else:
        message = "Data belum benar. Periksa kolom berikut: " + ", ".join(
            dict.fromkeys(f["label"] for f in fields)
        )
        message += "."
    return {
        "error": "data_tidak_valid",
        "message": message,
        "fields": fields,
    }


def _not_json(request: Request, errors: list[dict[str, Any]]) -> bool:
    """Tells whether a body-level error comes from a body that was not sent as JSON."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    is_json = content_type == "application/json" or content_type.endswith("+json")
    body_level = any(tuple(e.get("loc", ())) == ("body",) for e in errors)
    return bool(content_type) and not is_json and body_level


async def on_validation(request: Request, exc: Exception) -> Response:
    """An invalid request: 415 for a body that is not JSON, else 422 naming every field."""
    errors = list(cast(RequestValidationError, exc).errors())
    if _not_json(request, errors):
        log.info("http.unsupported_media_type")
        media: dict[str, Any] = {
            "error": "format_tidak_didukung",
            "message": "Kirim data dalam format JSON dengan header "
            "'Content-Type: application/json'.",
        }
        return error_response(request, 415, media)
    content = _validation_content(errors)
    log.info("http.validation_failed", fields=[f["field"] for f in describe_validation(errors)])
    return error_response(request, 422, content)


async def on_refusal(request: Request, exc: Exception) -> Response:
    """A rule refused: a named problem, answered from the one table (shared.problem_map)."""
    if isinstance(exc, Problem) and row_of(exc) is None:
        log.error("http.problem_unmapped", problem=type(exc).__name__)
    answer = answer_for(cast(Problem, exc))
    content: dict[str, Any] = {"error": answer.code, "message": answer.message}
    if answer.field:
        label = FIELD_LABELS.get(answer.field, answer.field)
        content["fields"] = [{"field": answer.field, "label": label, "message": answer.message}]
    return error_response(request, answer.status, content, answer.headers)


async def on_auth(request: Request, exc: Exception) -> Response:
    """Not signed in (401, with the Bearer challenge) or not allowed (403)."""
    auth = cast(AuthError, exc)
    headers = {"WWW-Authenticate": "Bearer"} if auth.status == 401 else None
    content = {"error": "tidak_berwenang", "message": auth.message}
    return error_response(request, auth.status, content, headers)


async def on_http(request: Request, exc: Exception) -> Response:
    """Starlette's own answers (404 route, 405 method, unreadable body) in Indonesian."""
    http = cast(StarletteHTTPException, exc)
    message = http.detail if isinstance(http.detail, str) else "Permintaan tidak dapat diproses."
    message = _HTTP_MESSAGES.get(http.status_code, {}).get(message, message)
    return error_response(
        request,
        http.status_code,
        {"error": "http_error", "message": message},
        dict(http.headers) if http.headers else None,
    )


async def on_crash(request: Request, exc: Exception) -> Response:
    """Anything unexpected: a 500 that apologises and gives the reference to quote."""
    # The traceback is logged as plain text (no locals) and masked like every line.
    log.exception("http.unhandled_error", error=type(exc).__name__)
    reference = getattr(request.state, "correlation_id", "")
    content = {
        "error": "kesalahan_server",
        "message": "Maaf, terjadi kesalahan pada server dan permintaan Anda belum dapat "
        "diproses. Silakan coba lagi beberapa saat lagi; bila masalah berlanjut, hubungi "
        f"petugas dengan kode {reference}.",
    }
    return error_response(request, 500, content)


def install_error_handlers(app: FastAPI) -> None:
    """Registers the handlers that give every error the same Indonesian shape (JSON or HTML)."""
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(Problem, on_refusal)
    app.add_exception_handler(AuthError, on_auth)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_crash)


_HTTP_MESSAGES: dict[int, dict[str, str]] = {
    400: {"There was an error parsing the body": "Data yang dikirim tidak dapat dibaca."},
    404: {"Not Found": "Halaman atau data tidak ditemukan."},
    405: {"Method Not Allowed": "Metode HTTP ini tidak didukung untuk alamat tersebut."},
}


_ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error", "message"],
    "properties": {
        "error": {"type": "string"},
        "message": {"type": "string"},
        "fields": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "label", "message"],
                "properties": {
                    "field": {"type": "string"},
                    "label": {"type": "string"},
                    "message": {"type": "string"},
                },
            },
        },
    },
}


def document_errors(schema: dict[str, Any]) -> dict[str, Any]:
    """Makes an OpenAPI document's 422 answers true: our JSON error shape, HTML on pages."""
    schema.setdefault("components", {}).setdefault("schemas", {})["Error"] = _ERROR_SCHEMA
    for path, operations in schema.get("paths", {}).items():
        page = not path.startswith(("/api/", "/health", "/ready"))
        for operation in operations.values():
            answer = operation.get("responses", {}).get("422")
            if answer is None:
                continue
            answer["description"] = "Data tidak valid"
            answer["content"] = (
                {"text/html": {"schema": {"type": "string"}}}
                if page
                else {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
            )
    return schema
