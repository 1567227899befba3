"""Storage: tables, engine/sessions, and a module per aggregate. Functions take a Session and never commit."""
