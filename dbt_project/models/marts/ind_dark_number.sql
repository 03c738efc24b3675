with

aangiften as (
    select * from {{ ref('int_meldingen') }}
    where bron = 'politie'
      and soort = 'aangifte'
      and hoofdcategorie in ('cybercrime', 'gedigitaliseerd')
),

regio as (
    select * from {{ ref('int_gemeente_regio') }}
),

vm as (
    select * from {{ ref('int_veiligheidsmonitor') }}
    where onderwerp = 'aangifte_online'
),

jaren as (
    select distinct jaar from {{ ref('int_meldingen') }} where bron = 'politie'
),

regios as (
    select distinct regio_niveau, regio_code, regio_naam from regio
),

delictgroepen as (
    select distinct delictgroep from {{ ref('taxonomy') }}
    where hoofdcategorie in ('cybercrime', 'gedigitaliseerd')
    union all
    select 'totaal'
),

tellingen as (
    select aangiften.jaar, regio.regio_niveau, regio.regio_code, aangiften.delictgroep, count(*) as aantal
    from aangiften
    inner join regio on aangiften.gemeentecode = regio.gemeentecode
    group by aangiften.jaar, regio.regio_niveau, regio.regio_code, aangiften.delictgroep
    union all
    select aangiften.jaar, regio.regio_niveau, regio.regio_code, 'totaal', count(*)
    from aangiften
    inner join regio on aangiften.gemeentecode = regio.gemeentecode
    group by aangiften.jaar, regio.regio_niveau, regio.regio_code
),

-- the latest Veiligheidsmonitor year at or before each year (measured for the unit)
vm_jaren as (
    select jaren.jaar, max(vm.jaar) as vm_jaar
    from jaren
    inner join vm
        on vm.jaar <= jaren.jaar
        and vm.regio_code = '{{ var("vm_regio_eenheid") }}'
    group by jaren.jaar
),

raster as (
    select
        jaren.jaar, regios.regio_niveau, regios.regio_code, regios.regio_naam, delictgroepen.delictgroep,
        coalesce(tellingen.aantal, 0) as aangiften,
        vm_jaren.vm_jaar
    from jaren
    cross join regios
    cross join delictgroepen
    left join tellingen
        on jaren.jaar = tellingen.jaar
        and regios.regio_niveau = tellingen.regio_niveau
        and regios.regio_code = tellingen.regio_code
        and delictgroepen.delictgroep = tellingen.delictgroep
    left join vm_jaren on jaren.jaar = vm_jaren.jaar
),

-- a region's own reliable value; otherwise the unit's (RE03)
met_bereidheid as (
    select
        raster.*,
        eigen.betrouwbaar is true as eigen_betrouwbaar,
        case when eigen.betrouwbaar then eigen.waarde else eenheid.waarde end as pct,
        case when eigen.betrouwbaar then eigen.ondergrens else eenheid.ondergrens end as pct_ondergrens,
        case when eigen.betrouwbaar then eigen.bovengrens else eenheid.bovengrens end as pct_bovengrens
    from raster
    left join vm as eigen
        on raster.vm_jaar = eigen.jaar
        and eigen.regio_code = case raster.regio_niveau
            when 'gemeente' then raster.regio_code
            when 'eenheid' then '{{ var("vm_regio_eenheid") }}'
        end
    left join vm as eenheid
        on raster.vm_jaar = eenheid.jaar
        and eenheid.regio_code = '{{ var("vm_regio_eenheid") }}'
),

final as (
    select
        cast(jaar as integer) as jaar,
        cast(regio_niveau as varchar) as regio_niveau,
        cast(regio_code as varchar) as regio_code,
        cast(regio_naam as varchar) as regio_naam,
        cast(delictgroep as varchar) as delictgroep,
        cast(aangiften as bigint) as aangiften,
        cast(pct as decimal(10, 1)) as aangiftebereidheid_pct,
        cast(pct_ondergrens as decimal(10, 1)) as aangiftebereidheid_ondergrens,
        cast(pct_bovengrens as decimal(10, 1)) as aangiftebereidheid_bovengrens,
        cast(vm_jaar as integer) as vm_jaar,
        cast(case
            when pct is null then null
            when eigen_betrouwbaar then 'eigen_regio'
            else 'terugval_{{ var("vm_regio_eenheid") | lower }}'
        end as varchar) as bron_aangiftebereidheid,
        cast(round(aangiften * 100.0 / nullif(pct, 0)) as bigint) as geschat_slachtoffers,
        -- the lower estimate divides by the upper bound of the interval, and vice versa
        cast(round(aangiften * 100.0 / nullif(pct_bovengrens, 0)) as bigint) as ondergrens,
        cast(round(aangiften * 100.0 / nullif(pct_ondergrens, 0)) as bigint) as bovengrens
    from met_bereidheid
)

select * from final
