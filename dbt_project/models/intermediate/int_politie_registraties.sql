{#- The police rule of taxonomy.md, in one place: one registration -> one delictsvorm,
    plus the registered and the harmonised hoofdcategorie. All mappings come from seeds. -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='sync_all_columns',
        pre_hook="{{ verwijder_vervallen_leveringen([ref('stg_politie_registraties__registraties')]) }}"
    )
}}
with

registraties as (
    select * from {{ ref('stg_politie_registraties__registraties') }}
    where {{ nieuwe_levering() }}
),

klassen as (
    select * from {{ ref('police_klassen') }}
),

mo_delictsvormen as (
    select
        waarde as modus_operandi,
        delictsvorm
    from {{ ref('source_codes') }}
    where bron = 'politie'
      and veld = 'modus_operandi'
      and delictsvorm is not null
),

taxonomie as (
    select * from {{ ref('taxonomy') }}
),

delictsvorm_bepaald as (
    select
        registraties.*,
        klassen.is_fraude as klasse_is_fraude,
        case
            -- 1. nobody labelled it
            when registraties.online_kenmerk = 'onbekend' then 'ongelabeld'
            -- 2. not online: fraud or other, by the class
            when registraties.online_kenmerk = 'geen' then
                case when klassen.is_fraude then 'offline_fraude' else 'offline_overig' end
            -- 3. online: the modus operandi first, else the class default for the label
            when registraties.online_kenmerk in ('cybercrime', 'gedigitaliseerd') then
                coalesce(
                    mo_delictsvormen.delictsvorm,
                    case registraties.online_kenmerk
                        when 'gedigitaliseerd' then klassen.default_gedigitaliseerd
                        when 'cybercrime' then klassen.default_cybercrime
                    end
                )
        end as delictsvorm,
        case
            when registraties.online_kenmerk = 'geen' then 'offline'
            else registraties.online_kenmerk
        end as hoofdcategorie_geregistreerd
    from registraties
    left join klassen
        on registraties.maatschappelijke_klasse = klassen.maatschappelijke_klasse
    left join mo_delictsvormen
        on registraties.modus_operandi = mo_delictsvormen.modus_operandi
),

final as (
    select
        -- ids
        delictsvorm_bepaald.registratie_id,
        -- dates
        delictsvorm_bepaald.registratiedatum,
        -- police classification as registered
        delictsvorm_bepaald.soort_registratie,
        delictsvorm_bepaald.maatschappelijke_klasse,
        delictsvorm_bepaald.classificatie,
        delictsvorm_bepaald.online_kenmerk,
        delictsvorm_bepaald.modus_operandi,
        -- standardised
        delictsvorm_bepaald.delictsvorm,
        delictsvorm_bepaald.hoofdcategorie_geregistreerd,
        taxonomie.hoofdcategorie,
        delictsvorm_bepaald.klasse_is_fraude,
        -- victim
        delictsvorm_bepaald.gemeentecode,
        delictsvorm_bepaald.leeftijdsklasse,
        -- amounts
        delictsvorm_bepaald.schadebedrag_eur,
        -- flags
        delictsvorm_bepaald.doorgestuurd_om,
        -- delivery
        delictsvorm_bepaald.levering_id,
        delictsvorm_bepaald.periode,
        {{ definitie_versie() }} as definitie_versie
    from delictsvorm_bepaald
    left join taxonomie
        on delictsvorm_bepaald.delictsvorm = taxonomie.delictsvorm
)

select * from final
