with submissions as (
    select
        *,
        {{ json_column('result') }} as result_json,
        {{ json_column('tracking') }} as tracking_json
    from {{ source('calendly', 'routing_form_submissions') }}
)

select
    uri as routing_form_submission_uri,
    routing_form as routing_form_uri,
    submitter as submitter_uri,
    submitter_type,
    {{ json_text('result_json', 'type') }} as result_type,
    -- The routed-to event type, when the form routed to one (else a message or a URL).
    case
        when {{ json_text('result_json', 'type') }} = 'event_type'
            then {{ json_text('result_json', 'value') }}
    end as routed_event_type_uri,
    {{ json_text('tracking_json', 'utm_source') }} as utm_source,
    {{ json_column(optional_column(source('calendly', 'routing_form_submissions'), 'questions_and_answers', 'json')) }} as questions_and_answers,
    {{ utc_timestamp('created_at') }} as created_at,
    {{ utc_timestamp('updated_at') }} as updated_at,
    {{ deletion_columns(source('calendly', 'routing_form_submissions')) }}
from submissions
