-- Plain-DuckDB baseline for `dvcc bench`: the same partner files and reference seeds, read with
-- DuckDB's own readers and counted directly (no validation, no Dagster, no dbt), so the
-- benchmark can say what the pipeline's guarantees cost on top of the bare computation.
--
-- Parameters (bound per statement by dvcc_pipeline/bench/baseline.py, never pasted in):
--   $politie_bestanden, $bank_bestanden                       lists of CSV paths
--   $gemeenten_csv, $taxonomie_csv, $klassen_csv, $broncodes_csv  the dbt seeds
-- The Fraudehelpdesk workbooks are registered by the caller as the relation `fhd_bron`
-- (DuckDB's excel extension cannot be installed offline).
-- Results: temp tables `basislijn_delictsvormen_jaar` and `basislijn_trend_jaar` (eenheid level).

create or replace temp table gemeenten as
select * from read_csv($gemeenten_csv, header = true, all_varchar = true);

create or replace temp table taxonomie as
select delictsvorm, hoofdcategorie, cast(is_fraude as boolean) as is_fraude
from read_csv($taxonomie_csv, header = true, all_varchar = true);

create or replace temp table klassen as
select maatschappelijke_klasse, cast(is_fraude as boolean) as is_fraude,
       default_gedigitaliseerd, default_cybercrime
from read_csv($klassen_csv, header = true, all_varchar = true);

create or replace temp table broncodes as
select bron, veld, waarde, delictsvorm
from read_csv($broncodes_csv, header = true, all_varchar = true);

-- Police: CSV with ',', ISO dates, decimal point.
create or replace temp table politie as
select *
from read_csv($politie_bestanden, header = true, delim = ',', quote = '"', columns = {
    'registratie_id': 'VARCHAR', 'registratiedatum': 'DATE', 'pleegdatum': 'DATE',
    'soort_registratie': 'VARCHAR', 'maatschappelijke_klasse': 'VARCHAR', 'classificatie': 'VARCHAR',
    'online_kenmerk': 'VARCHAR', 'modus_operandi': 'VARCHAR', 'gemeentecode': 'VARCHAR',
    'slachtoffer_type': 'VARCHAR', 'leeftijdsklasse': 'VARCHAR', 'schadebedrag_eur': 'DECIMAL(12,2)',
    'verdachte_bekend': 'VARCHAR', 'doorgestuurd_om': 'VARCHAR'
});

-- Banks: ';', BOM, CRLF, DD-MM-YYYY, decimal comma.
create or replace temp table bank as
select *
from read_csv($bank_bestanden, header = true, delim = ';', quote = '"', decimal_separator = ',',
    dateformat = '%d-%m-%Y', columns = {
    'melding_id': 'VARCHAR', 'bank': 'VARCHAR', 'meldingsdatum': 'DATE', 'fraudetype': 'VARCHAR',
    'kanaal': 'VARCHAR', 'gemeentecode': 'VARCHAR', 'klanttype': 'VARCHAR', 'leeftijdsklasse': 'VARCHAR',
    'schadebedrag': 'DECIMAL(12,2)', 'vergoed_bedrag': 'DECIMAL(12,2)', 'aangifte_gedaan': 'VARCHAR'
});

-- The taxonomy rule of taxonomy.md for police rows, and the source-code lookup for the others.
create or replace temp table meldingen as
with

mo as (
    select waarde, delictsvorm from broncodes
    where bron = 'politie' and veld = 'modus_operandi' and delictsvorm is not null
),

politie_vorm as (
    select
        year(p.registratiedatum) as jaar,
        p.gemeentecode,
        p.soort_registratie as soort,
        p.schadebedrag_eur,
        k.is_fraude as klasse_is_fraude,
        case
            when p.online_kenmerk = 'onbekend' then 'ongelabeld'
            when p.online_kenmerk = 'geen' then
                case when k.is_fraude then 'offline_fraude' else 'offline_overig' end
            else coalesce(mo.delictsvorm, case p.online_kenmerk
                when 'gedigitaliseerd' then k.default_gedigitaliseerd
                when 'cybercrime' then k.default_cybercrime
            end)
        end as delictsvorm,
        case when p.online_kenmerk = 'geen' then 'offline' else p.online_kenmerk end as hoofdcategorie_geregistreerd
    from politie as p
    left join klassen as k on p.maatschappelijke_klasse = k.maatschappelijke_klasse
    left join mo on p.modus_operandi = mo.waarde
),

fhd_gemeente as (
    select f.*, g.gemeentecode
    from fhd_bron as f
    inner join gemeenten as g
        on lower(trim(regexp_replace(f."Gemeente", '\s+', ' ', 'g'))) = lower(g.gemeente)
    where f."Soort melding" = 'Slachtoffer'
)

select 'politie' as bron, v.soort, v.jaar, v.gemeentecode, v.delictsvorm, v.hoofdcategorie_geregistreerd,
       t.hoofdcategorie, v.klasse_is_fraude, v.schadebedrag_eur
from politie_vorm as v
left join taxonomie as t on v.delictsvorm = t.delictsvorm
union all
select 'bank', 'melding', year(b.meldingsdatum), b.gemeentecode, c.delictsvorm, null, null, null, b.schadebedrag
from bank as b
left join broncodes as c on c.bron = 'bank' and c.veld = 'fraudetype' and b.fraudetype = c.waarde
union all
select 'fraudehelpdesk', 'melding', year(f."Datum melding"), f.gemeentecode, c.delictsvorm, null, null, null,
       cast(f."Schadebedrag" as decimal(12, 2))
from fhd_gemeente as f
left join broncodes as c on c.bron = 'fraudehelpdesk' and c.veld = 'Categorie' and f."Categorie" = c.waarde;

-- ind_delictsvormen_jaar, eenheid level: every municipality of the reference list.
create or replace temp table basislijn_delictsvormen_jaar as
select
    jaar,
    delictsvorm,
    count(*) filter (where bron = 'politie' and soort = 'aangifte') as aangiften,
    cast(coalesce(sum(schadebedrag_eur) filter (where bron = 'politie' and soort = 'aangifte'), 0)
        as decimal(14, 2)) as schadebedrag_eur,
    count(*) filter (where bron = 'bank') as meldingen_bank,
    count(*) filter (where bron = 'fraudehelpdesk') as meldingen_fraudehelpdesk
from meldingen
where gemeentecode in (select gemeentecode from gemeenten)
group by jaar, delictsvorm;

-- ind_trend_jaar, eenheid level: all police registrations, registered and harmonised series.
create or replace temp table basislijn_trend_jaar as
with

per_methode as (
    select jaar, 'geregistreerd' as methode, hoofdcategorie_geregistreerd as hoofdcategorie, klasse_is_fraude
    from meldingen
    where bron = 'politie' and gemeentecode in (select gemeentecode from gemeenten)
    union all
    select jaar, 'geharmoniseerd', hoofdcategorie, klasse_is_fraude
    from meldingen
    where bron = 'politie' and gemeentecode in (select gemeentecode from gemeenten)
),

in_reeks as (
    select jaar, methode, hoofdcategorie as reeks from per_methode
    where hoofdcategorie in ('cybercrime', 'gedigitaliseerd')
    union all
    select jaar, methode, 'online_totaal' from per_methode
    where hoofdcategorie in ('cybercrime', 'gedigitaliseerd')
    union all
    select jaar, methode, 'fraude_totaal' from per_methode
    where klasse_is_fraude
),

jaren as (
    select distinct jaar from per_methode
),

raster as (
    select jaren.jaar, r.reeks, m.methode
    from jaren
    cross join (values ('cybercrime'), ('gedigitaliseerd'), ('fraude_totaal'), ('online_totaal')) as r (reeks)
    cross join (values ('geregistreerd'), ('geharmoniseerd')) as m (methode)
),

aantallen as (
    select raster.jaar, raster.reeks, raster.methode, count(in_reeks.jaar) as aantal
    from raster
    left join in_reeks using (jaar, reeks, methode)
    group by raster.jaar, raster.reeks, raster.methode
)

select
    huidig.jaar,
    huidig.reeks,
    huidig.methode,
    huidig.aantal,
    vorig.aantal as aantal_vorig_jaar,
    cast(round(100.0 * (huidig.aantal - vorig.aantal) / nullif(vorig.aantal, 0), 1) as decimal(10, 1))
        as verandering_pct
from aantallen as huidig
left join aantallen as vorig
    on vorig.jaar = huidig.jaar - 1 and vorig.reeks = huidig.reeks and vorig.methode = huidig.methode;
