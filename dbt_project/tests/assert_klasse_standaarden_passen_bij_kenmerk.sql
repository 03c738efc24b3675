-- A class default must belong to the hoofdcategorie of the label it is the default for.
-- In Dagster a check on police_klassen (a singular test with several refs needs the one it belongs to).
{{ config(meta={'dagster': {'ref': {'name': 'police_klassen'}}}) }}
select klassen.maatschappelijke_klasse, gedig.hoofdcategorie as hc_gedigitaliseerd, cyber.hoofdcategorie as hc_cybercrime
from {{ ref('police_klassen') }} as klassen
left join {{ ref('taxonomy') }} as gedig on klassen.default_gedigitaliseerd = gedig.delictsvorm
left join {{ ref('taxonomy') }} as cyber on klassen.default_cybercrime = cyber.delictsvorm
where gedig.hoofdcategorie is distinct from 'gedigitaliseerd'
   or cyber.hoofdcategorie is distinct from 'cybercrime'
