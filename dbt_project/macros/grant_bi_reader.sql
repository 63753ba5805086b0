{#- Superset reads through role ioc_bi, which may read mart_* schemas and nothing else.
    Run at the end of every dbt invocation, so rebuilt tables are readable again; default
    privileges make tables rebuilt by later runs readable from their creation. -#}
{% macro grant_bi_reader(role='ioc_bi') %}
    {% if execute %}
        {% set exists = run_query("select 1 from pg_roles where rolname = '" ~ role ~ "'") %}
        {% if exists.rows | length > 0 %}
            {% set schemas = run_query(
                "select nspname from pg_namespace where nspname like 'mart\\_%'"
            ) %}
            {% for row in schemas.rows %}
                {% do run_query('grant usage on schema "' ~ row[0] ~ '" to ' ~ role) %}
                {% do run_query('grant select on all tables in schema "' ~ row[0] ~ '" to ' ~ role) %}
                {#- tables dbt creates here from now on (a rebuilt mart is a new table) are
                    readable at once: no window without access, even if a run is killed -#}
                {% do run_query('alter default privileges in schema "' ~ row[0] ~ '" grant select on tables to ' ~ role) %}
            {% endfor %}
        {% endif %}
    {% endif %}
{% endmacro %}
