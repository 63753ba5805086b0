{#- Report periods as intake writes them: `YYYY-MM` (a month) or `YYYY-HK1` / `YYYY-HK2`
    (school semesters of school year YYYY–YYYY+1: HK1 September–January, HK2 February–May). -#}

{% macro period_start(period) -%}
    case
        when {{ period }} ~ '^\d{4}-\d{2}$'
            then to_date({{ period }} || '-01', 'YYYY-MM-DD')
        when {{ period }} ~ '^\d{4}-HK1$'
            then make_date(left({{ period }}, 4)::int, 9, 1)
        when {{ period }} ~ '^\d{4}-HK2$'
            then make_date(left({{ period }}, 4)::int + 1, 2, 1)
    end
{%- endmacro %}

{% macro period_end(period) -%}
    case
        when {{ period }} ~ '^\d{4}-\d{2}$'
            then (to_date({{ period }} || '-01', 'YYYY-MM-DD') + interval '1 month - 1 day')::date
        when {{ period }} ~ '^\d{4}-HK1$'
            then make_date(left({{ period }}, 4)::int + 1, 1, 31)
        when {{ period }} ~ '^\d{4}-HK2$'
            then make_date(left({{ period }}, 4)::int + 1, 5, 31)
    end
{%- endmacro %}

{#- A free-text field name (lĩnh vực) as a join key: NFC, trimmed, single spaces, lower case. -#}
{% macro text_key(expr) -%}
    lower(regexp_replace(trim(normalize({{ expr }}, nfc)), '\s+', ' ', 'g'))
{%- endmacro %}
