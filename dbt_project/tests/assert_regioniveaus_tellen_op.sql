-- Each region level adds up to the same unit total (no municipality lost or counted twice).
with per_niveau as (
    select jaar, delictsvorm, regio_niveau,
           sum(aangiften) as aangiften, sum(meldingen_bank) as bank, sum(meldingen_fraudehelpdesk) as fhd
    from {{ ref('ind_delictsvormen_jaar') }}
    group by jaar, delictsvorm, regio_niveau
)
select niveau.*
from per_niveau as niveau
inner join per_niveau as eenheid
    on niveau.jaar = eenheid.jaar
    and niveau.delictsvorm = eenheid.delictsvorm
    and eenheid.regio_niveau = 'eenheid'
where niveau.aangiften <> eenheid.aangiften
   or niveau.bank <> eenheid.bank
   or niveau.fhd <> eenheid.fhd
