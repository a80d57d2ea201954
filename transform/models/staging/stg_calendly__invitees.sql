with invitees as (
    select
        *,
        {{ json_column('tracking') }} as tracking_json,
        {{ json_column('cancellation') }} as cancellation_json,
        {{ json_column('no_show') }} as no_show_json,
        {{ json_column('payment') }} as payment_json
    from {{ source('calendly', 'invitees') }}
)

select
    uri as invitee_uri,
    {{ uuid_of('uri') }} as invitee_uuid,
    event as event_uri,
    status,
    {{ optional_column(source('calendly', 'invitees'), 'email') }} as invitee_email,
    {{ optional_column(source('calendly', 'invitees'), 'name') }} as invitee_name,
    {{ optional_column(source('calendly', 'invitees'), 'first_name') }} as first_name,
    {{ optional_column(source('calendly', 'invitees'), 'last_name') }} as last_name,
    {{ optional_column(source('calendly', 'invitees'), 'text_reminder_number') }} as text_reminder_number,
    timezone,
    coalesce(rescheduled, false) as is_rescheduled,
    old_invitee as old_invitee_uri,
    new_invitee as new_invitee_uri,
    routing_form_submission as routing_form_submission_uri,
    scheduling_method,
    invitee_scheduled_by,
    {{ json_text('tracking_json', 'utm_source') }} as utm_source,
    {{ json_text('tracking_json', 'utm_medium') }} as utm_medium,
    {{ json_text('tracking_json', 'utm_campaign') }} as utm_campaign,
    {{ json_text('tracking_json', 'utm_content') }} as utm_content,
    {{ json_text('tracking_json', 'utm_term') }} as utm_term,
    {{ json_text('tracking_json', 'salesforce_uuid') }} as salesforce_uuid,
    cancellation_json is not null as is_canceled,
    {{ json_text('cancellation_json', 'canceled_by') }} as canceled_by,
    {{ json_text('cancellation_json', 'canceler_type') }} as canceler_type,
    {{ json_text('cancellation_json', 'reason') }} as cancellation_reason,
    {{ json_timestamp('cancellation_json', 'created_at') }} as canceled_at,
    no_show_json is not null as is_no_show,
    {{ json_text('no_show_json', 'uri') }} as no_show_uri,
    {{ json_timestamp('no_show_json', 'created_at') }} as no_show_marked_at,
    payment_json is not null as has_payment,
    {{ json_column(optional_column(source('calendly', 'invitees'), 'questions_and_answers', 'json')) }} as questions_and_answers,
    {{ utc_timestamp('created_at') }} as created_at,
    {{ utc_timestamp('updated_at') }} as updated_at,
    {{ deletion_columns(source('calendly', 'invitees')) }}
from invitees
