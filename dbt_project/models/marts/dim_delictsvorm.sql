with

taxonomie as (
    select * from {{ ref('taxonomy') }}
)

select
    cast(delictsvorm as varchar) as delictsvorm,
    cast(label as varchar) as label,
    cast(hoofdcategorie as varchar) as hoofdcategorie,
    cast(delictgroep as varchar) as delictgroep,
    cast(is_fraude as boolean) as is_fraude
from taxonomie
