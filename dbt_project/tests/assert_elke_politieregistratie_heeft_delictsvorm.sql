-- Every staged police registration comes out of the police rule exactly once, with a delictsvorm.
-- In Dagster a check on int_politie_registraties (a singular test with several refs needs the one it belongs to).
{{ config(meta={'dagster': {'ref': {'name': 'int_politie_registraties'}}}) }}
select stg.registratie_id
from {{ ref('stg_politie_registraties__registraties') }} as stg
left join {{ ref('int_politie_registraties') }} as int_
    on stg.registratie_id = int_.registratie_id
where int_.delictsvorm is null
