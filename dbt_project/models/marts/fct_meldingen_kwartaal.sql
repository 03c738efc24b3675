with

meldingen as (
    select * from {{ ref('int_meldingen') }}
),

final as (
    select
        cast(kwartaal as varchar) as kwartaal,
        cast(jaar as integer) as jaar,
        cast(gemeentecode as varchar) as gemeentecode,
        cast(bron as varchar) as bron,
        cast(soort as varchar) as soort,
        cast(delictsvorm as varchar) as delictsvorm,
        cast(count(*) as bigint) as aantal,
        {{ bedrag('coalesce(sum(schadebedrag_eur), 0)') }} as schadebedrag_eur
    from meldingen
    group by kwartaal, jaar, gemeentecode, bron, soort, delictsvorm
)

select * from final
