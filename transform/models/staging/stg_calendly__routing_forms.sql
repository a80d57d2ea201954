select
    uri as routing_form_uri,
    name as routing_form_name,
    status,
    organization as organization_uri,
    {{ json_length(json_column('questions')) }} as question_count,
    {{ json_column('questions') }} as questions,
    {{ utc_timestamp('created_at') }} as created_at,
    {{ utc_timestamp('updated_at') }} as updated_at,
    {{ deletion_columns(source('calendly', 'routing_forms')) }}
from {{ source('calendly', 'routing_forms') }}
