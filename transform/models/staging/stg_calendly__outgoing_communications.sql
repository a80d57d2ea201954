-- `to` and `from` are SQL keywords: renamed recipient and sender_address.
select
    event_uri,
    event_type_uri,
    {{ keyword_column('type') }} as channel,
    {{ keyword_column('to') }} as recipient,
    {{ keyword_column('from') }} as sender_address,
    sender_uri,
    {{ optional_column(source('calendly', 'outgoing_communications'), 'sender_email') }} as sender_email,
    {{ optional_column(source('calendly', 'outgoing_communications'), 'subject') }} as subject,
    scheduling_url,
    {{ utc_timestamp('sent_at') }} as sent_at,
    {{ utc_timestamp('created_at') }} as created_at,
    {{ deletion_columns(source('calendly', 'outgoing_communications')) }}
from {{ source('calendly', 'outgoing_communications') }}
