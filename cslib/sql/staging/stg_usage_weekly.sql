-- stg_usage_weekly: usage rolled up to account x Monday week x name, missing weeks filled.
-- Sources (all optional):
--   raw_usage_metrics        long rows (account_id, date, metric, value), any day of the
--                            week, several rows per day allowed
--   raw_usage_weekly         wide weekly rows: each usage column is a name
--   raw_module_usage_weekly  name = module, value = records
-- A name declared in cfg_metrics is a METRIC (is_feature false): its rows of one week
-- become one value with the metric's aggregation (sum, max, min, avg, last = the value of
-- the latest day, the largest on that day; days_active = distinct days with a value > 0).
-- Every other name is a FEATURE (is_feature true): its weekly value is the sum of its rows.
-- A name that usage_metrics gives is taken from usage_metrics only (a usage_weekly column
-- or module of the same name is then ignored), so no week is counted twice. The weekly
-- files are one row per account, week (and module): their rows pass through unchanged
-- (days_active of a weekly row: 1 when its value > 0).
-- Missing weeks (cfg_metrics.missing; is_filled true on the rows added here): for every
-- account-week in scope, a metric without a value gets 0 ('zero') or its latest earlier
-- value ('carry'; nothing when there is none); 'none' adds nothing. In scope: the weeks
-- in which the account has any usage row, and the Monday weeks of every month in which
-- the account has revenue (stg_revenue mrr > 0), from the account's first week with a
-- usage row (before it, or without any, the account is unscored, not silent) to the last
-- week with any usage row in the data (usage that ends in June does not fill July).
create or replace table stg_usage_weekly as
with metrics as (
    select metric, aggregation, missing from cfg_metrics
),

-- a bit per declared metric (at most 64: cslib.rules.scorecard.MAX_METRICS), so that
-- which metrics an account-week has is one integer, not its rows held again
metric_bits as (
    select metric, missing, 1::ubigint << (row_number() over (order by metric) - 1)::ubigint as bit
    from metrics
),

-- every name of usage_metrics, with what the roll-up needs of it: metric or feature, its
-- aggregation, its metric bit, and a bit per name (none beyond 64 names: the check below
-- then fails), so each long row takes one join
long_names as (
    select
        n.metric,
        m.metric is null as is_feature,
        coalesce(m.aggregation, 'sum') as aggregation,
        b.bit as metric_bit,
        case when n.i <= 64 then 1::ubigint << (n.i - 1)::ubigint end as name_bit
    from (select metric, row_number() over (order by metric) as i
          from (select distinct metric from raw_usage_metrics)) as n
    left join metrics as m on m.metric = n.metric
    left join metric_bits as b on b.metric = n.metric
),

-- not materialized: each reader reads its own rows from the scan (holding every row
-- with its aggregation first cost more than the groupings themselves)
long_rows as not materialized (
    select
        r.account_id,
        r.date,
        (r.date - (isodow(r.date) - 1)::integer)::date as week_start,
        r.metric,
        r.value,
        n.is_feature,
        n.aggregation,
        n.metric_bit,
        n.name_bit
    from raw_usage_metrics as r
    inner join long_names as n on n.metric = r.metric
),

-- One grouping of the long rows by account and Monday week answers two questions:
-- * which declared metrics the account-week has (a week's rolled-up rows have the names
--   of its raw rows: every aggregation gives a value for a name with a row);
-- * is the file already weekly: every date a Monday and at most one row per account,
--   date and name (the usual weekly export). All Mondays make a week's rows one date's,
--   and a repeated name shows as fewer name bits than rows. Then every aggregation of a
--   week's single row is that row's value (days_active: 1 when it is > 0), and the rows
--   pass through without grouping. With more than 64 names the grouping runs.
long_weeks as materialized (
    select
        account_id,
        week_start,
        bool_and(isodow(date) = 1) as is_monday,
        count(*) as n,
        bit_or(name_bit) as names,
        bit_or(metric_bit) as has_metrics
    from long_rows
    group by account_id, week_start
),

already_weekly as materialized (
    select (select count(*) from long_names) <= 64
        and coalesce(bool_and(is_monday and n = bit_count(names)), true) as yes
    from long_weeks
),

-- already weekly: the rows as they are; else one grouping per aggregation, so each group
-- computes only its own aggregate
long_weekly as not materialized (
    select
        account_id, week_start, metric, is_feature,
        case
            when aggregation = 'days_active' then (value > 0)::double
            when aggregation in ('sum', 'avg') then value + 0.0  -- as sum() and avg() give -0.0: 0.0
            else value
        end as value
    from long_rows where (select yes from already_weekly)
    union all
    select account_id, week_start, metric, is_feature, sum(value) as value
    from long_rows where aggregation = 'sum' and not (select yes from already_weekly) group by all
    union all
    select account_id, week_start, metric, is_feature, max(value)
    from long_rows where aggregation = 'max' and not (select yes from already_weekly) group by all
    union all
    select account_id, week_start, metric, is_feature, min(value)
    from long_rows where aggregation = 'min' and not (select yes from already_weekly) group by all
    union all
    select account_id, week_start, metric, is_feature, avg(value)
    from long_rows where aggregation = 'avg' and not (select yes from already_weekly) group by all
    union all
    -- the latest day's value; the largest when that day has several rows
    select account_id, week_start, metric, is_feature, max({'d': date, 'v': value}).v
    from long_rows where aggregation = 'last' and not (select yes from already_weekly) group by all
    union all
    select account_id, week_start, metric, is_feature, (count(distinct date) filter (where value > 0))::double
    from long_rows where aggregation = 'days_active' and not (select yes from already_weekly) group by all
),

