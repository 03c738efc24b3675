{#- Fraudehelpdesk reports standardised through source_codes (Categorie) and kanaal_codes.
    All reports stay here, flagged; only victims (`Slachtoffer`) go on to int_meldingen. -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='sync_all_columns',
        pre_hook="{{ verwijder_vervallen_leveringen([ref('stg_fraudehelpdesk_meldingen__meldingen')]) }}"
    )
}}
with

meldingen as (
    select * from {{ ref('stg_fraudehelpdesk_meldingen__meldingen') }}
    where {{ nieuwe_levering() }}
),

categorieen as (
    select waarde as categorie, delictsvorm
    from {{ ref('source_codes') }}
    where bron = 'fraudehelpdesk' and veld = 'Categorie'
),

kanalen as (
    select waarde, kanaal
    from {{ ref('kanaal_codes') }}
    where bron = 'fraudehelpdesk' and veld = 'Contactkanaal'
),

taxonomie as (
    select * from {{ ref('taxonomy') }}
),

final as (
    select
        -- ids
        meldingen.meldingnummer,
        -- dates
        meldingen.datum_melding,
        -- standardised
        meldingen.soort_melding,
        meldingen.soort_melding = 'Slachtoffer' as is_slachtoffer,
        categorieen.delictsvorm,
        taxonomie.hoofdcategorie,
        taxonomie.is_fraude,
        kanalen.kanaal,
        -- victim
        meldingen.gemeentecode,
        meldingen.leeftijdsklasse,
        -- amounts
        meldingen.schadebedrag_eur,
        -- delivery
        meldingen.levering_id,
        meldingen.periode,
        {{ definitie_versie() }} as definitie_versie
    from meldingen
    left join categorieen on meldingen.categorie = categorieen.categorie
    left join kanalen on meldingen.contactkanaal = kanalen.waarde
    left join taxonomie on categorieen.delictsvorm = taxonomie.delictsvorm
)

select * from final
