-- What-if book (run in the what-if's in-memory database, the app's file attached
-- read-only as src): the accounts whose usage is copied and re-scored: every account
-- with an account-month or a renewal in the slice. Both kinds of row carry the columns the
-- sidebar filters read (cslib.filters.FILTER_COLUMNS, is_target, account_id), so the
-- filter_predicate marker (alias f, attributes read from src) stands once, over their union;
-- a filter column added there and not here fails loudly (unknown column), never silently.
create or replace table whatif_accounts as
with months as (
    select account_id, is_target, segment, industry, region, source_channel, csm_team, csm, lifecycle_stage
    from src.account_month
),

renewals as (
    select account_id, is_target, segment, industry, region, source_channel, csm_team, csm, lifecycle_stage
    from src.model_renewal_features
),

final as (
    select distinct f.account_id
    from (
        select * from months
        union all
        select * from renewals
    ) as f
    where /* filter_predicate */ true
)

select * from final
