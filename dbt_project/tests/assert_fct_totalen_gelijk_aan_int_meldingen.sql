-- The fact table neither loses nor invents reports: totals per bron and soort match (the
-- complete grid has zero rows for a bron and soort without reports).
-- In Dagster a check on fct_meldingen_kwartaal (a singular test with several refs needs the one it belongs to).
{{ config(meta={'dagster': {'ref': {'name': 'fct_meldingen_kwartaal'}}}) }}
with fct as (
    select bron, soort, sum(aantal) as aantal, sum(schadebedrag_eur) as schade
    from {{ ref('fct_meldingen_kwartaal') }}
    group by bron, soort
),
bron as (
    select bron, soort, count(*) as aantal, coalesce(sum(schadebedrag_eur), 0) as schade
    from {{ ref('int_meldingen') }}
    group by bron, soort
)
select *
from fct
full outer join bron using (bron, soort)
where coalesce(fct.aantal, 0) <> coalesce(bron.aantal, 0)
   or coalesce(fct.schade, 0) <> coalesce(bron.schade, 0)
