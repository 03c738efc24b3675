{#- One row per police registration, bank report and Fraudehelpdesk victim report, in one
    shape, so every mart counts from the same rows. -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='sync_all_columns',
        pre_hook="{{ verwijder_vervallen_leveringen([ref('int_politie_registraties'), ref('int_bank_meldingen'), ref('int_fraudehelpdesk_meldingen')]) }}"
    )
}}
with

politie as (
    select * from {{ ref('int_politie_registraties') }}
    where {{ nieuwe_levering() }}
),

bank as (
    select * from {{ ref('int_bank_meldingen') }}
    where {{ nieuwe_levering() }}
),

fraudehelpdesk as (
    select * from {{ ref('int_fraudehelpdesk_meldingen') }}
    where is_slachtoffer
      and {{ nieuwe_levering() }}
),

taxonomie as (
    select * from {{ ref('taxonomy') }}
),

unioned as (
    select
        registratie_id as melding_id,
        'politie' as bron,
        soort_registratie as soort,
        registratiedatum as datum,
        gemeentecode,
        delictsvorm,
        hoofdcategorie_geregistreerd,
        hoofdcategorie,
        klasse_is_fraude as is_fraude,
        klasse_is_fraude,
        classificatie,
        schadebedrag_eur,
        leeftijdsklasse,
        cast(null as varchar) as kanaal,
        doorgestuurd_om,
        levering_id,
        periode
    from politie

    union all

    select
        melding_id,
        'bank' as bron,
        'melding' as soort,
        meldingsdatum as datum,
        gemeentecode,
        delictsvorm,
        cast(null as varchar) as hoofdcategorie_geregistreerd,
        hoofdcategorie,
        is_fraude,
        cast(null as boolean) as klasse_is_fraude,
        cast(null as varchar) as classificatie,
        schadebedrag_eur,
        leeftijdsklasse,
        kanaal,
        cast(null as varchar) as doorgestuurd_om,
        levering_id,
        periode
    from bank

    union all

    select
        meldingnummer as melding_id,
        'fraudehelpdesk' as bron,
        'melding' as soort,
        datum_melding as datum,
        gemeentecode,
        delictsvorm,
        cast(null as varchar) as hoofdcategorie_geregistreerd,
        hoofdcategorie,
        is_fraude,
        cast(null as boolean) as klasse_is_fraude,
        cast(null as varchar) as classificatie,
        schadebedrag_eur,
        leeftijdsklasse,
        kanaal,
        cast(null as varchar) as doorgestuurd_om,
        levering_id,
        periode
    from fraudehelpdesk
),

final as (
    select
        -- ids
        unioned.melding_id,
        unioned.bron,
        unioned.soort,
        -- dates
        unioned.datum,
        {{ kwartaal_label('unioned.datum') }} as kwartaal,
        cast(extract(year from unioned.datum) as integer) as jaar,
        -- where
        unioned.gemeentecode,
        -- standardised
        unioned.delictsvorm,
        unioned.hoofdcategorie_geregistreerd,
        unioned.hoofdcategorie,
        taxonomie.delictgroep,
        unioned.is_fraude,
        unioned.klasse_is_fraude,
        unioned.classificatie,
        -- amounts
        unioned.schadebedrag_eur,
        -- victim and channel
        unioned.leeftijdsklasse,
        unioned.kanaal,
        -- flags
        unioned.doorgestuurd_om,
        -- delivery
        unioned.levering_id,
        unioned.periode,
        {{ definitie_versie() }} as definitie_versie
    from unioned
    left join taxonomie on unioned.delictsvorm = taxonomie.delictsvorm
)

select * from final
