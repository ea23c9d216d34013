"""The write-path baseline: a minimal FastAPI app, the same uvicorn, a pydantic model, one INSERT.

Served by `python -m benchmarks._bare_app` with BARE_DATABASE_URL (SQLite or PostgreSQL) and
BARE_PORT. It accepts the registration's and the survey's JSON shapes at the same paths, so the
load generator sends identical requests to it and to the real services.
"""

from __future__ import annotations

import os
import uuid
from typing import Any

import uvicorn
from fastapi import FastAPI
from pydantic import BaseModel
from sqlalchemy import JSON, Column, MetaData, String, Table, Uuid
from sqlalchemy.ext.asyncio import create_async_engine

metadata = MetaData()
rows = Table(
    "bare_rows",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("kind", String(20), nullable=False),
    Column("body", JSON, nullable=False),
)


class Registration(BaseModel):
    """The registration's fields."""

    name: str
    school: str
    phone: str
    level: str
    desa: str | None = None
    consent: bool


class Response(BaseModel):
    """The survey response's fields that matter here."""

    scores: dict[str, int | None]
    service_type: str | None = None


def create_app() -> FastAPI:
    """The baseline app: validate, insert one row, answer 201."""
    url = os.environ["BARE_DATABASE_URL"]
    schema = os.environ.get("BARE_SCHEMA")
    connect_args = {"server_settings": {"search_path": schema}} if schema else {}
    engine = create_async_engine(url, connect_args=connect_args)
    app = FastAPI()

    @app.on_event("startup")
    async def create_table() -> None:
        async with engine.begin() as conn:
            await conn.run_sync(metadata.create_all)

    async def insert(kind: str, body: dict[str, Any]) -> dict[str, str]:
        row_id = uuid.uuid4()
        async with engine.begin() as conn:
            await conn.execute(rows.insert().values(id=row_id, kind=kind, body=body))
        return {"id": str(row_id)}

    @app.post("/api/v1/events/{event_id}/registrations", status_code=201)
    async def register(event_id: str, body: Registration) -> dict[str, str]:
        return await insert("registration", body.model_dump())

    @app.post("/api/v1/units/{unit}/responses", status_code=201)
    async def respond(unit: str, body: Response) -> dict[str, str]:
        return await insert("response", body.model_dump())

    return app


if __name__ == "__main__":
    uvicorn.run(
        create_app(), host="127.0.0.1", port=int(os.environ["BARE_PORT"]), log_level="warning"
    )
