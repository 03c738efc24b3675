{#- Progress against the annual plan's targets (seed programma_doelen). Judged against the
    latest data (peildatum), never against today's date, so a rebuild gives the same result. -#}
with

doelen as (
    select * from {{ ref('programma_doelen') }}
),

gemeenten as (
    select * from {{ ref('gemeenten_midden_nederland') }}
),

programma as (
    select
        cast(extract(year from datum) as integer) as jaar,
        activiteit, niveau, gebied, aantal, periode
    from {{ ref('stg_programma_registraties__registraties') }}
),

politie as (
    select * from {{ ref('int_meldingen') }}
    where bron = 'politie'
),

vm as (
    select * from {{ ref('int_veiligheidsmonitor') }}
    where regio_code = '{{ var("vm_regio_eenheid") }}'
),

-- the years each source has data for, and the last day its data covers
bron_jaren as (
    select distinct 'programma' as bron, jaar from programma
    union all
    select distinct 'politie', jaar from politie
    union all
    select distinct 'veiligheidsmonitor', jaar from vm
),

peildata as (
    select 'programma' as bron, max({{ periode_einddatum('periode') }}) as peildatum
    from {{ ref('stg_programma_registraties__registraties') }}
    union all
    select 'politie', max({{ periode_einddatum('periode') }})
    from {{ ref('stg_politie_registraties__registraties') }}
    union all
    select 'veiligheidsmonitor', max({{ periode_einddatum('periode') }})
    from {{ ref('stg_veiligheidsmonitor__waarden') }}
),

-- a registration counts for its own area and for the areas above it
programma_per_gebied as (
    select jaar, activiteit, niveau, gebied, aantal
    from programma
    where niveau in ('gemeente', 'basisteam', 'district')
    union all
    select programma.jaar, programma.activiteit, 'basisteam', gemeenten.basisteam, programma.aantal
    from programma
    inner join gemeenten on programma.niveau = 'gemeente' and programma.gebied = gemeenten.gemeentecode
    union all
    select programma.jaar, programma.activiteit, 'district', gemeenten.district, programma.aantal
    from programma
    inner join gemeenten on programma.niveau = 'gemeente' and programma.gebied = gemeenten.gemeentecode
    union all
    select programma.jaar, programma.activiteit, 'district', teams.district, programma.aantal
    from programma
    inner join (select distinct basisteam, district from gemeenten) as teams
        on programma.niveau = 'basisteam' and programma.gebied = teams.basisteam
),

gebieden as (
    select distinct 'gemeente' as niveau, gemeentecode as gebied from gemeenten
    union all
    select distinct 'basisteam', basisteam from gemeenten
    union all
    select distinct 'district', district from gemeenten
),

-- measured value per indicator and year
realisaties as (
    -- programme, whole region: the total
    select doelen.indicator, bron_jaren.jaar, coalesce(sum(programma.aantal), 0) as realisatie
    from doelen
    inner join bron_jaren on bron_jaren.bron = 'programma'
    left join programma
        on programma.activiteit = doelen.meting and programma.jaar = bron_jaren.jaar
    where doelen.bron = 'programma' and doelen.niveau = 'regio'
    group by doelen.indicator, bron_jaren.jaar

    union all

    -- programme, per area: the area that did least (every area must reach the target)
    select indicator, jaar, min(aantal) as realisatie
    from (
        select doelen.indicator, bron_jaren.jaar, gebieden.gebied,
               coalesce(sum(programma_per_gebied.aantal), 0) as aantal
        from doelen
        inner join bron_jaren on bron_jaren.bron = 'programma'
        inner join gebieden on gebieden.niveau = doelen.niveau
        left join programma_per_gebied
            on programma_per_gebied.activiteit = doelen.meting
            and programma_per_gebied.jaar = bron_jaren.jaar
            and programma_per_gebied.niveau = gebieden.niveau
            and programma_per_gebied.gebied = gebieden.gebied
        where doelen.bron = 'programma' and doelen.niveau <> 'regio'
        group by doelen.indicator, bron_jaren.jaar, gebieden.gebied
    ) as per_gebied
    group by indicator, jaar

    union all

    -- police: instroom at the public prosecutor of online crime (registered series)
    select doelen.indicator, bron_jaren.jaar,
           coalesce(sum(case when politie.doorgestuurd_om = 'J'
                              and politie.hoofdcategorie_geregistreerd in ('cybercrime', 'gedigitaliseerd')
                             then 1 else 0 end), 0) as realisatie
    from doelen
    inner join bron_jaren on bron_jaren.bron = 'politie'
    left join politie on politie.jaar = bron_jaren.jaar
    where doelen.bron = 'politie' and doelen.meting = 'doorgestuurd_om'
    group by doelen.indicator, bron_jaren.jaar

    union all

    -- Veiligheidsmonitor: the unit's value
    select doelen.indicator, vm.jaar, vm.waarde as realisatie
    from doelen
    inner join vm on vm.onderwerp = doelen.meting
    where doelen.bron = 'veiligheidsmonitor'
),

-- baseline and absolute target
normen as (
    select
        doelen.*,
        coalesce(doelen.basiswaarde, basis.realisatie) as basis,
        case
            when doelen.vergelijking = '+pct'
                then basis.realisatie * (1 + doelen.doelwaarde / 100.0)
            else doelen.doelwaarde
        end as doel_absoluut,
        peildata.peildatum
    from doelen
    left join realisaties as basis
        on doelen.indicator = basis.indicator and doelen.basisjaar = basis.jaar
    left join peildata on doelen.bron = peildata.bron
),

-- the years judged: data years after the baseline up to the target year; without any,
-- the target year itself (geen_data)
perioden as (
    select normen.indicator, realisaties.jaar as periode, realisaties.realisatie
    from normen
    inner join realisaties
        on normen.indicator = realisaties.indicator
        and realisaties.jaar between coalesce(normen.basisjaar + 1, normen.doeljaar) and normen.doeljaar
    union all
    select normen.indicator, normen.doeljaar, null
    from normen
    where not exists (
        select 1 from realisaties
        where realisaties.indicator = normen.indicator
          and realisaties.jaar between coalesce(normen.basisjaar + 1, normen.doeljaar) and normen.doeljaar
    )
),

beoordeeld as (
    select
        normen.*,
        perioden.periode,
        perioden.realisatie,
        normen.peildatum >= {{ laatste_dag_van_jaar("normen.doeljaar") }} and perioden.periode = normen.doeljaar as afgerond,
        -- where the trend so far should be: on the line from baseline to target, or for a
        -- year in progress, the share of the year that has passed
        case
            when perioden.periode < normen.doeljaar and normen.basis is not null and normen.basisjaar is not null
                then normen.basis + (normen.doel_absoluut - normen.basis)
                    * (perioden.periode - normen.basisjaar) / (normen.doeljaar - normen.basisjaar)
            when perioden.periode = normen.doeljaar
                then normen.doel_absoluut * {{ verstreken_deel_jaar('normen.peildatum', 'normen.doeljaar') }}
        end as verwacht
    from normen
    inner join perioden on normen.indicator = perioden.indicator
),

final as (
    select
        cast(doel as integer) as doel,
        cast(indicator as varchar) as indicator,
        cast(omschrijving as varchar) as omschrijving,
        cast(bron as varchar) as bron,
        cast(niveau as varchar) as niveau,
        cast(periode as integer) as periode,
        cast(round(basis, 1) as decimal(14, 1)) as basiswaarde,
        cast(basisjaar as integer) as basisjaar,
        cast(round(doel_absoluut, 1) as decimal(14, 1)) as doelwaarde,
        cast(doeljaar as integer) as doeljaar,
        cast(vergelijking as varchar) as vergelijking,
        cast(round(realisatie, 1) as decimal(14, 1)) as realisatie,
        cast(round(verwacht, 1) as decimal(14, 1)) as verwacht_op_peildatum,
        cast(peildatum as date) as peildatum,
        cast(case
            when realisatie is null or doel_absoluut is null then 'geen_data'
            when afgerond then
                case when (vergelijking = '<=' and realisatie <= doel_absoluut)
                       or (vergelijking <> '<=' and realisatie >= doel_absoluut)
                     then 'behaald' else 'achter' end
            else
                case when (vergelijking = '<=' and realisatie <= verwacht)
                       or (vergelijking <> '<=' and realisatie >= verwacht)
                     then 'op_koers' else 'achter' end
        end as varchar) as status
    from beoordeeld
)

select * from final
