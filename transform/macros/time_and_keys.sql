{#-
  Both loaders store date-times as `timestamp without time zone` holding UTC wall time (the
  Postgres loader, loaders/postgres, runs every session in UTC). Staging turns them into instants.
-#}
{% macro utc_timestamp(column) -%}
  ({{ column }} at time zone 'UTC')
{%- endmacro %}

{#- Monday of the UTC week an instant falls in, whatever the session's time zone. -#}
{% macro utc_week(instant) -%}
  cast(date_trunc('week', {{ instant }} at time zone 'UTC') as date)
{%- endmacro %}

{% macro hours_between(earlier, later) -%}
  (extract(epoch from ({{ later }} - {{ earlier }})) / 3600.0)
{%- endmacro %}

{#- The last path segment of a Calendly URI (its UUID). -#}
{% macro uuid_of(uri) -%}
  regexp_replace({{ uri }}, '^.*/', '')
{%- endmacro %}

{#- A column of the source whose name is an SQL keyword (user, group, to, from, default). -#}
{% macro keyword_column(name) -%}
  {{ adapter.quote(name) }}
{%- endmacro %}

{#- Share of part in whole, NULL when whole is 0. -#}
{% macro ratio(part, whole) -%}
  (cast({{ part }} as {{ dbt.type_numeric() }}) / nullif({{ whole }}, 0))
{%- endmacro %}

{#- An ISO 8601 date-time inside a JSON object (e.g. cancellation.created_at) as an instant. -#}
{% macro json_timestamp(json, key) -%}
  cast({{ json_text(json, key) }} as timestamp with time zone)
{%- endmacro %}
