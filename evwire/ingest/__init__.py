"""Ingest: turn files, pages and posts into ParsedArticle values. No database here."""
