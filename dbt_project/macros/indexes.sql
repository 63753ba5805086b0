{#- An index dbt's `indexes` config cannot declare (it has no INCLUDE and no WHERE), made by a
    post-hook inside the model's transaction (issue 21: the slowest chart queries at national
    scale).
      include        columns stored in the index's leaves: a query reading only the key and
                     these columns is an index-only scan (with the visibility map set: the
                     model's `vacuum (analyze)` after commit)
      column, values a partial index, `column in (values)`: it must be a list's filter as
                     Superset sends it (the same values, in any order), so the planner
                     proves the index applies and reads the page off it in order instead of
                     sorting every matching row
    The name carries the table's oid: on a full refresh the old table (and its indexes)
    still exists under its backup name when the hook runs, and a fixed name would make
    `if not exists` skip the new table. -#}
{% macro extra_index(relation, columns, tag, include=none, column=none, values=none) -%}
    do $extra_index$
    begin
        execute format(
            $ddl$create index if not exists %I on {{ relation }} ({{ columns | join(', ') }})
            {%- if include %} include ({{ include | join(', ') }}){% endif %}
            {%- if column %} where {{ column }} in ({% for v in values %}'{{ v }}'{{ ', ' if not loop.last }}{% endfor %}){% endif %}$ddl$,
            'ix_' || '{{ relation }}'::regclass::oid || '_{{ tag }}');
    end
    $extra_index$
{%- endmacro %}
