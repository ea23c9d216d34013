"""Two-step issuing, PDFs out of the database, participants (policy, check-in, cancel),
tenant certificate templates.

Adds the render bookkeeping columns, moves every stored PDF into the configured storage
(local folder under the data folder, or the S3 bucket: the same settings the service uses,
so run `menjamu migrate` with the service's environment), keeps only the key, and drops the
`pdf` column.

Revision ID: 0003
"""

import sqlalchemy as sa
from alembic import context, op

from services.certificates.settings import Settings
from services.certificates.storage import build_store, pdf_key

revision = "0003"
down_revision = "0002"

_NEW_COLUMNS = (
    sa.Column("activity_id", sa.Uuid(), nullable=True),
    sa.Column("pdf_key", sa.String(300), nullable=True),
    sa.Column("needs_render", sa.Boolean(), nullable=False, server_default=sa.false()),
    sa.Column("generation", sa.Integer(), nullable=False, server_default="1"),
    sa.Column("render_lease_until", sa.DateTime(timezone=True), nullable=True),
    sa.Column("render_owner", sa.String(120), nullable=True),
    sa.Column("render_attempts", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("rendered_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("announced_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("reissued_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("causation_id", sa.String(64), nullable=True),
)


def _settings() -> Settings:
    given = context.config.attributes.get("settings")
    if isinstance(given, Settings):
        return given
    return Settings(data_dir=given.data_dir) if given is not None else Settings()


def _certificates() -> sa.Table:
    return sa.table(
        "certificates",
        sa.column("id", sa.Uuid()),
        sa.column("tenant", sa.String()),
        sa.column("issued_at", sa.DateTime(timezone=True)),
        sa.column("pdf", sa.LargeBinary()),
        sa.column("pdf_key", sa.String()),
        sa.column("rendered_at", sa.DateTime(timezone=True)),
        sa.column("announced_at", sa.DateTime(timezone=True)),
    )


def upgrade() -> None:
    with op.batch_alter_table("certificates") as batch:
        for column in _NEW_COLUMNS:
            batch.add_column(column.copy())
        batch.create_index("ix_certificates_activity_id", ["activity_id"])
        batch.create_index("ix_certificates_needs_render", ["needs_render", "render_lease_until"])
    _move_pdfs_to_storage()
    with op.batch_alter_table("certificates") as batch:
        batch.drop_column("pdf")
    op.create_table(
        "participants",
        sa.Column("registration_id", sa.Uuid(), primary_key=True),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("activity_id", sa.Uuid(), nullable=False),
        sa.Column("policy", sa.String(20), nullable=True),
        sa.Column("registered_event", sa.String(), nullable=True),
        sa.Column("checked_in_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "certificate_templates",
        sa.Column("tenant", sa.String(64), primary_key=True),
        sa.Column("html", sa.Text(), nullable=False),
        sa.Column("logo", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(200), nullable=False),
    )


def _move_pdfs_to_storage() -> None:
    """Writes each stored PDF to the storage, then records its key (one row at a time)."""
    bind = op.get_bind()
    table = _certificates()
    ids = [row.id for row in bind.execute(sa.select(table.c.id).where(table.c.pdf.is_not(None)))]
    if not ids:
        return
    store = build_store(_settings())
    for certificate_id in ids:
        row = bind.execute(
            sa.select(table.c.tenant, table.c.issued_at, table.c.pdf).where(
                table.c.id == certificate_id
            )
        ).one()
        key = pdf_key(row.tenant, row.issued_at, certificate_id)
        store.put(key, row.pdf)
        bind.execute(
            table.update()
            .where(table.c.id == certificate_id)
            .values(pdf_key=key, rendered_at=row.issued_at, announced_at=row.issued_at)
        )


def downgrade() -> None:
    op.drop_table("certificate_templates")
    op.drop_table("participants")
    with op.batch_alter_table("certificates") as batch:
        batch.add_column(sa.Column("pdf", sa.LargeBinary(), nullable=True))
    bind = op.get_bind()
    table = _certificates()
    store = build_store(_settings())
    rows = bind.execute(sa.select(table.c.id, table.c.pdf_key).where(table.c.pdf_key.is_not(None)))
    for certificate_id, key in list(rows):
        bind.execute(table.update().where(table.c.id == certificate_id).values(pdf=store.get(key)))
    with op.batch_alter_table("certificates") as batch:
        batch.drop_index("ix_certificates_needs_render")
        batch.drop_index("ix_certificates_activity_id")
        for column in _NEW_COLUMNS:
            batch.drop_column(column.name)
