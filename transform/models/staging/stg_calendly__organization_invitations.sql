select
    uri as invitation_uri,
    organization as organization_uri,
    {{ optional_column(source('calendly', 'organization_invitations'), 'email') }} as invitee_email,
    status,
    {{ keyword_column('user') }} as user_uri,
    {{ utc_timestamp('last_sent_at') }} as last_sent_at,
    {{ utc_timestamp('created_at') }} as created_at,
    {{ utc_timestamp('updated_at') }} as updated_at,
    {{ deletion_columns(source('calendly', 'organization_invitations')) }}
from {{ source('calendly', 'organization_invitations') }}
