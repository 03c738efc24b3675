with

vm as (
    select * from {{ ref('int_veiligheidsmonitor') }}
),

gemeenten as (
    select * from {{ ref('gemeenten_midden_nederland') }}
),

doelen as (
    select * from {{ ref('programma_doelen') }}
    where bron = 'veiligheidsmonitor'
),

final as (
    select
        cast(vm.jaar as integer) as jaar,
        cast(vm.regio_code as varchar) as regio_code,
        cast(case
            when vm.regio_code = '{{ var("vm_regio_eenheid") }}' then 'eenheid'
            when vm.regio_code = '{{ var("vm_regio_nederland") }}' then 'nederland'
            else 'gemeente'
        end as varchar) as regio_niveau,
        cast(case
            when vm.regio_code = '{{ var("vm_regio_eenheid") }}' then 'Midden-Nederland'
            when vm.regio_code = '{{ var("vm_regio_nederland") }}' then 'Nederland'
            else gemeenten.gemeente
        end as varchar) as regio_naam,
        cast(vm.onderwerp as varchar) as onderwerp,
        cast(vm.waarde as decimal(10, 1)) as waarde,
        cast(vm.ondergrens as decimal(10, 1)) as ondergrens,
        cast(vm.bovengrens as decimal(10, 1)) as bovengrens,
        cast(vm.betrouwbaar as boolean) as betrouwbaar,
        -- the programme's targets are set for the police unit as a whole
        cast(doelen.doelwaarde as decimal(10, 1)) as doelwaarde,
        cast(doelen.doeljaar as integer) as doeljaar
    from vm
    left join gemeenten on vm.regio_code = gemeenten.gemeentecode
    left join doelen
        on vm.onderwerp = doelen.meting
        and vm.regio_code = '{{ var("vm_regio_eenheid") }}'
    -- the published table holds percentages; the respondent counts only decide `betrouwbaar`
    where vm.onderwerp <> 'respondenten'
)

select * from final
