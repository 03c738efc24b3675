with

bron as (
    select * from {{ source('raw', 'veiligheidsmonitor') }}
    where {{ uit_geaccepteerde_levering() }}
),

hernoemd as (
    select
        -- ids
        cast("ID" as bigint) as id,
        cast("RegioS" as varchar) as regio_code,
        -- period
        cast("Perioden" as varchar) as perioden,
        cast(left("Perioden", 4) as integer) as jaar,
        -- measure
        cast("Marges" as varchar) as marge,
        cast("Onderwerp" as varchar) as onderwerp,
        cast("Waarde" as decimal(10, 1)) as waarde,
        -- delivery
        cast(_levering_id as varchar) as levering_id,
        cast(_periode as varchar) as periode,
        cast(_leverancier as varchar) as leverancier,
        cast(_rij as integer) as rij
    from bron
)

select * from hernoemd
