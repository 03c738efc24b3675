with

bron as (
    select * from {{ source('raw', 'fraudehelpdesk_meldingen') }}
    where {{ uit_geaccepteerde_levering() }}
),

hernoemd as (
    select
        -- ids
        cast("Meldingnummer" as varchar) as meldingnummer,
        -- dates
        cast("Datum melding" as date) as datum_melding,
        -- classification
        cast("Soort melding" as varchar) as soort_melding,
        cast("Categorie" as varchar) as categorie,
        cast("Contactkanaal" as varchar) as contactkanaal,
        -- victim
        cast("Gemeente" as varchar) as gemeente,
        cast(_gemeentecode as varchar) as gemeentecode,
        cast("Leeftijd" as varchar) as leeftijdsklasse,
        -- amounts
        cast("Schade" as varchar) as schade,
        cast("Schadebedrag" as decimal(12, 2)) as schadebedrag_eur,
        -- delivery
        cast(_levering_id as varchar) as levering_id,
        cast(_periode as varchar) as periode,
        cast(_leverancier as varchar) as leverancier,
        cast(_rij as integer) as rij
    from bron
)

select * from hernoemd
