{#-
  JSON as loaded, made uniform across warehouses. target-duckdb stores objects and arrays as JSON;
  target-postgres stores objects as jsonb and, unless told otherwise, arrays of objects as jsonb[].
  Either way an absent nested value can arrive as a JSON `null`, which `IS NULL` does not match.
-#}

{#- The column as one JSON value (jsonb[] folded into a jsonb array), JSON null as SQL NULL. -#}
{% macro json_column(column) -%}
  {{ return(adapter.dispatch('json_column', 'calendly')(column)) }}
{%- endmacro %}

{% macro duckdb__json_column(column) -%}
  case when json_type(cast({{ column }} as json)) = 'NULL' then null else cast({{ column }} as json) end
{%- endmacro %}

{% macro postgres__json_column(column) -%}
  nullif(to_jsonb({{ column }}), 'null'::jsonb)
{%- endmacro %}

{#- One member of a JSON object as text (SQL NULL when absent or JSON null). -#}
{% macro json_text(json, key) -%}
  {{ return(adapter.dispatch('json_text', 'calendly')(json, key)) }}
{%- endmacro %}

{% macro duckdb__json_text(json, key) -%}
  json_extract_string({{ json }}, '$.{{ key }}')
{%- endmacro %}

{% macro postgres__json_text(json, key) -%}
  ({{ json }} ->> '{{ key }}')
{%- endmacro %}

{#- One member of a JSON object as JSON (SQL NULL when absent or JSON null). -#}
{% macro json_member(json, key) -%}
  {{ return(adapter.dispatch('json_member', 'calendly')(json, key)) }}
{%- endmacro %}

{% macro duckdb__json_member(json, key) -%}
  case when json_type({{ json }}, '$.{{ key }}') = 'NULL' then null else json_extract({{ json }}, '$.{{ key }}') end
{%- endmacro %}

{% macro postgres__json_member(json, key) -%}
  nullif({{ json }} -> '{{ key }}', 'null'::jsonb)
{%- endmacro %}

{#- Number of elements of a JSON array (NULL for NULL). -#}
{% macro json_length(json) -%}
  {{ return(adapter.dispatch('json_length', 'calendly')(json)) }}
{%- endmacro %}

{% macro duckdb__json_length(json) -%}
  json_array_length({{ json }})
{%- endmacro %}

{% macro postgres__json_length(json) -%}
  jsonb_array_length({{ json }})
{%- endmacro %}

{#- Set-returning, in a select list: one row per element of a JSON array. -#}
{% macro json_elements(json) -%}
  {{ return(adapter.dispatch('json_elements', 'calendly')(json)) }}
{%- endmacro %}

{% macro duckdb__json_elements(json) -%}
  unnest(cast(json_extract({{ json }}, '$[*]') as json[]))
{%- endmacro %}

{% macro postgres__json_elements(json) -%}
  jsonb_array_elements({{ json }})
{%- endmacro %}
