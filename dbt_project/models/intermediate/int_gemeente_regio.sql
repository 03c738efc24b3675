{#- Every municipality with each region it belongs to, one row per region level, so marts
    aggregate all levels with one join. -#}
with

gemeenten as (
    select * from {{ ref('gemeenten_midden_nederland') }}
),

final as (
    select gemeentecode, 'gemeente' as regio_niveau, gemeentecode as regio_code, gemeente as regio_naam
    from gemeenten
    union all
    select gemeentecode, 'basisteam', basisteam, basisteam from gemeenten
    union all
    select gemeentecode, 'district', district, district from gemeenten
    union all
    select gemeentecode, 'eenheid', eenheid, eenheid from gemeenten
)

select * from final
