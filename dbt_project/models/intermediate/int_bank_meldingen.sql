{#- Bank reports standardised through source_codes (fraudetype) and kanaal_codes. -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='sync_all_columns',
        pre_hook="{{ verwijder_vervallen_leveringen([ref('stg_bank_fraudemeldingen__meldingen')]) }}"
    )
}}
with

meldingen as (
    select * from {{ ref('stg_bank_fraudemeldingen__meldingen') }}
    where {{ nieuwe_levering() }}
),

fraudetypen as (
    select waarde as fraudetype, delictsvorm
    from {{ ref('source_codes') }}
    where bron = 'bank' and veld = 'fraudetype'
),

kanalen as (
    select waarde, kanaal
    from {{ ref('kanaal_codes') }}
    where bron = 'bank' and veld = 'kanaal'
),

taxonomie as (
    select * from {{ ref('taxonomy') }}
),

final as (
    select
        -- ids
        meldingen.bank || ':' || meldingen.melding_id as melding_id,
        meldingen.bank,
        -- dates
        meldingen.meldingsdatum,
        -- standardised
        fraudetypen.delictsvorm,
        taxonomie.hoofdcategorie,
        taxonomie.is_fraude,
        kanalen.kanaal,
        -- customer
        meldingen.gemeentecode,
        meldingen.klanttype,
        meldingen.leeftijdsklasse,
        -- amounts
        meldingen.schadebedrag_eur,
        meldingen.vergoed_bedrag_eur,
        -- delivery
        meldingen.levering_id,
        meldingen.periode,
        {{ definitie_versie() }} as definitie_versie
    from meldingen
    left join fraudetypen on meldingen.fraudetype = fraudetypen.fraudetype
    left join kanalen on meldingen.kanaal = kanalen.waarde
    left join taxonomie on fraudetypen.delictsvorm = taxonomie.delictsvorm
)

select * from final
