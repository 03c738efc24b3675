{#- Who is hit: victims per age band and per contact channel, so prevention can aim at the
    groups and channels that stand out. Victims are police registrations (aangiften and
    meldingen) of online delictsvormen, bank fraud reports and Fraudehelpdesk victim reports. -#}
with

meldingen as (
    select * from {{ ref('int_meldingen') }}
),

regio as (
    select * from {{ ref('int_gemeente_regio') }}
),

kanalen as (
    select distinct kanaal from {{ ref('kanaal_codes') }}
),

slachtoffers as (
    select jaar, gemeentecode, bron, leeftijdsklasse, kanaal
    from meldingen
    where (bron = 'politie' and hoofdcategorie in ('cybercrime', 'gedigitaliseerd'))
       or bron in ('bank', 'fraudehelpdesk')
),

-- each victim once per dimension; an empty value (organisations, not given) is 'onbekend'.
-- The police registers no channel, so it has no kanaal rows.
per_dimensie as (
    select jaar, gemeentecode, bron, 'leeftijdsklasse' as dimensie,
           coalesce(leeftijdsklasse, 'onbekend') as waarde
    from slachtoffers
    union all
    select jaar, gemeentecode, bron, 'kanaal' as dimensie, coalesce(kanaal, 'onbekend') as waarde
    from slachtoffers
    where bron <> 'politie'
),

-- the values of each dimension (partner_feeds.md), so a zero is a published 0
waarden as (
    select 'leeftijdsklasse' as dimensie, waarde
    from (values ('0-17'), ('18-24'), ('25-44'), ('45-64'), ('65+'), ('onbekend')) as w (waarde)
    union all
    select 'kanaal', kanaal from kanalen
    union all
    select 'kanaal', 'onbekend'
),

bron_dimensies as (
    select * from (values
        ('politie', 'leeftijdsklasse'),
        ('bank', 'leeftijdsklasse'),
        ('bank', 'kanaal'),
        ('fraudehelpdesk', 'leeftijdsklasse'),
        ('fraudehelpdesk', 'kanaal')
    ) as b (bron, dimensie)
),

-- a source's years are the years it has data for: a zero is then a real zero
bron_jaren as (
    select distinct bron, jaar from meldingen
),

regios as (
    select distinct regio_niveau, regio_code, regio_naam from regio
),

raster as (
    select bron_jaren.jaar, regios.regio_niveau, regios.regio_code, regios.regio_naam,
           bron_dimensies.bron, bron_dimensies.dimensie, waarden.waarde
    from bron_dimensies
    inner join bron_jaren on bron_dimensies.bron = bron_jaren.bron
    inner join waarden on bron_dimensies.dimensie = waarden.dimensie
    cross join regios
),

tellingen as (
    select per_dimensie.jaar, regio.regio_niveau, regio.regio_code, per_dimensie.bron,
           per_dimensie.dimensie, per_dimensie.waarde, count(*) as aantal
    from per_dimensie
    inner join regio on per_dimensie.gemeentecode = regio.gemeentecode
    group by all
),

-- a full join, so a value outside the raster still shows (and fails the accepted_values test)
final as (
    select
        cast(coalesce(raster.jaar, tellingen.jaar) as integer) as jaar,
        cast(coalesce(raster.regio_niveau, tellingen.regio_niveau) as varchar) as regio_niveau,
        cast(coalesce(raster.regio_code, tellingen.regio_code) as varchar) as regio_code,
        cast(coalesce(raster.regio_naam, regios.regio_naam) as varchar) as regio_naam,
        cast(coalesce(raster.bron, tellingen.bron) as varchar) as bron,
        cast(coalesce(raster.dimensie, tellingen.dimensie) as varchar) as dimensie,
        cast(coalesce(raster.waarde, tellingen.waarde) as varchar) as waarde,
        cast(coalesce(tellingen.aantal, 0) as bigint) as aantal
    from raster
    full join tellingen
        on raster.jaar = tellingen.jaar
        and raster.regio_niveau = tellingen.regio_niveau
        and raster.regio_code = tellingen.regio_code
        and raster.bron = tellingen.bron
        and raster.dimensie = tellingen.dimensie
        and raster.waarde = tellingen.waarde
    left join regios
        on tellingen.regio_niveau = regios.regio_niveau
        and tellingen.regio_code = regios.regio_code
)

select * from final
