-- revenue_cohorts: net MRR retention by signing cohort (cslib.views.revenue.cohorts; a
-- parametrised query, not a model).
-- Parameters: $period_months (1 = month cohorts, 3 = quarter cohorts), $month_from and
-- $month_to (the window's first and last month, 'YYYY-MM'), $first_start (the first
-- month of the first cohort period: the window's first month, or its quarter's first
-- month); the filter_predicate marker is replaced as in revenue_movements.sql.
-- * An account's cohort is the period (month or calendar quarter) of its first revenue
--   month (tenure_months = 1). Cohorts that start inside the window are shown.
-- * base_mrr: the cohort's starting MRR, the sum of each account's MRR in its first
--   revenue month (its new MRR).
-- * A cohort at age k (k = 0 is the signing period) is measured at the last month of its
--   k-th period: cohort_mrr is the MRR of its accounts then (expansion, contraction,
--   churn and reactivation all count, as in ChartMogul's cohort net MRR retention).
--   Cells whose measuring month is after the window's last month are left out.
with params as (
    select
        cast($period_months as integer) as period_months,
        cast(strptime($month_from || '-01', '%Y-%m-%d') as date) as window_first_start,
        cast(strptime($month_to || '-01', '%Y-%m-%d') as date) as window_last_start
),

account_months as (
    select
        account_id,
        month_start,
        mrr,
        tenure_months,
        cast(month_start - to_months(tenure_months - 1) as date) as first_month_start
    from account_month
    where month >= $first_start  -- no cohort can be measured before its own start
        and month <= $month_to
        and (/* filter_predicate */ true)
),

with_cohort as (
    select
        a.*,
        case
            when p.period_months = 3 then cast(date_trunc('quarter', a.first_month_start) as date)
            else a.first_month_start
        end as cohort_start,
        p.period_months,
        p.window_first_start,
        p.window_last_start
    from account_months as a
    cross join params as p
),

in_window as (
    select *
    from with_cohort
    where cohort_start >= case
            when period_months = 3 then cast(date_trunc('quarter', window_first_start) as date)
            else window_first_start
        end
        and cohort_start <= window_last_start
        and month_start <= window_last_start
),

bases as (
    select cohort_start, sum(mrr) as base_mrr, count(*) as accounts
    from in_window
    where tenure_months = 1
    group by cohort_start
),

measured as (
    select
        cohort_start,
        cast(date_diff('month', cohort_start, month_start) // period_months as integer) as age,
        sum(mrr) as cohort_mrr,
        count(*) filter (where mrr > 0) as active_accounts
    from in_window
    where (date_diff('month', cohort_start, month_start) + 1) % period_months = 0
    group by cohort_start, age
),

final as (
    select
        m.cohort_start,
        m.age,
        b.accounts,
        b.base_mrr,
        m.cohort_mrr,
        m.active_accounts
    from measured as m
    inner join bases as b on b.cohort_start = m.cohort_start
)

select * from final
order by cohort_start, age
