-- What-if book (run in the what-if's in-memory database, the app's file attached
-- read-only as src): the accounts whose usage is copied and re-scored: every account
-- with an account-month or a renewal in the slice. The Filters predicate is spliced in
-- twice by cslib.views.whatif (alias f), so its values are bound twice, in order.
create or replace table whatif_accounts as
with months as (
    select f.account_id
    from src.account_month as f
    where /* filter_predicate */ true
),

renewals as (
    select f.account_id
    from src.model_renewal_features as f
    where /* filter_predicate */ true
),

final as (
    select account_id from months
    union
    select account_id from renewals
)

select * from final
