"""Web layer: FastAPI app, pages, JSON API. Thin over the core."""
