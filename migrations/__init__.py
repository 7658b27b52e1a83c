"""Alembic migrations for partner-bot's schema (see storage/models.py)."""
