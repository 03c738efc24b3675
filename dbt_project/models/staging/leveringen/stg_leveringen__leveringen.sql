with

bron as (
    select * from {{ source('raw', 'deliveries') }}
),

hernoemd as (
    select
        -- ids
        cast(levering_id as varchar) as levering_id,
        cast(feed as varchar) as feed,
        cast(bestandsnaam as varchar) as bestandsnaam,
        cast(periode as varchar) as periode,
        cast(leverancier as varchar) as leverancier,
        cast(versie as integer) as versie,
        cast(sha256 as varchar) as sha256,
        cast(contractversie as varchar) as contractversie,
        -- outcome
        cast(status as varchar) as status,
        cast(rijen_totaal as bigint) as rijen_totaal,
        cast(rijen_geaccepteerd as bigint) as rijen_geaccepteerd,
        cast(rijen_afgekeurd as bigint) as rijen_afgekeurd,
        -- timestamps
        ontvangen_op,
        verwerkt_op,
        -- references
        cast(archiefpad as varchar) as archiefpad,
        cast(ontvangstbewijs as varchar) as ontvangstbewijs,
        problemen,
        cast(vervangen_door as varchar) as vervangen_door
    from bron
)

select * from hernoemd
