"""subscribers, subscriptions, keyword alerts, targets, outbox, delivery attempts

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25

New tables only (no batch rebuild of existing ones); see docs/decisions/0010-outbox.md.
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

UTC_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "subscribers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("created_at", UTC_TS, nullable=False),
        sa.Column("confirmed_at", UTC_TS, nullable=True),
        sa.Column("unsubscribed_at", UTC_TS, nullable=True),
        sa.Column("digest", sa.String(length=10), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("digest_hour", sa.Integer(), nullable=False),
        sa.Column("include_mentions", sa.Boolean(), nullable=False),
        sa.Column("bounce_count", sa.Integer(), nullable=False),
        sa.Column("last_confirm_sent_at", UTC_TS, nullable=True),
        sa.Column("confirm_window_at", UTC_TS, nullable=True),
        sa.Column("confirm_sends", sa.Integer(), nullable=False),
        sa.Column("last_digest_at", UTC_TS, nullable=True),
        sa.CheckConstraint("digest IN ('immediate', 'daily', 'weekly')", name=op.f("ck_subscribers_digest")),
        sa.CheckConstraint(
            "status IN ('pending', 'confirmed', 'unsubscribed', 'suspended')",
            name=op.f("ck_subscribers_status"),
        ),
        sa.CheckConstraint("digest_hour >= 0 AND digest_hour <= 23", name=op.f("ck_subscribers_digest_hour")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscribers")),
        sa.UniqueConstraint("email", name=op.f("uq_subscribers_email")),
    )
    op.create_table(
        "alert_targets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscriber_id", sa.Integer(), nullable=True),
        sa.Column("company_id", sa.Integer(), nullable=True),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTC_TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_alert_targets_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["subscriber_id"],
            ["subscribers.id"],
            name=op.f("fk_alert_targets_subscriber_id_subscribers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_targets")),
    )
    with op.batch_alter_table("alert_targets", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alert_targets_company_id"), ["company_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_alert_targets_subscriber_id"), ["subscriber_id"], unique=False)

    op.create_table(
        "keyword_alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("query_text", sa.String(length=1000), nullable=False),
        sa.Column("created_at", UTC_TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["subscriber_id"],
            ["subscribers.id"],
            name=op.f("fk_keyword_alerts_subscriber_id_subscribers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_keyword_alerts")),
        sa.UniqueConstraint(
            "subscriber_id", "query_text", name=op.f("uq_keyword_alerts_subscriber_id_query_text")
        ),
    )
    op.create_table(
        "subscriptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("created_at", UTC_TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name=op.f("fk_subscriptions_company_id_companies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["subscriber_id"],
            ["subscribers.id"],
            name=op.f("fk_subscriptions_subscriber_id_subscribers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscriptions")),
        sa.UniqueConstraint(
            "subscriber_id", "company_id", name=op.f("uq_subscriptions_subscriber_id_company_id")
        ),
    )
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_subscriptions_company_id"), ["company_id"], unique=False)

    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscriber_id", sa.Integer(), nullable=True),
        sa.Column("target_id", sa.Integer(), nullable=True),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTC_TS, nullable=False),
        sa.Column("claimed_by", sa.String(length=100), nullable=True),
        sa.Column("lease_until", UTC_TS, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("sent_at", UTC_TS, nullable=True),
        sa.Column("created_at", UTC_TS, nullable=False),
        sa.Column("message_id", sa.String(length=300), nullable=True),
        sa.CheckConstraint("kind IN ('immediate', 'digest')", name=op.f("ck_outbox_kind")),
        sa.CheckConstraint(
            "status IN ('pending', 'sending', 'sent', 'failed', 'skipped')", name=op.f("ck_outbox_status")
        ),
        sa.CheckConstraint(
            "(subscriber_id IS NULL) <> (target_id IS NULL)", name=op.f("ck_outbox_one_recipient")
        ),
        sa.ForeignKeyConstraint(
            ["article_id"], ["articles.id"], name=op.f("fk_outbox_article_id_articles"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["subscriber_id"],
            ["subscribers.id"],
            name=op.f("fk_outbox_subscriber_id_subscribers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["target_id"],
            ["alert_targets.id"],
            name=op.f("fk_outbox_target_id_alert_targets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("subscriber_id", "article_id", name=op.f("uq_outbox_subscriber_id_article_id")),
        sa.UniqueConstraint("target_id", "article_id", name=op.f("uq_outbox_target_id_article_id")),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outbox_article_id"), ["article_id"], unique=False)
        batch_op.create_index("ix_outbox_status_next_attempt_at", ["status", "next_attempt_at"], unique=False)

    op.create_table(
        "delivery_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=False),
        sa.Column("at", UTC_TS, nullable=False),
        sa.Column("outcome", sa.String(length=10), nullable=False),
        sa.Column("code", sa.Integer(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("worker", sa.String(length=100), nullable=True),
        sa.CheckConstraint(
            "outcome IN ('accepted', 'retry', 'bounce')", name=op.f("ck_delivery_attempts_outcome")
        ),
        sa.ForeignKeyConstraint(
            ["outbox_id"],
            ["outbox.id"],
            name=op.f("fk_delivery_attempts_outbox_id_outbox"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery_attempts")),
    )
    with op.batch_alter_table("delivery_attempts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_delivery_attempts_outbox_id"), ["outbox_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("delivery_attempts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_delivery_attempts_outbox_id"))

    op.drop_table("delivery_attempts")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_status_next_attempt_at")
        batch_op.drop_index(batch_op.f("ix_outbox_article_id"))

    op.drop_table("outbox")
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_subscriptions_company_id"))

    op.drop_table("subscriptions")
    op.drop_table("keyword_alerts")
    with op.batch_alter_table("alert_targets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alert_targets_subscriber_id"))
        batch_op.drop_index(batch_op.f("ix_alert_targets_company_id"))

    op.drop_table("alert_targets")
    op.drop_table("subscribers")
