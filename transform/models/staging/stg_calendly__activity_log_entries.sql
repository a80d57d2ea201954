with entries as (
    select *, {{ json_column('actor') }} as actor_json
    from {{ source('calendly', 'activity_log_entries') }}
)

select
    uri as activity_log_entry_uri,
    {{ utc_timestamp('occurred_at') }} as occurred_at,
    namespace,
    action,
    fully_qualified_name,
    {{ json_text('actor_json', 'uri') }} as actor_uri,
    {{ json_text('actor_json', 'type') }} as actor_type,
    {{ json_column(optional_column(source('calendly', 'activity_log_entries'), 'details', 'json')) }} as details,
    organization as organization_uri,
    {{ deletion_columns(source('calendly', 'activity_log_entries')) }}
from entries
