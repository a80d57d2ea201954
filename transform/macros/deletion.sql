{#-
  Deletion as the loaders record it. A row that vanished from Calendly arrives as a record of its
  stream carrying its key and `_sdc_deleted_at` (the Singer convention). A loader with hard_delete
  removes the row; one without keeps it with the marker set, its other columns NULL when the
  record replaced the row. A table loaded without the column has no deleted rows.
-#}

{#- `_sdc_deleted_at` of a loaded table as an instant (NULL when the table lacks the column). -#}
{% macro sdc_deleted_at(relation) -%}
  {%- set column = find_column(relation, '_sdc_deleted_at') -%}
  {%- if column is none -%}
    cast(null as timestamp with time zone)
  {%- else -%}
    {{ loaded_instant(column) }}
  {%- endif -%}
{%- endmacro %}

{#-
  The two columns every staging model ends with: is_deleted and deleted_at. `also` is a
  deletion time of Calendly's own (event types are soft-deleted with deleted_at).
-#}
{% macro deletion_columns(relation, also=none) -%}
  {%- set deleted_at = sdc_deleted_at(relation) if also is none
      else 'coalesce(' ~ sdc_deleted_at(relation) ~ ', ' ~ also ~ ')' -%}
    {{ deleted_at }} is not null as is_deleted,
    {{ deleted_at }} as deleted_at
{%- endmacro %}
