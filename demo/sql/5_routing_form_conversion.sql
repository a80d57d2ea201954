-- Routing form conversion (submissions that became bookings)
select
    routing_form_name as routing_form,
    submissions,
    routed_to_event_type,
    became_booking,
    round(100.0 * conversion_rate, 1) as "converted %"
from analytics.routing_form_conversion
order by routing_form_name
