with

bron as (
    select * from {{ source('raw', 'bank_fraudemeldingen') }}
    where {{ uit_geaccepteerde_levering() }}
),

hernoemd as (
    select
        -- ids
        cast(melding_id as varchar) as melding_id,
        cast(bank as varchar) as bank,
        -- dates
        cast(meldingsdatum as date) as meldingsdatum,
        -- classification
        cast(fraudetype as varchar) as fraudetype,
        cast(kanaal as varchar) as kanaal,
        -- customer
        cast(gemeentecode as varchar) as gemeentecode,
        cast(klanttype as varchar) as klanttype,
        cast(leeftijdsklasse as varchar) as leeftijdsklasse,
        -- amounts
        cast(schadebedrag as decimal(12, 2)) as schadebedrag_eur,
        cast(vergoed_bedrag as decimal(12, 2)) as vergoed_bedrag_eur,
        -- flags
        cast(aangifte_gedaan as varchar) as aangifte_gedaan,
        -- delivery
        cast(_levering_id as varchar) as levering_id,
        cast(_periode as varchar) as periode,
        cast(_leverancier as varchar) as leverancier,
        cast(_rij as integer) as rij
    from bron
)

select * from hernoemd