wide_long as (
    unpivot (
        select
            account_id,
            week_start,
            seats_purchased::double as seats_purchased,
            seats_activated::double as seats_activated,
            users_logged_in::double as users_logged_in,
            users_bi::double as users_bi,
            records_created::double as records_created
        from raw_usage_weekly
    )
    on seats_purchased, seats_activated, users_logged_in, users_bi, records_created
    into name metric value value
),

wide_weekly as not materialized (
    select
        w.account_id,
        w.week_start,
        w.metric,
        m.metric is null as is_feature,
        case when m.aggregation = 'days_active' then (w.value > 0)::double else w.value end as value,
        b.bit as metric_bit
    from wide_long as w
    left join metrics as m on m.metric = w.metric
    left join metric_bits as b on b.metric = w.metric
    where w.metric not in (select metric from long_names)
),

module_weekly as not materialized (
    select
        u.account_id,
        u.week_start,
        u.module as metric,
        m.metric is null as is_feature,
        case when m.aggregation = 'days_active' then (u.records > 0)::double else u.records::double end as value,
        b.bit as metric_bit
    from raw_module_usage_weekly as u
    left join metrics as m on m.metric = u.module
    left join metric_bits as b on b.metric = u.module
    where u.module not in (select metric from long_names)
),

-- the rolled-up rows; not materialized: the roll-up writes them once, and only an account
-- with a 'carry' gap reads them again
weekly as not materialized (
    select account_id, week_start, metric, is_feature, value from long_weekly
    union all
    select account_id, week_start, metric, is_feature, value from wide_weekly
    union all
    select account_id, week_start, metric, is_feature, value from module_weekly
),

-- every account-week with any row, and the bits of the declared metrics it has
usage_weeks as materialized (
    select account_id, week_start, bit_or(has_metrics) as has_metrics
    from (
        select account_id, week_start, has_metrics from long_weeks
        union all
        select account_id, week_start, bit_or(metric_bit) from wide_weekly group by account_id, week_start
        union all
        select account_id, week_start, bit_or(metric_bit) from module_weekly group by account_id, week_start
    )
    group by account_id, week_start
),

bounds as (
    select min(week_start) as first_week, max(week_start) as last_week from usage_weeks
),

first_usage as (
    select account_id, min(week_start) as first_week from usage_weeks group by account_id
),

paying_months as (
    select account_id, month_start
    from stg_revenue
    group by account_id, month_start
    having sum(mrr) > 0
),

calendar_weeks as (
    select
        w.week_start::date as week_start,
        date_trunc('month', w.week_start)::date as month_start
    from bounds as b,
        unnest(generate_series(b.first_week::timestamp, b.last_week::timestamp, interval 7 day)) as w (week_start)
    where b.first_week is not null
),

-- weeks that may lack a metric, with the metrics they have: paying weeks without usage
-- rows (none), and usage weeks without every declared metric
scope as (
    select p.account_id, c.week_start, 0::ubigint as has_metrics
    from paying_months as p
    inner join first_usage as f on f.account_id = p.account_id
    inner join calendar_weeks as c
        on c.month_start = p.month_start
        and c.week_start > f.first_week
    anti join usage_weeks as u on u.account_id = p.account_id and u.week_start = c.week_start
    union all
    select account_id, week_start, coalesce(has_metrics, 0::ubigint)
    from usage_weeks
    where bit_count(coalesce(has_metrics, 0::ubigint)) < (select count(*) from metrics)
),

gaps as (
    select s.account_id, s.week_start, m.metric, m.missing
    from scope as s
    cross join metric_bits as m
    where m.missing <> 'none'
        and s.has_metrics & m.bit = 0
),

carry_gaps as (
    select account_id, week_start, metric from gaps where missing = 'carry'
),

-- the known values of the carried metrics, only for accounts with a gap (usually few)
carry_sources as (
    select w.account_id, w.week_start, w.metric, w.value
    from weekly as w
    semi join (select distinct account_id, metric from carry_gaps) as g
        on g.account_id = w.account_id
        and g.metric = w.metric
),

carried as (
    select g.account_id, g.week_start, g.metric, w.value
    from carry_gaps as g
    asof inner join carry_sources as w
        on w.account_id = g.account_id
        and w.metric = g.metric
        and w.week_start < g.week_start
),

final as (
    select account_id, week_start, metric, is_feature, value, false as is_filled
    from weekly
    union all
    select account_id, week_start, metric, false, 0.0, true
    from gaps
    where missing = 'zero'
    union all
    select account_id, week_start, metric, false, value, true
    from carried
)

select * from final
