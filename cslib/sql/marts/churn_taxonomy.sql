-- churn_taxonomy: the reason taxonomy with normalised codes (one row per code).
--
-- Source: raw_reason_taxonomy (the imported reason_taxonomy.csv, or the shipped default
-- cslib/config/reason_taxonomy.csv that cslib.views.churn.ensure_taxonomy loads when it is empty).
-- * reason_code and category are normalised like csm_logs.reason_code (cslib.views.churn.normalise_code):
--   surrounding whitespace removed, lower case, every run of whitespace/hyphens -> '_'.
-- * label: trimmed free text; empty -> the normalised code.
-- * owner_department: empty -> 'unassigned'; category empty -> 'uncategorised'.
-- * A code that normalises to the same value twice is rejected by the importer; here the
--   first row in file order wins. sort_order keeps the file order for display.
create or replace table churn_taxonomy as
with taxonomy as (
    select * from stg_reason_taxonomy
),

normalised as (
    select
        file_row,
        reason_code_normalised as reason_code,
        nullif(trim(label), '') as label,
        nullif(
            regexp_replace(lower(regexp_replace(category, '^\s+|\s+$', '', 'g')), '[\s-]+', '_', 'g'), ''
        ) as category,
        coalesce(is_avoidable, false) as is_avoidable,
        nullif(trim(owner_department), '') as owner_department
    from taxonomy
),

final as (
    select
        reason_code,
        coalesce(label, reason_code) as label,
        coalesce(category, 'uncategorised') as category,
        is_avoidable,
        coalesce(owner_department, 'unassigned') as owner_department,
        cast(row_number() over (order by file_row) as integer) as sort_order
    from normalised
    where reason_code is not null
    qualify row_number() over (partition by reason_code order by file_row) = 1
)

select * from final
