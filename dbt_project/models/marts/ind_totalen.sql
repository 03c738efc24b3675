{#- Region totals over all delictsvormen per quarter and per year, bron and soort: the headline
    figures, so a report never adds up visible cells. Built on the complete grid of
    fct_meldingen_kwartaal, so every period × region × bron × soort has a row (zeros included).
    `max_schade` (the largest single damage) feeds the dominance rule and is not published. -#}
with

kwartaal as (
    select * from {{ ref('fct_meldingen_kwartaal') }}
),

meldingen as (
    select * from {{ ref('int_meldingen') }}
),

regio as (
    select * from {{ ref('int_gemeente_regio') }}
),

per_periode as (
    select kwartaal.kwartaal as periode, regio.regio_niveau, regio.regio_code, kwartaal.bron, kwartaal.soort,
           sum(kwartaal.aantal) as aantal, sum(kwartaal.schadebedrag_eur) as schadebedrag_eur
    from kwartaal
    inner join regio on kwartaal.gemeentecode = regio.gemeentecode
    group by all
    union all
    select cast(kwartaal.jaar as varchar), regio.regio_niveau, regio.regio_code, kwartaal.bron, kwartaal.soort,
           sum(kwartaal.aantal), sum(kwartaal.schadebedrag_eur)
    from kwartaal
    inner join regio on kwartaal.gemeentecode = regio.gemeentecode
    group by all
),

grootste as (
    select meldingen.kwartaal as periode, regio.regio_niveau, regio.regio_code, meldingen.bron, meldingen.soort,
           max(meldingen.schadebedrag_eur) as max_schade
    from meldingen
    inner join regio on meldingen.gemeentecode = regio.gemeentecode
    group by all
    union all
    select cast(meldingen.jaar as varchar), regio.regio_niveau, regio.regio_code, meldingen.bron, meldingen.soort,
           max(meldingen.schadebedrag_eur)
    from meldingen
    inner join regio on meldingen.gemeentecode = regio.gemeentecode
    group by all
),

final as (
    select
        cast(per_periode.periode as varchar) as periode,
        cast(per_periode.regio_niveau as varchar) as regio_niveau,
        cast(per_periode.regio_code as varchar) as regio_code,
        cast(per_periode.bron as varchar) as bron,
        cast(per_periode.soort as varchar) as soort,
        cast(per_periode.aantal as bigint) as aantal,
        {{ bedrag('per_periode.schadebedrag_eur') }} as schadebedrag_eur,
        cast(grootste.max_schade as double) as max_schade
    from per_periode
    left join grootste
        on per_periode.periode = grootste.periode
        and per_periode.regio_niveau = grootste.regio_niveau
        and per_periode.regio_code = grootste.regio_code
        and per_periode.bron = grootste.bron
        and per_periode.soort = grootste.soort
)

select * from final
