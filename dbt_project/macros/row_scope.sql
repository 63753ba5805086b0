{#- Row scope: PostgreSQL decides which rows of a mart each BI login role reads.

    Superset runs every query of a user as a PostgreSQL login role of that user's scope
    (`superset/ioc_identity.py`): `ioc_bi__<org_unit_id>` for a commune, a role in the group
    `ioc_bi_all_units` for leaders and the data team. Every mart table has row-level
    security enabled and one policy, `ioc_row_scope`, chosen by the model's
    `config.meta.row_scope`:

      row_scope: <column>   rows whose <column> is a unit the login role may see: its own
                            unit and every unit merged into it (`access.unit_scope`, from the
                            successor chain of seeds.org_units), or every row for roles of
                            `ioc_bi_all_units`;
      row_scope: shared     reference data every BI role reads whole (calendar, forms, ...).

    A mart without `row_scope` gets no policy and no grant: no BI role can read it (and
    `tests/security/test_row_scope.py` fails in CI). The policy and the grant are applied by
    the model's post-hook, inside the transaction that (re)builds the table, so a rebuilt
    mart is never readable without its policy, not even for a moment or after a killed run.
    The on-run-end sweep closes whatever was made another way (a table created by hand in a
    mart schema: row security on, no grant).

    Roles are cluster-wide and created by `ioc` (warehouse start, Superset bootstrap); where
    they do not exist (a server whose DBA has not created them yet) grants are skipped, and
    nothing is readable by anyone but the owner. -#}

{% macro access_setup() %}
    {#- on-run-start: the schema and the two functions the policies call. Functions, not
        tables, are what policies reference: dbt rebuilds access.unit_scope as a new table
        every run, and a policy depending on the old one would be dropped with it. -#}
    create schema if not exists access;
    revoke all on schema access from public;
    create or replace function access.visible_unit_ids() returns text[]
        language plpgsql stable parallel safe
        set search_path = pg_catalog, pg_temp
    as $fn$
    begin
        return coalesce(
            (select array_agg(s.visible_unit_id) from access.unit_scope as s
             where s.login_role = current_user::text),
            '{}'::text[]);
    end
    $fn$;
    comment on function access.visible_unit_ids() is
        'Units whose rows the current login role may read: its own unit and the units merged into it (access.unit_scope).';
    create or replace function access.sees_all_units() returns boolean
        language sql stable parallel safe
        set search_path = pg_catalog, pg_temp
    as $fn$
        select coalesce(
            pg_has_role(current_user, to_regrole('{{ var("bi_all_units_group") }}'), 'MEMBER'),
            false)
    $fn$;
    comment on function access.sees_all_units() is
        'True for login roles that are members of {{ var("bi_all_units_group") }} (leaders, data team).';
{% endmacro %}

{#- Grant `privilege` on `relation` to `role` when the role exists (no error otherwise). -#}
{% macro grant_if_role(privilege, relation, role) -%}
    do $grant$ begin
        if exists (select 1 from pg_roles where rolname = '{{ role }}') then
            execute 'grant {{ privilege }} on {{ relation }} to {{ role }}';
        end if;
    end $grant$
{%- endmacro %}

{% macro row_scope() %}
    {#- post-hook of every mart (dbt_project.yml). -#}
    {%- set scope = (config.get('meta') or {}).get('row_scope') -%}
    {%- set reader = var('bi_reader_group') -%}
    alter table {{ this }} enable row level security;
    drop policy if exists ioc_row_scope on {{ this }};
    {%- if scope == 'shared' %}
    create policy ioc_row_scope on {{ this }} as permissive for select to public using (true);
    {%- elif scope %}
    create policy ioc_row_scope on {{ this }} as permissive for select to public
        using ((select access.sees_all_units())
               or {{ adapter.quote(scope) }} = any ((select access.visible_unit_ids())::text[]));
    {%- endif %}
    {%- if scope %}
    {{ grant_if_role('select', this, reader) }};
    {%- else %}
    do $revoke$ begin
        if exists (select 1 from pg_roles where rolname = '{{ reader }}') then
            execute 'revoke all on {{ this }} from {{ reader }}';
        end if;
    end $revoke$;
    {%- endif %}
{% endmacro %}

{#- on-run-end, and `ioc dbt run-operation access_sweep` by hand: runs the sweep below. -#}
{% macro access_sweep() %}
    {% if execute %}
        {% do run_query(access_sweep_sql()) %}
    {% endif %}
{% endmacro %}

{% macro access_sweep_sql() %}
    {#- every relation of a mart schema is closed unless it carries the row
        policy. Tables made outside dbt get row security (no policy: only the owner reads
        them); views and materialized views, which row security does not cover, and tables
        without the policy lose the readers' grant. The readers' group may use the mart
        schemas and read access.unit_scope; the public page's role reads its own schema. -#}
    {%- set reader = var('bi_reader_group') -%}
    {%- set public_role = var('public_role') -%}
    {%- set public_schema = var('public_schema') -%}
    do $sweep$
    declare
        rel record;
        has_reader boolean := exists (select 1 from pg_roles where rolname = '{{ reader }}');
        has_public boolean := exists (select 1 from pg_roles where rolname = '{{ public_role }}');
        has_legacy boolean := exists (select 1 from pg_roles where rolname = 'ioc_bi');
    begin
        for rel in
            select c.oid::regclass::text as name, n.nspname, c.relkind, c.relrowsecurity,
                   exists (select 1 from pg_policy as p
                           where p.polrelid = c.oid and p.polname = 'ioc_row_scope') as scoped
            from pg_class as c
            join pg_namespace as n on n.oid = c.relnamespace
            where n.nspname like 'mart\_%' and c.relkind in ('r', 'p', 'v', 'm', 'f')
              and pg_get_userbyid(c.relowner) = current_user
        loop
            if rel.relkind in ('r', 'p') and not rel.relrowsecurity then
                execute format('alter table %s enable row level security', rel.name);
            end if;
            if has_reader and not (rel.relkind in ('r', 'p') and rel.scoped) then
                execute format('revoke all on %s from {{ reader }}', rel.name);
            end if;
            if has_legacy then
                execute format('revoke all on %s from ioc_bi', rel.name);
            end if;
        end loop;
        for rel in select nspname from pg_namespace
                   where nspname like 'mart\_%' and pg_get_userbyid(nspowner) = current_user loop
            if has_reader then
                execute format('grant usage on schema %I to {{ reader }}', rel.nspname);
            end if;
            if has_legacy then
                -- before row scope, ioc_bi read every mart and got every new one by default
                execute format('revoke usage on schema %I from ioc_bi', rel.nspname);
                execute format('alter default privileges in schema %I revoke select on tables from ioc_bi',
                               rel.nspname);
            end if;
        end loop;
        if has_reader and to_regclass('access.unit_scope') is not null then
            execute 'grant usage on schema access to {{ reader }}';
            execute 'grant select on access.unit_scope to {{ reader }}';
        end if;
        if has_public and exists (select 1 from pg_namespace where nspname = '{{ public_schema }}') then
            execute 'grant usage on schema {{ public_schema }} to {{ public_role }}';
            execute 'grant select on all tables in schema {{ public_schema }} to {{ public_role }}';
            execute 'alter default privileges in schema {{ public_schema }} grant select on tables to {{ public_role }}';
        end if;
    end
    $sweep$;
{% endmacro %}

{#- A pre-hook for incremental marts that lost a column: an incremental run keeps columns the
    model no longer has (contracts allow only append_new_columns), with their old values.
    Used where the column held personal data (fct_phan_anh.tieu_de). -#}
{% macro drop_column_if_exists(column) -%}
    do $drop$ begin
        if exists (select 1 from information_schema.columns
                   where table_schema = '{{ this.schema }}' and table_name = '{{ this.identifier }}'
                     and column_name = '{{ column }}') then
            execute 'alter table {{ this }} drop column {{ adapter.quote(column) }}';
        end if;
    end $drop$
{%- endmacro %}
