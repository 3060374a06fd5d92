-- The stored fit of the renewal model (written by cslib.views.renewal_model.write_model_tables
-- at build time, after the SQL models): the page and `report model` read these tables
-- and never fit anything. Empty tables and is_fitted = false when the book is too small.
create or replace table model_renewal_fit (
    is_fitted boolean not null,
    message varchar,  -- why the model could not be fitted (NULL when fitted)
    target varchar not null,
    test_share double not null,
    split_on date,
    train_last_due_on date,
    test_first_due_on date,
    n_train integer,
    n_test integer
);

create or replace table model_renewal_metrics (
    model varchar,
    label varchar,
    auc double,
    brier double,
    accuracy double,
    n_train integer,
    n_test integer,
    test_renewal_rate double,
    mean_predicted double,
    brier_constant double
);

create or replace table model_renewal_calibration (
    model varchar,
    label varchar,
    bin_low double,
    bin_high double,
    mean_predicted double,
    observed_rate double,
    n integer
);

create or replace table model_renewal_importance (
    segment varchar,
    feature varchar,
    label varchar,
    importance double,
    importance_std double,
    n integer
);

create or replace table model_renewal_predictions (
    account_id varchar,
    due_on date,
    outcome varchar,
    is_decided boolean,
    is_test boolean,
    is_train boolean,
    p_boosted double,
    p_logistic double,
    driver_1 varchar,
    driver_2 varchar,
    driver_3 varchar
);

-- The boosted model against the logistic baseline on the test set (cslib.views.renewal_model.
-- compare_models): one row per metric (auc, brier); difference = boosted - baseline with
-- its paired-bootstrap interval; verdict ('beats' | 'tie' | 'worse') on both rows.
create or replace table model_renewal_comparison (
    metric varchar,
    boosted double,
    baseline double,
    difference double,
    ci_low double,
    ci_high double,
    better varchar,
    n_resamples integer,
    seed integer,
    confidence double,
    verdict varchar
);
