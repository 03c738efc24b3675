{#- Shared arithmetic, so every mart rounds the same way. -#}

{#- Percentage 0-100 with one decimal; NULL when the denominator is 0 or NULL. -#}
{% macro percentage(teller, noemer) -%}
    cast(round(100.0 * ({{ teller }}) / nullif({{ noemer }}, 0), 1) as decimal(10, 1))
{%- endmacro %}

{#- round(100 * (a - b) / b, 1); NULL without a previous value or when it is 0. -#}
{% macro verandering_pct(aantal, vorig) -%}
    cast(round(100.0 * (({{ aantal }}) - ({{ vorig }})) / nullif({{ vorig }}, 0), 1) as decimal(10, 1))
{%- endmacro %}

{#- Euro amount as published. -#}
{% macro bedrag(expr) -%}
    cast({{ expr }} as decimal(14, 2))
{%- endmacro %}

{#- Keep only rows of deliveries the ledger accepted (the latest version per period is all
    that ingestion leaves in raw; this makes the rule explicit). -#}
{% macro uit_geaccepteerde_levering(kolom='_levering_id') -%}
    {{ kolom }} in (
        select levering_id
        from {{ source('raw', 'deliveries') }}
        where status in ('geaccepteerd', 'geaccepteerd_met_afkeur')
    )
{%- endmacro %}
