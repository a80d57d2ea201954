-- One row per UTC week (of the meeting's start) and event type.
{{ weekly_booking_metrics(
    bookings=ref('bookings'),
    group_columns=['event_type_uri', 'event_type_name'],
) }}
