-- online_totaal = cybercrime + gedigitaliseerd for every year, region and method.
select t.jaar, t.regio_niveau, t.regio_code, t.methode
from {{ ref('ind_trend_jaar') }} as t
where t.reeks = 'online_totaal'
  and t.aantal <> (
      select sum(d.aantal)
      from {{ ref('ind_trend_jaar') }} as d
      where d.jaar = t.jaar and d.regio_niveau = t.regio_niveau and d.regio_code = t.regio_code
        and d.methode = t.methode and d.reeks in ('cybercrime', 'gedigitaliseerd')
  )
