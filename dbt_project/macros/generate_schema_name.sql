{#- Custom schemas are used verbatim (reference, staging, intermediate, marts), so the
    warehouse layout is the same for every target and matches docs/architecture.md. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
