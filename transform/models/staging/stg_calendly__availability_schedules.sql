select
    uri as availability_schedule_uri,
    {{ keyword_column('user') }} as user_uri,
    name as schedule_name,
    {{ keyword_column('default') }} as is_default,
    timezone,
    {{ json_length(json_column('rules')) }} as rule_count,
    {{ json_column('rules') }} as rules,
    {{ deletion_columns(source('calendly', 'availability_schedules')) }}
from {{ source('calendly', 'availability_schedules') }}
