-- Every staged police registration comes out of the police rule exactly once, with a delictsvorm.
select stg.registratie_id
from {{ ref('stg_politie_registraties__registraties') }} as stg
left join {{ ref('int_politie_registraties') }} as int_
    on stg.registratie_id = int_.registratie_id
where int_.delictsvorm is null
