{#- The column of a loaded table named `column` (any case), or none when the table lacks it. -#}
{% macro find_column(relation, column) -%}
  {%- if execute -%}
    {%- for existing in adapter.get_columns_in_relation(relation) -%}
      {%- if existing.name | lower == column | lower -%}{{ return(existing) }}{%- endif -%}
    {%- endfor -%}
  {%- endif -%}
  {{ return(none) }}
{%- endmacro %}

{#-
  A source column that a stream map may have removed (the PII recipe in the README drops emails,
  names, phone numbers, answers...): the column when the loaded table has it, else a typed NULL,
  so the models build either way.
-#}
{% macro optional_column(relation, column, kind='string') -%}
  {%- if find_column(relation, column) is not none -%}
    {{ adapter.quote(column) }}
  {%- elif kind == 'json' -%}
    cast(null as {{ 'jsonb' if target.type == 'postgres' else 'json' }})
  {%- else -%}
    cast(null as {{ dbt.type_string() }})
  {%- endif -%}
{%- endmacro %}
