"""delivery_figures: delivery, sales, production and order figures per company and period

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "delivery_figures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=10), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("metric", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.Column("lower_bound", sa.Boolean(), nullable=False),
        sa.Column("scope", sa.String(length=80), nullable=True),
        sa.Column("source_url", sa.String(length=2000), nullable=True),
        sa.Column("article_id", sa.Integer(), nullable=True),
        sa.Column("origin", sa.String(length=12), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('actual', 'target', 'guidance')", name=op.f("ck_delivery_figures_kind")),
        sa.CheckConstraint(
            "metric IN ('deliveries', 'sales', 'production', 'orders')",
            name=op.f("ck_delivery_figures_metric"),
        ),
        sa.CheckConstraint(
            "origin IN ('extracted', 'imported', 'editor')", name=op.f("ck_delivery_figures_origin")
        ),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["articles.id"],
            name=op.f("fk_delivery_figures_article_id_articles"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_delivery_figures_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery_figures")),
    )
    with op.batch_alter_table("delivery_figures", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_delivery_figures_article_id"), ["article_id"], unique=False)
        batch_op.create_index(
            "ix_delivery_figures_company_metric_start", ["company_id", "metric", "period_start"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("delivery_figures", schema=None) as batch_op:
        batch_op.drop_index("ix_delivery_figures_company_metric_start")
        batch_op.drop_index(batch_op.f("ix_delivery_figures_article_id"))
    op.drop_table("delivery_figures")
