{#- Generic test: a rate is a share, between 0 and 1 (NULL allowed: no denominator). -#}
{% test between_zero_and_one(model, column_name) %}
select {{ column_name }} as out_of_range
from {{ model }}
where {{ column_name }} < 0 or {{ column_name }} > 1
{% endtest %}

{#- Generic test: `total` = the sum of `parts` on every row (fates adding up to bookings). -#}
{% test adds_up(model, total, parts) %}
select {{ total }}, {{ parts | join(', ') }}
from {{ model }}
where {{ total }} <> {{ parts | join(' + ') }}
{% endtest %}

{#-
  Generic test: the model was built from the loaded tables as they are now. Its as-of column is
  not older than the latest load time of any loaded table (source_load_times); a load after the
  build fails it. Tables without a load time (a loader adding no metadata) cannot be judged here:
  matches_rows_of compares the rows themselves.
-#}
{% test not_older_than_sources(model, column_name) %}
with loads as (
    {{ source_load_times() }}
)
select {{ column_name }} as as_of, (select max(loaded_at) from loads) as last_loaded_at
from {{ model }}
where {{ column_name }} < (select max(loaded_at) from loads)
{% endtest %}

{#-
  Generic test: the model (a table) holds the same rows as `to` (a staging view, which reads the
  loaded tables as they are now), compared on `columns` / `to_columns`; only its live rows unless live_only=false.
  A load after the build that adds, removes or changes a row fails it.
-#}
{% test matches_rows_of(model, to, columns, to_columns, live_only=true) %}
with built as (
    select {{ columns | join(', ') }} from {{ model }}
),

current_rows as (
    select {{ to_columns | join(', ') }} from {{ to }}{% if live_only %} where not is_deleted{% endif %}
),

only_built as (
    select * from built
    except
    select * from current_rows
),

only_current as (
    select * from current_rows
    except
    select * from built
)

select 'only in the mart' as difference, * from only_built
union all
select 'only in the loaded tables' as difference, * from only_current
{% endtest %}

{#- Generic test: the column never exceeds `bound` (an expression over the same row). -#}
{% test at_most(model, column_name, bound) %}
select {{ column_name }}, {{ bound }} as bound
from {{ model }}
where {{ column_name }} > {{ bound }}
{% endtest %}
