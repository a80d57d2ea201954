{#-
  When the loaded tables' data is from. Singer loaders stamp rows with `_sdc_extracted_at` (when
  the tap read the record: target-postgres, target-duckdb with add_metadata_columns), else
  `_sdc_batched_at` / `_sdc_received_at` (when the loader wrote it).
-#}

{#- A metadata date-time column as an instant, whichever type the loader gave it. -#}
{% macro loaded_instant(column) -%}
  {%- set data_type = column.data_type | lower -%}
  {%- if column.is_string() or data_type in ('timestamp with time zone', 'timestamptz') -%}
    {#- text holds an ISO 8601 date-time with its offset; timestamptz is an instant already -#}
    cast({{ adapter.quote(column.name) }} as timestamp with time zone)
  {%- else -%}
    {{ utc_timestamp(adapter.quote(column.name)) }}
  {%- endif -%}
{%- endmacro %}

{#-
  A query with one row per loaded table of source `calendly` that carries a load time:
  source_table, loaded_at (its latest). Tables not loaded (streams not selected) and tables
  without a metadata column are left out; with none left it returns no row.
-#}
{% macro source_load_times() -%}
  {%- set selects = [] -%}
  {%- if execute -%}
    {%- for node in graph.sources.values() if node.source_name == 'calendly' -%}
      {%- set relation = adapter.get_relation(node.database, node.schema, node.identifier) -%}
      {%- set found = namespace(column=none) -%}
      {%- if relation is not none -%}
        {%- for name in ['_sdc_extracted_at', '_sdc_batched_at', '_sdc_received_at'] -%}
          {%- if found.column is none -%}{%- set found.column = find_column(relation, name) -%}{%- endif -%}
        {%- endfor -%}
      {%- endif -%}
      {%- if found.column is not none -%}
        {%- do selects.append(
              "select '" ~ node.name ~ "' as source_table, max(" ~ loaded_instant(found.column)
              ~ ") as loaded_at from " ~ relation) -%}
      {%- endif -%}
    {%- endfor -%}
  {%- endif -%}
  {%- if selects -%}
    {{ selects | join('\nunion all\n') }}
  {%- else -%}
    select cast(null as {{ dbt.type_string() }}) as source_table,
        cast(null as timestamp with time zone) as loaded_at
    where 1 = 0
  {%- endif -%}
{%- endmacro %}
