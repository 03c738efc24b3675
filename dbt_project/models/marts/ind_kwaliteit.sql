with

leveringen as (
    select * from {{ ref('stg_leveringen__leveringen') }}
),

bronnen as (
    select * from {{ ref('bronnen') }}
),

politie as (
    select * from {{ ref('int_meldingen') }}
    where bron = 'politie'
),

-- a rejected delivery that a later version of the same feed, period and supplier put right:
-- the partner fixed it, so it no longer counts against the source
hersteld as (
    select afgekeurd.levering_id
    from leveringen as afgekeurd
    inner join leveringen as later
        on later.feed = afgekeurd.feed
        and later.periode = afgekeurd.periode
        and later.leverancier is not distinct from afgekeurd.leverancier
        and (coalesce(later.versie, 1) > coalesce(afgekeurd.versie, 1) or later.ontvangen_op > afgekeurd.ontvangen_op)
        and later.status in ('geaccepteerd', 'geaccepteerd_met_afkeur', 'vervangen')
    where afgekeurd.status = 'afgekeurd'
),

-- the deliveries that stand: a duplicate was not processed again, a replaced version no
-- longer counts (its correction does), nor does a rejection a later version put right
per_levering as (
    select
        bronnen.bron,
        cast(left(leveringen.periode, 4) as integer) as jaar,
        leveringen.status,
        coalesce(leveringen.rijen_totaal,
                 coalesce(leveringen.rijen_geaccepteerd, 0) + coalesce(leveringen.rijen_afgekeurd, 0)) as rijen_ontvangen,
        coalesce(leveringen.rijen_geaccepteerd, 0) as rijen_geaccepteerd,
        coalesce(leveringen.rijen_afgekeurd,
                 coalesce(leveringen.rijen_totaal, 0) - coalesce(leveringen.rijen_geaccepteerd, 0)) as rijen_afgekeurd
    from leveringen
    inner join bronnen on leveringen.feed = bronnen.feed
    where leveringen.status not in ('duplicaat', 'vervangen')
      and leveringen.periode is not null
      and leveringen.levering_id not in (select levering_id from hersteld)
),

ontvangst as (
    select
        jaar,
        bron,
        count(*) as leveringen,
        sum(case when status = 'afgekeurd' then 1 else 0 end) as leveringen_afgekeurd,
        sum(rijen_ontvangen) as rijen_ontvangen,
        sum(rijen_geaccepteerd) as rijen_geaccepteerd,
        sum(rijen_afgekeurd) as rijen_afgekeurd
    from per_levering
    group by jaar, bron
),

labels as (
    select
        jaar,
        'politie' as bron,
        count(*) as registraties,
        sum(case when delictsvorm = 'ongelabeld' then 1 else 0 end) as ongelabeld,
        sum(case when hoofdcategorie_geregistreerd <> hoofdcategorie then 1 else 0 end) as afwijkend
    from politie
    group by jaar
),

final as (
    select
        cast(coalesce(ontvangst.jaar, labels.jaar) as integer) as jaar,
        cast(coalesce(ontvangst.bron, labels.bron) as varchar) as bron,
        cast(coalesce(ontvangst.leveringen, 0) as bigint) as leveringen,
        cast(coalesce(ontvangst.leveringen_afgekeurd, 0) as bigint) as leveringen_afgekeurd,
        cast(coalesce(ontvangst.rijen_ontvangen, 0) as bigint) as rijen_ontvangen,
        cast(coalesce(ontvangst.rijen_geaccepteerd, 0) as bigint) as rijen_geaccepteerd,
        cast(coalesce(ontvangst.rijen_afgekeurd, 0) as bigint) as rijen_afgekeurd,
        {{ percentage('ontvangst.rijen_afgekeurd', 'ontvangst.rijen_ontvangen') }} as pct_rijen_afgekeurd,
        -- police only: how much is unlabelled, and where the two hoofdcategorieën differ
        cast(labels.registraties as bigint) as registraties,
        cast(labels.ongelabeld as bigint) as ongelabeld,
        {{ percentage('labels.ongelabeld', 'labels.registraties') }} as pct_ongelabeld,
        cast(labels.afwijkend as bigint) as hoofdcategorie_afwijkend,
        {{ percentage('labels.afwijkend', 'labels.registraties') }} as pct_hoofdcategorie_afwijkend
    from ontvangst
    full outer join labels
        on ontvangst.jaar = labels.jaar
        and ontvangst.bron = labels.bron
)

select * from final
