"""feeds, feed_items, stories; articles learn their feed, guid, backfill flag and story

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25

On SQLite ``articles`` is rebuilt (batch mode) for its named foreign keys; the rebuild drops the
FTS5 sync triggers of revision 0001 with the old table, so they are created again here.
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

UTC_TS = sa.DateTime(timezone=True)
FTS_TRIGGERS = [  # as in revision 0001
    "CREATE TRIGGER articles_fts_ai AFTER INSERT ON articles BEGIN"
    " INSERT INTO articles_fts(rowid, title, body) VALUES (new.id, new.title, new.body); END",
    "CREATE TRIGGER articles_fts_ad AFTER DELETE ON articles BEGIN"
    " INSERT INTO articles_fts(articles_fts, rowid, title, body)"
    " VALUES ('delete', old.id, old.title, old.body); END",
    "CREATE TRIGGER articles_fts_au AFTER UPDATE OF title, body ON articles BEGIN"
    " INSERT INTO articles_fts(articles_fts, rowid, title, body)"
    " VALUES ('delete', old.id, old.title, old.body);"
    " INSERT INTO articles_fts(rowid, title, body) VALUES (new.id, new.title, new.body); END",
]


def _sqlite_fts_triggers() -> None:
    for name in ("articles_fts_ai", "articles_fts_ad", "articles_fts_au"):
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    for statement in FTS_TRIGGERS:
        op.execute(statement)


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
            ["article_id"],
            ["articles.id"],
            name=op.f("fk_feed_items_article_id_articles"),
            ondelete="SET NULL",
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
        # SQLite cannot add named foreign keys in place: rebuild the table (batch), then restore the
        # FTS5 sync triggers of revision 0001, which a rebuild drops with the old table.
        with op.batch_alter_table("articles", recreate="always") as batch_op:
            batch_op.add_column(sa.Column("feed_id", sa.Integer(), nullable=True))
            batch_op.add_column(sa.Column("guid", sa.String(length=2000), nullable=True))
            batch_op.add_column(
                sa.Column("is_backfill", sa.Boolean(), server_default=sa.false(), nullable=False)
            )
            batch_op.add_column(sa.Column("story_id", sa.Integer(), nullable=True))
            batch_op.create_foreign_key(
                op.f("fk_articles_feed_id_feeds"), "feeds", ["feed_id"], ["id"], ondelete="SET NULL"
            )
            batch_op.create_foreign_key(
                op.f("fk_articles_story_id_stories"), "stories", ["story_id"], ["id"], ondelete="SET NULL"
            )
        _sqlite_fts_triggers()
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
            op.f("fk_articles_story_id_stories"),
            "articles",
            "stories",
            ["story_id"],
            ["id"],
            ondelete="SET NULL",
        )
    op.create_index(op.f("ix_articles_feed_id"), "articles", ["feed_id"], unique=False)
    op.create_index(op.f("ix_articles_story_id"), "articles", ["story_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_articles_story_id"), table_name="articles")
    op.drop_index(op.f("ix_articles_feed_id"), table_name="articles")
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("articles", recreate="always") as batch_op:
            batch_op.drop_constraint(op.f("fk_articles_story_id_stories"), type_="foreignkey")
            batch_op.drop_constraint(op.f("fk_articles_feed_id_feeds"), type_="foreignkey")
            for column in ("story_id", "is_backfill", "guid", "feed_id"):
                batch_op.drop_column(column)
        _sqlite_fts_triggers()
    else:
        op.drop_constraint(op.f("fk_articles_story_id_stories"), "articles", type_="foreignkey")
        op.drop_constraint(op.f("fk_articles_feed_id_feeds"), "articles", type_="foreignkey")
        for column in ("story_id", "is_backfill", "guid", "feed_id"):
            op.drop_column("articles", column)
    op.drop_index(op.f("ix_feed_items_first_seen_at"), table_name="feed_items")
    op.drop_index(op.f("ix_feed_items_article_id"), table_name="feed_items")
    op.drop_table("feed_items")
    op.drop_table("stories")
    op.drop_index("ix_feeds_status_next_poll_at", table_name="feeds")
    op.drop_table("feeds")
