-- The monthly dossier counts obey the HCC-06 identities the form itself is checked against.
select *
from {{ ref('fct_ho_so_thang') }}
where
    received_total != carried_over + received_online + received_direct
    or received_total != resolved_total + pending_total
    or resolved_total != resolved_early + resolved_on_time + resolved_late
    or pending_total != pending_in_time + pending_late
