"""feeds, feed_items, stories; articles learn their feed, guid, backfill flag and story

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25

On SQLite the new article columns are added with plain ALTER TABLE ADD COLUMN (foreign keys inline),
not a batch rebuild: rebuilding ``articles`` would drop the FTS5 sync triggers of revision 0001.
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

UTC_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "feeds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=True),
        sa.Column("site_url", sa.String(length=2000), nullable=True),
        sa.Column("category", sa.String(length=500), nullable=True),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("etag", sa.String(length=500), nullable=True),
        sa.Column("last_modified", sa.String(length=100), nullable=True),
        sa.Column("last_success_at", UTC_TS, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_error_at", UTC_TS, nullable=True),
        sa.Column("error_count", sa.Integer(), nullable=False),
        sa.Column("first_error_at", UTC_TS, nullable=True),
        sa.Column("next_poll_at", UTC_TS, nullable=True),
        sa.Column("interval_seconds", sa.Integer(), nullable=False),
        sa.Column("items_seen", sa.Integer(), nullable=False),
        sa.Column("full_text", sa.Boolean(), nullable=False),
        sa.Column("backfilled", sa.Boolean(), nullable=False),
        sa.Column("claimed_until", UTC_TS, nullable=True),
        sa.Column("websub_hub", sa.String(length=2000), nullable=True),
        sa.Column("websub_topic", sa.String(length=2000), nullable=True),
        sa.Column("websub_secret", sa.String(length=200), nullable=True),
        sa.Column("websub_lease_until", UTC_TS, nullable=True),
        sa.Column("websub_renew_at", UTC_TS, nullable=True),
        sa.Column("created_at", UTC_TS, nullable=False),
        sa.Column("updated_at", UTC_TS, nullable=False),
        sa.CheckConstraint("status IN ('active', 'paused', 'dead')", name=op.f("ck_feeds_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feeds")),
        sa.UniqueConstraint("url", name=op.f("uq_feeds_url")),
    )
    op.create_index("ix_feeds_status_next_poll_at", "feeds", ["status", "next_poll_at"], unique=False)
    op.create_table(
        "stories",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", UTC_TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stories")),
    )
    op.create_table(
        "feed_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("feed_id", sa.Integer(), nullable=False),
        sa.Column("guid", sa.String(length=2000), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=True),
        sa.Column("signature", sa.LargeBinary(), nullable=True),
        sa.Column("first_seen_at", UTC_TS, nullable=False),
        sa.Column("updated_at", UTC_TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"], ["articles.id"], name=op.f("fk_feed_items_article_id_articles"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["feed_id"], ["feeds.id"], name=op.f("fk_feed_items_feed_id_feeds"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feed_items")),
        sa.UniqueConstraint("feed_id", "guid", name=op.f("uq_feed_items_feed_id_guid")),
    )
    op.create_index(op.f("ix_feed_items_article_id"), "feed_items", ["article_id"], unique=False)
    op.create_index(op.f("ix_feed_items_first_seen_at"), "feed_items", ["first_seen_at"], unique=False)

    if op.get_bind().dialect.name == "sqlite":
        # inline REFERENCES: SQLite allows them on ADD COLUMN when the default is NULL
        op.execute("ALTER TABLE articles ADD COLUMN feed_id INTEGER REFERENCES feeds (id) ON DELETE SET NULL")
        op.execute("ALTER TABLE articles ADD COLUMN guid VARCHAR(2000)")
        op.execute("ALTER TABLE articles ADD COLUMN is_backfill BOOLEAN DEFAULT 0 NOT NULL")
        op.execute("ALTER TABLE articles ADD COLUMN story_id INTEGER REFERENCES stories (id) ON DELETE SET NULL")
    else:
        op.add_column("articles", sa.Column("feed_id", sa.Integer(), nullable=True))
        op.add_column("articles", sa.Column("guid", sa.String(length=2000), nullable=True))
        op.add_column(
            "articles", sa.Column("is_backfill", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        op.add_column("articles", sa.Column("story_id", sa.Integer(), nullable=True))
        op.create_foreign_key(
            op.f("fk_articles_feed_id_feeds"), "articles", "feeds", ["feed_id"], ["id"], ondelete="SET NULL"
        )
        op.create_foreign_key(
            op.f("fk_articles_story_id_stories"), "articles", "stories", ["story_id"], ["id"], ondelete="SET NULL"
        )
    op.create_index(op.f("ix_articles_feed_id"), "articles", ["feed_id"], unique=False)
    op.create_index(op.f("ix_articles_story_id"), "articles", ["story_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_articles_story_id"), table_name="articles")
    op.drop_index(op.f("ix_articles_feed_id"), table_name="articles")
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint(op.f("fk_articles_story_id_stories"), "articles", type_="foreignkey")
        op.drop_constraint(op.f("fk_articles_feed_id_feeds"), "articles", type_="foreignkey")
    for column in ("story_id", "is_backfill", "guid", "feed_id"):
        op.drop_column("articles", column)  # SQLite >= 3.35 drops columns in place
    op.drop_index(op.f("ix_feed_items_first_seen_at"), table_name="feed_items")
    op.drop_index(op.f("ix_feed_items_article_id"), table_name="feed_items")
    op.drop_table("feed_items")
    op.drop_table("stories")
    op.drop_index("ix_feeds_status_next_poll_at", table_name="feeds")
    op.drop_table("feeds")
