"""PostgreSQL: notify ``evwire_content`` when anything a page shows changes

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25

Statement-level triggers on the tables the public pages read call ``pg_notify('evwire_content')``;
PostgreSQL delivers it when the writing transaction commits (never for a rollback), so web processes
can keep rendered pages until the content really changed (``web.pagecache``; docs/decisions/0016).
The payload is the table's schema: several evwire schemas may share one database (tests, staging).
Feed rows change on every poll, so only a feed's title (shown as a source name) counts. SQLite needs
no trigger: its ``PRAGMA data_version`` already tells a reader that another connection committed.
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

CONTENT_TABLES = (
    "articles",
    "mentions",
    "article_tickers",
    "article_people",
    "companies",
    "company_tickers",
    "company_people",
    "delivery_figures",
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "CREATE OR REPLACE FUNCTION evwire_content_changed() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN PERFORM pg_notify('evwire_content', TG_TABLE_SCHEMA); RETURN NULL; END $$"
    )
    for table in CONTENT_TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_content_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
            f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION evwire_content_changed()"
        )
    op.execute(
        "CREATE TRIGGER feeds_content_changed AFTER UPDATE OF title OR DELETE ON feeds "
        "FOR EACH STATEMENT EXECUTE FUNCTION evwire_content_changed()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in (*CONTENT_TABLES, "feeds"):
        op.execute(f"DROP TRIGGER IF EXISTS {table}_content_changed ON {table}")
    op.execute("DROP FUNCTION IF EXISTS evwire_content_changed()")
