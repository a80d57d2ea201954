"""MeltanoLabs target-postgres 0.8.1, with the three defaults Calendly data needs in PostgreSQL.

target-postgres, as released, loads what tap-calendly sends in ways an analyst trips over:

- an array whose schema names its items (`emails`, `event_guests`, `attendees`...) becomes a
  `jsonb[]` column, which `->>`, `jsonb_array_length` and `jsonb_array_elements` cannot read
  ("operator does not exist: jsonb[] ->> integer"). Here every array is one `jsonb` value;
- a null or absent object or array is stored as the JSON value `null`, so `cancellation IS NULL`
  matches nothing. SQLAlchemy's JSON types do that unless told `none_as_null`; here they are;
- date-times go to `timestamp without time zone` through the session's time zone, so a server
  whose time zone is not UTC shifts every value. Here every session runs in UTC.

Everything else (settings, upserts, ACTIVATE_VERSION, SSL, SSH tunnels) is target-postgres's own.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

import sqlalchemy
from sqlalchemy.dialects.postgresql import JSONB
from target_postgres.connector import PostgresConnector
from target_postgres.sinks import PostgresSink
from target_postgres.target import TargetPostgres

__all__ = ["TargetPostgresCalendly"]


def _jsonb(_schema: dict[str, Any]) -> JSONB:
    return JSONB(none_as_null=True)


def _utc_session(dbapi_connection: Any, _connection_record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("SET TIME ZONE 'UTC'")
    cursor.close()
    dbapi_connection.commit()  # a SET inside a transaction rolled back later would be undone


class CalendlyPostgresConnector(PostgresConnector):
    @cached_property
    def jsonschema_to_sql(self) -> Any:
        to_sql = super().jsonschema_to_sql
        to_sql.register_type_handler("object", _jsonb)
        to_sql.register_type_handler("array", _jsonb)
        return to_sql

    def create_engine(self) -> sqlalchemy.Engine:
        engine = super().create_engine()
        sqlalchemy.event.listen(engine, "connect", _utc_session)
        return engine

    def copy_table_structure(self, *args: Any, **kwargs: Any) -> sqlalchemy.Table:
        """Records are inserted into this copy, whose types are reflected from the database on
        every batch after the first: its JSON columns too must store None as SQL NULL."""
        table = super().copy_table_structure(*args, **kwargs)
        for column in table.columns:
            if isinstance(column.type, sqlalchemy.JSON):
                column.type.none_as_null = True
        return table


class CalendlyPostgresSink(PostgresSink):
    connector_class = CalendlyPostgresConnector


class TargetPostgresCalendly(TargetPostgres):
    name = "target-postgres"
    default_sink_class = CalendlyPostgresSink
