-- Routing form conversion (submissions whose booking is still alive; canceled and rescheduled beside)
select
    routing_form_name as routing_form,
    submissions,
    became_booking,
    converted,
    canceled,
    rescheduled,
    round(100.0 * conversion_rate, 1) as "converted %"
from analytics.routing_form_conversion
order by routing_form_name
