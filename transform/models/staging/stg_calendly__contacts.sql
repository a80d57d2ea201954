-- One row per contact (the token owner's Calendly contacts).
select
    uri as contact_uri,
    {{ optional_column(source('calendly', 'contacts'), 'name') }} as contact_name,
    {{ optional_column(source('calendly', 'contacts'), 'job_title') }} as job_title,
    company,
    country,
    state as region,
    {{ optional_column(source('calendly', 'contacts'), 'city') }} as city,
    timezone,
    {{ json_length(json_column(optional_column(source('calendly', 'contacts'), 'emails', 'json'))) }} as email_count,
    {{ utc_timestamp('created_at') }} as created_at,
    {{ utc_timestamp('updated_at') }} as updated_at,
    {{ deletion_columns(source('calendly', 'contacts')) }}
from {{ source('calendly', 'contacts') }}
