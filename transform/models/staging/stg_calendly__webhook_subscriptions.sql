select
    uri as webhook_subscription_uri,
    callback_url,
    state,
    scope,
    organization as organization_uri,
    {{ keyword_column('user') }} as user_uri,
    {{ keyword_column('group') }} as group_uri,
    creator as creator_uri,
    {{ json_column('events') }} as events,
    {{ utc_timestamp('retry_started_at') }} as retry_started_at,
    {{ utc_timestamp('created_at') }} as created_at,
    {{ utc_timestamp('updated_at') }} as updated_at,
    {{ deletion_columns(source('calendly', 'webhook_subscriptions')) }}
from {{ source('calendly', 'webhook_subscriptions') }}
