-- One row per email of a live contact, lowercased (contacts match invitees by email, ignoring case).
with emails as (
    select
        uri as contact_uri,
        {{ json_elements(json_column(optional_column(source('calendly', 'contacts'), 'emails', 'json'))) }} as email_json
    from {{ source('calendly', 'contacts') }}
    where {{ sdc_deleted_at(source('calendly', 'contacts')) }} is null
)

select
    contact_uri,
    lower({{ json_text('email_json', 'email') }}) as email,
    coalesce(cast({{ json_text('email_json', 'is_primary') }} as boolean), false) as is_primary
from emails
