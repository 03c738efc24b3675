{#- The complete grid: every quarter a source delivered × every gemeente × that source's soorten ×
    every delictsvorm, with explicit zeros, so that a row's presence says nothing about a hidden
    count (published_tables.md, disclosure control). -#}
with

meldingen as (
    select * from {{ ref('int_meldingen') }}
),

gemeenten as (
    select gemeentecode from {{ ref('gemeenten_midden_nederland') }}
),

delictsvormen as (
    select delictsvorm from {{ ref('taxonomy') }}
),

-- the soorten each source reports (bank and Fraudehelpdesk rows are always a melding)
bron_soort as (
    select * from (values
        ('politie', 'aangifte'), ('politie', 'melding'), ('bank', 'melding'), ('fraudehelpdesk', 'melding')
    ) as t (bron, soort)
),

kwartalen as (
    select distinct bron, kwartaal, jaar from meldingen
),

raster as (
    select kwartalen.kwartaal, kwartalen.jaar, gemeenten.gemeentecode, bron_soort.bron, bron_soort.soort,
           delictsvormen.delictsvorm
    from kwartalen
    inner join bron_soort on kwartalen.bron = bron_soort.bron
    cross join gemeenten
    cross join delictsvormen
),

tellingen as (
    select kwartaal, gemeentecode, bron, soort, delictsvorm,
           count(*) as aantal, coalesce(sum(schadebedrag_eur), 0) as schadebedrag_eur
    from meldingen
    group by kwartaal, gemeentecode, bron, soort, delictsvorm
),

final as (
    select
        cast(raster.kwartaal as varchar) as kwartaal,
        cast(raster.jaar as integer) as jaar,
        cast(raster.gemeentecode as varchar) as gemeentecode,
        cast(raster.bron as varchar) as bron,
        cast(raster.soort as varchar) as soort,
        cast(raster.delictsvorm as varchar) as delictsvorm,
        cast(coalesce(tellingen.aantal, 0) as bigint) as aantal,
        {{ bedrag('coalesce(tellingen.schadebedrag_eur, 0)') }} as schadebedrag_eur
    from raster
    left join tellingen
        on raster.kwartaal = tellingen.kwartaal
        and raster.gemeentecode = tellingen.gemeentecode
        and raster.bron = tellingen.bron
        and raster.soort = tellingen.soort
        and raster.delictsvorm = tellingen.delictsvorm
)

select * from final
