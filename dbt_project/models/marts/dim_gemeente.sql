with

gemeenten as (
    select * from {{ ref('gemeenten_midden_nederland') }}
)

select
    cast(gemeentecode as varchar) as gemeentecode,
    cast(gemeente as varchar) as gemeente,
    cast(basisteam as varchar) as basisteam,
    cast(district as varchar) as district,
    cast(eenheid as varchar) as eenheid,
    cast(veiligheidsregio_code as varchar) as veiligheidsregio_code,
    cast(veiligheidsregio as varchar) as veiligheidsregio
from gemeenten
