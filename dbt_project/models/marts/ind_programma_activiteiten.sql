{#- What the programme did per area and year, so a basisteam or municipality sees its own
    activity next to the region's progress. A registration counts for its own area and every
    area above it: a gemeente's for its basisteam, district and eenheid, a basisteam's for its
    district and eenheid, and so on; a registration for the whole region (niveau regio) only for
    the eenheid. -#}
with

programma as (
    select
        registratie_id,
        cast(extract(year from datum) as integer) as jaar,
        activiteit,
        -- the feed says regio where the reference list says eenheid
        case when niveau = 'regio' then 'eenheid' else niveau end as regio_niveau,
        gebied,
        aantal
    from {{ ref('stg_programma_registraties__registraties') }}
),

regio as (
    select * from {{ ref('int_gemeente_regio') }}
),

doelen as (
    select * from {{ ref('programma_doelen') }}
),

niveaus as (
    select * from (values
        ('gemeente', 1), ('basisteam', 2), ('district', 3), ('eenheid', 4)
    ) as n (regio_niveau, rang)
),

-- every area a registration counts for: the areas of its level or above that contain one of
-- the municipalities of its own area
per_gebied as (
    select distinct programma.registratie_id, programma.jaar, programma.activiteit, programma.aantal,
                    boven.regio_niveau, boven.regio_code
    from programma
    inner join regio as eigen
        on programma.regio_niveau = eigen.regio_niveau and programma.gebied = eigen.regio_code
    inner join regio as boven on eigen.gemeentecode = boven.gemeentecode
    inner join niveaus as eigen_niveau on programma.regio_niveau = eigen_niveau.regio_niveau
    inner join niveaus as boven_niveau on boven.regio_niveau = boven_niveau.regio_niveau
    where boven_niveau.rang >= eigen_niveau.rang
),

tellingen as (
    select jaar, regio_niveau, regio_code, activiteit, sum(aantal) as aantal
    from per_gebied
    group by all
),

jaren as (
    select distinct jaar from programma
),

-- the activities registered, and those the annual plan measures, so a zero is a published 0
activiteiten as (
    select distinct activiteit from programma
    union
    select distinct meting from doelen where bron = 'programma'
),

regios as (
    select distinct regio_niveau, regio_code, regio_naam from regio
),

final as (
    select
        cast(jaren.jaar as integer) as jaar,
        cast(regios.regio_niveau as varchar) as regio_niveau,
        cast(regios.regio_code as varchar) as regio_code,
        cast(regios.regio_naam as varchar) as regio_naam,
        cast(activiteiten.activiteit as varchar) as activiteit,
        cast(coalesce(tellingen.aantal, 0) as bigint) as aantal
    from jaren
    cross join regios
    cross join activiteiten
    left join tellingen
        on jaren.jaar = tellingen.jaar
        and regios.regio_niveau = tellingen.regio_niveau
        and regios.regio_code = tellingen.regio_code
        and activiteiten.activiteit = tellingen.activiteit
)

select * from final
