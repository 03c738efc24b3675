with

bron as (
    select * from {{ source('raw', 'programma_registraties') }}
    where {{ uit_geaccepteerde_levering() }}
),

hernoemd as (
    select
        -- ids
        cast(registratie_id as varchar) as registratie_id,
        -- dates
        cast(datum as date) as datum,
        -- activity
        cast(actie as integer) as actie,
        cast(activiteit as varchar) as activiteit,
        cast(niveau as varchar) as niveau,
        cast(gebied as varchar) as gebied,
        cast(aantal as integer) as aantal,
        cast(omschrijving as varchar) as omschrijving,
        -- delivery
        cast(_levering_id as varchar) as levering_id,
        cast(_periode as varchar) as periode,
        cast(_leverancier as varchar) as leverancier,
        cast(_rij as integer) as rij
    from bron
)

select * from hernoemd
