{#- dbt context functions the jinja templater of sqlfluff does not know (apply_dbt_builtins
    gives ref, source, config, var, is_incremental, this): stand-ins that render as dbt would
    for linting only. Never loaded by dbt (not under macros/). -#}
{% macro after_commit(sql) %}{{ sql }}{% endmacro %}
{% macro before_begin(sql) %}{{ sql }}{% endmacro %}
