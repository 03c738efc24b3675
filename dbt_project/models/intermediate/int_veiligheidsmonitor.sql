{#- The Veiligheidsmonitor with its three margins side by side. -#}
with

waarden as (
    select * from {{ ref('stg_veiligheidsmonitor__waarden') }}
),

final as (
    select
        jaar,
        regio_code,
        onderwerp,
        max(case when marge = 'MW00000' then waarde end) as waarde,
        max(case when marge = 'MOG0095' then waarde end) as ondergrens,
        max(case when marge = 'MBG0095' then waarde end) as bovengrens
    from waarden
    group by jaar, regio_code, onderwerp
)

select
    *,
    waarde is not null as betrouwbaar
from final
