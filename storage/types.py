"""Reusable column types, so every table stores ids, times and labels the same way."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from sqlalchemy import JSON, BigInteger, DateTime, Dialect, TypeDecorator
from sqlalchemy.orm import mapped_column


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC times on every backend (SQLite forgets the zone; this restores it)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; use the injectable clock")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# Discord snowflakes exceed 32 bits.
Snowflake = Annotated[int, mapped_column(BigInteger)]
OptionalSnowflake = Annotated[int | None, mapped_column(BigInteger, nullable=True)]
Timestamp = Annotated[datetime, mapped_column(UTCDateTime())]
OptionalTimestamp = Annotated[datetime | None, mapped_column(UTCDateTime(), nullable=True)]
JsonDict = Annotated[dict[str, Any], mapped_column(JSON)]
