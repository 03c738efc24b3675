{#- Warehouse-specific SQL lives only here, behind adapter dispatch, so moving to another
    warehouse is a matter of adding `<adapter>__` implementations. -#}

{#- 'YYYYQn' of a date. -#}
{% macro kwartaal_label(datum) -%}
    {{ return(adapter.dispatch('kwartaal_label', 'dvcc')(datum)) }}
{%- endmacro %}

{% macro default__kwartaal_label(datum) -%}
    cast(extract(year from {{ datum }}) as varchar) || 'Q' || cast(extract(quarter from {{ datum }}) as varchar)
{%- endmacro %}

{% macro duckdb__kwartaal_label(datum) -%}
    strftime({{ datum }}, '%Y') || 'Q' || cast(quarter({{ datum }}) as varchar)
{%- endmacro %}


{#- Last day of a delivery period: '2024Q3', '2024-07' or '2023'. -#}
{% macro periode_einddatum(periode) -%}
    {{ return(adapter.dispatch('periode_einddatum', 'dvcc')(periode)) }}
{%- endmacro %}

{% macro duckdb__periode_einddatum(periode) -%}
    case
        when regexp_full_match({{ periode }}, '[0-9]{4}Q[1-4]')
            then last_day(make_date(cast(left({{ periode }}, 4) as integer), 3 * cast(right({{ periode }}, 1) as integer), 1))
        when regexp_full_match({{ periode }}, '[0-9]{4}-[0-9]{2}')
            then last_day(make_date(cast(left({{ periode }}, 4) as integer), cast(right({{ periode }}, 2) as integer), 1))
        when regexp_full_match({{ periode }}, '[0-9]{4}')
            then make_date(cast({{ periode }} as integer), 12, 31)
    end
{%- endmacro %}


{#- Fraction of calendar year `jaar` that has passed on `peildatum` (0 .. 1). -#}
{% macro verstreken_deel_jaar(peildatum, jaar) -%}
    {{ return(adapter.dispatch('verstreken_deel_jaar', 'dvcc')(peildatum, jaar)) }}
{%- endmacro %}

{% macro duckdb__verstreken_deel_jaar(peildatum, jaar) -%}
    greatest(0.0, least(1.0,
        (date_diff('day', make_date({{ jaar }}, 1, 1), {{ peildatum }}) + 1)
        / cast(date_diff('day', make_date({{ jaar }}, 1, 1), make_date({{ jaar }} + 1, 1, 1)) as double)
    ))
{%- endmacro %}


{#- 31 December of year `jaar`. -#}
{% macro laatste_dag_van_jaar(jaar) -%}
    {{ return(adapter.dispatch('laatste_dag_van_jaar', 'dvcc')(jaar)) }}
{%- endmacro %}

{% macro duckdb__laatste_dag_van_jaar(jaar) -%}
    make_date({{ jaar }}, 12, 31)
{%- endmacro %}
