with

meldingen as (
    select * from {{ ref('int_meldingen') }}
),

regio as (
    select * from {{ ref('int_gemeente_regio') }}
),

delictsvormen as (
    select * from {{ ref('taxonomy') }}
),

jaren as (
    select distinct jaar from meldingen
),

regios as (
    select distinct regio_niveau, regio_code, regio_naam from regio
),

-- every year x region x delictsvorm, so a zero is a published 0
raster as (
    select jaren.jaar, regios.regio_niveau, regios.regio_code, regios.regio_naam,
           delictsvormen.delictsvorm, delictsvormen.hoofdcategorie
    from jaren
    cross join regios
    cross join delictsvormen
),

tellingen as (
    select
        meldingen.jaar,
        regio.regio_niveau,
        regio.regio_code,
        meldingen.delictsvorm,
        sum(case when meldingen.bron = 'politie' and meldingen.soort = 'aangifte' then 1 else 0 end) as aangiften,
        sum(case when meldingen.bron = 'politie' and meldingen.soort = 'aangifte' then meldingen.schadebedrag_eur end) as schadebedrag_eur,
        sum(case when meldingen.bron = 'bank' then 1 else 0 end) as meldingen_bank,
        sum(case when meldingen.bron = 'fraudehelpdesk' then 1 else 0 end) as meldingen_fraudehelpdesk
    from meldingen
    inner join regio on meldingen.gemeentecode = regio.gemeentecode
    group by meldingen.jaar, regio.regio_niveau, regio.regio_code, meldingen.delictsvorm
),

gevuld as (
    select
        raster.*,
        coalesce(tellingen.aangiften, 0) as aangiften,
        coalesce(tellingen.schadebedrag_eur, 0) as schadebedrag_eur,
        coalesce(tellingen.meldingen_bank, 0) as meldingen_bank,
        coalesce(tellingen.meldingen_fraudehelpdesk, 0) as meldingen_fraudehelpdesk
    from raster
    left join tellingen
        on raster.jaar = tellingen.jaar
        and raster.regio_niveau = tellingen.regio_niveau
        and raster.regio_code = tellingen.regio_code
        and raster.delictsvorm = tellingen.delictsvorm
),

final as (
    select
        cast(jaar as integer) as jaar,
        cast(regio_niveau as varchar) as regio_niveau,
        cast(regio_code as varchar) as regio_code,
        cast(regio_naam as varchar) as regio_naam,
        cast(delictsvorm as varchar) as delictsvorm,
        cast(aangiften as bigint) as aangiften,
        {{ bedrag('schadebedrag_eur') }} as schadebedrag_eur,
        cast(meldingen_bank as bigint) as meldingen_bank,
        cast(meldingen_fraudehelpdesk as bigint) as meldingen_fraudehelpdesk,
        -- ranked among the online delictsvormen only
        cast(case when hoofdcategorie in ('cybercrime', 'gedigitaliseerd') then
            rank() over (
                partition by jaar, regio_niveau, regio_code,
                    hoofdcategorie in ('cybercrime', 'gedigitaliseerd')
                order by aangiften desc
            )
        end as integer) as rang
    from gevuld
)

select * from final
