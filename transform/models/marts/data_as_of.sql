-- One row: when the warehouse's data is from (the marts' as_of).
with loads as (
    {{ source_load_times() }}
)

select
    coalesce(max(loaded_at), current_timestamp) as as_of,
    case
        when max(loaded_at) is not null then 'last extraction'
        else 'build time: the loaded tables carry no load time'
    end as as_of_basis,
    count(loaded_at) as tables_with_load_time,
    current_timestamp as built_at
from loads
