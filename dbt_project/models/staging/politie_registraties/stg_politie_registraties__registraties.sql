with

bron as (
    select * from {{ source('raw', 'politie_registraties') }}
    where {{ uit_geaccepteerde_levering() }}
),

hernoemd as (
    select
        -- ids
        cast(registratie_id as varchar) as registratie_id,
        -- dates
        cast(registratiedatum as date) as registratiedatum,
        cast(pleegdatum as date) as pleegdatum,
        -- classification
        cast(soort_registratie as varchar) as soort_registratie,
        cast(maatschappelijke_klasse as varchar) as maatschappelijke_klasse,
        cast(classificatie as varchar) as classificatie,
        cast(online_kenmerk as varchar) as online_kenmerk,
        cast(modus_operandi as varchar) as modus_operandi,
        -- victim
        cast(gemeentecode as varchar) as gemeentecode,
        cast(slachtoffer_type as varchar) as slachtoffer_type,
        cast(leeftijdsklasse as varchar) as leeftijdsklasse,
        -- amounts
        cast(schadebedrag_eur as decimal(12, 2)) as schadebedrag_eur,
        -- flags
        cast(verdachte_bekend as varchar) as verdachte_bekend,
        cast(doorgestuurd_om as varchar) as doorgestuurd_om,
        -- delivery
        cast(_levering_id as varchar) as levering_id,
        cast(_periode as varchar) as periode,
        cast(_leverancier as varchar) as leverancier,
        cast(_rij as integer) as rij
    from bron
)

select * from hernoemd
