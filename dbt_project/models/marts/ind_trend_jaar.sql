with

politie as (
    select * from {{ ref('int_meldingen') }}
    where bron = 'politie'
),

regio as (
    select * from {{ ref('int_gemeente_regio') }}
),

-- the classification(s) the police used in each year
jaren as (
    select
        jaar,
        min(classificatie) as classificatie_min,
        max(classificatie) as classificatie_max
    from politie
    group by jaar
),

regios as (
    select distinct regio_niveau, regio_code, regio_naam from regio
),

reeksen as (
    select * from (values
        ('cybercrime'), ('gedigitaliseerd'), ('fraude_totaal'), ('online_totaal')
    ) as r (reeks)
),

methoden as (
    select * from (values ('geregistreerd'), ('geharmoniseerd')) as m (methode)
),

-- each registration once per method, with the hoofdcategorie that method uses
per_methode as (
    select jaar, gemeentecode, 'geregistreerd' as methode,
           hoofdcategorie_geregistreerd as hoofdcategorie, klasse_is_fraude
    from politie
    union all
    select jaar, gemeentecode, 'geharmoniseerd' as methode,
           hoofdcategorie, klasse_is_fraude
    from politie
),

in_reeks as (
    select jaar, gemeentecode, methode, hoofdcategorie as reeks
    from per_methode
    where hoofdcategorie in ('cybercrime', 'gedigitaliseerd')
    union all
    select jaar, gemeentecode, methode, 'online_totaal' as reeks
    from per_methode
    where hoofdcategorie in ('cybercrime', 'gedigitaliseerd')
    union all
    -- fraude totaal: by the class, whatever the label (taxonomy.md)
    select jaar, gemeentecode, methode, 'fraude_totaal' as reeks
    from per_methode
    where klasse_is_fraude
),

tellingen as (
    select in_reeks.jaar, regio.regio_niveau, regio.regio_code, in_reeks.reeks, in_reeks.methode,
           count(*) as aantal
    from in_reeks
    inner join regio on in_reeks.gemeentecode = regio.gemeentecode
    group by in_reeks.jaar, regio.regio_niveau, regio.regio_code, in_reeks.reeks, in_reeks.methode
),

raster as (
    select
        jaren.jaar, regios.regio_niveau, regios.regio_code, regios.regio_naam, reeksen.reeks, methoden.methode,
        coalesce(tellingen.aantal, 0) as aantal
    from jaren
    cross join regios
    cross join reeksen
    cross join methoden
    left join tellingen
        on jaren.jaar = tellingen.jaar
        and regios.regio_niveau = tellingen.regio_niveau
        and regios.regio_code = tellingen.regio_code
        and reeksen.reeks = tellingen.reeks
        and methoden.methode = tellingen.methode
),

met_vorig_jaar as (
    select
        huidig.*,
        vorig.aantal as aantal_vorig_jaar,
        huidig_jaar.classificatie_max as classificatie,
        vorig_jaar.classificatie_max as classificatie_vorig_jaar,
        vorig_jaar.jaar is not null
            and (huidig_jaar.classificatie_min <> vorig_jaar.classificatie_min
                 or huidig_jaar.classificatie_max <> vorig_jaar.classificatie_max)
            as andere_classificatie
    from raster as huidig
    inner join jaren as huidig_jaar on huidig.jaar = huidig_jaar.jaar
    left join jaren as vorig_jaar on huidig.jaar - 1 = vorig_jaar.jaar
    left join raster as vorig
        on huidig.jaar - 1 = vorig.jaar
        and huidig.regio_niveau = vorig.regio_niveau
        and huidig.regio_code = vorig.regio_code
        and huidig.reeks = vorig.reeks
        and huidig.methode = vorig.methode
),

final as (
    select
        cast(jaar as integer) as jaar,
        cast(regio_niveau as varchar) as regio_niveau,
        cast(regio_code as varchar) as regio_code,
        cast(regio_naam as varchar) as regio_naam,
        cast(reeks as varchar) as reeks,
        cast(methode as varchar) as methode,
        cast(aantal as bigint) as aantal,
        cast(aantal_vorig_jaar as bigint) as aantal_vorig_jaar,
        {{ verandering_pct('aantal', 'aantal_vorig_jaar') }} as verandering_pct,
        cast(methode = 'geregistreerd' and andere_classificatie as boolean) as trendbreuk,
        cast(case
            when methode = 'geharmoniseerd' then
                'Schatting: de huidige definities (delictsvorm volgens modus operandi, taxonomie) '
                || 'toegepast op alle jaren; vergelijkbaar over de jaren heen.'
            when andere_classificatie then
                'Trendbreuk: de politie registreerde in ' || cast(jaar - 1 as varchar) || ' volgens '
                || classificatie_vorig_jaar || ' en in ' || cast(jaar as varchar) || ' volgens '
                || classificatie || ' (' || classificatie_vorig_jaar || ' → ' || classificatie
                || '); de geregistreerde reeks is niet vergelijkbaar met het vorige jaar.'
            else
                'Geregistreerde reeks: het online kenmerk zoals de politie het vastlegde (officiële reeks).'
        end as varchar) as toelichting
    from met_vorig_jaar
)

select * from final
