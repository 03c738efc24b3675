{#- Row-level models are incremental per delivery (README.md). A delivery's rows never change
    under the same levering_id: a correction gets a new id and replaces its period in raw, and
    retention deletes whole periods. So an incremental run only has to
      1. delete the rows whose delivery is no longer current (replaced, expired), and the rows
         built by another definition of the model (its code, or any model or seed upstream);
      2. insert the rows of deliveries not yet in the table.
    `dbt build --full-refresh` rebuilds the same tables from scratch. -#}

{#- Fingerprint of everything that decides a row's values besides the raw data: the checksums
    of this model and of every model and seed upstream of it (a changed taxonomy or police
    rule rebuilds all rows). Macro changes are not covered: deploy those with --full-refresh. -#}
{% macro definitie_versie() -%}
    {%- set onderdelen = [] -%}
    {#- unit tests compile without a graph: the fingerprint is then a constant -#}
    {%- set nodes = graph.get('nodes', {}) if execute else {} -%}
    {%- if nodes -%}
        {%- set gezien = [] -%}
        {%- set stap = namespace(te_doen=[model.unique_id]) -%}
        {#- breadth-first over depends_on; the graph is far shallower than 100 levels -#}
        {%- for _ in range(100) if stap.te_doen -%}
            {%- set volgende = [] -%}
            {%- for node_id in stap.te_doen if node_id not in gezien -%}
                {%- do gezien.append(node_id) -%}
                {%- set node = nodes.get(node_id) -%}
                {%- if node -%}
                    {%- do onderdelen.append(node_id ~ '=' ~ node.checksum.checksum) -%}
                    {%- do volgende.extend(node.depends_on.nodes) -%}
                {%- endif -%}
            {%- endfor -%}
            {%- set stap.te_doen = volgende -%}
        {%- endfor -%}
    {%- endif -%}
    '{{ local_md5(onderdelen | sort | join("|")) }}'
{%- endmacro %}


{#- Pre-hook: step 1. `bronnen` are the relations this model reads its rows from; a delivery
    is current while it has rows there. -#}
{% macro verwijder_vervallen_leveringen(bronnen) -%}
    {%- if is_incremental() -%}
        delete from {{ this }}
        where definitie_versie <> {{ definitie_versie() }}
           or levering_id not in (
            {%- for bron in bronnen %}
                select levering_id from {{ bron }}
                {%- if not loop.last %} union{% endif %}
            {%- endfor %}
        )
    {%- endif -%}
{%- endmacro %}


{#- Model filter: step 2, rows of deliveries the table does not hold yet (after step 1). -#}
{% macro nieuwe_levering(kolom='levering_id') -%}
    {%- if is_incremental() -%}
        {{ kolom }} not in (select levering_id from {{ this }})
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}
