-- One row per UTC week (of the meeting's start) and host: a booking counts for every host of
-- its meeting (a collective or round-robin meeting's booking counts for each of its hosts).
with bookings_per_host as (
    select
        hosts.user_uri as host_user_uri,
        coalesce(users.user_name, hosts.user_name, hosts.user_uri) as host_name,
        bookings.*
    from {{ ref('bookings') }} as bookings
    inner join {{ ref('stg_calendly__event_hosts') }} as hosts
        on hosts.event_uri = bookings.event_uri
    left join {{ ref('stg_calendly__users') }} as users on users.user_uri = hosts.user_uri
)

{{ weekly_booking_metrics(
    bookings='bookings_per_host',
    group_columns=['host_user_uri', 'host_name'],
) }}
