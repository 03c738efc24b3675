{#- The combination of `columns` identifies a row (the grain of a model). -#}
{% test unique_combination(model, columns) %}
select {{ columns | join(', ') }}, count(*) as aantal
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endtest %}
