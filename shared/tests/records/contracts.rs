//! `Contract`: the checks on its rebate schedule, the end of its term and the rebate rate
//! reached.

use chanlab_shared::{Contract, PeriodLength};

use crate::helpers::{
    assert_rejected, contract_terms, count, date, eur, rebate, sample_contract, usd,
};

#[test]
fn a_contract_with_rising_thresholds_and_rates_is_accepted() {
    let terms = contract_terms(vec![
        rebate(eur(500_000), 0.01),
        rebate(eur(1_000_000), 0.02),
    ]);
    let (id, partner_id) = (terms.id, terms.partner_id);

    let contract = Contract::new(terms).unwrap();

    assert_eq!(contract.id(), id);
    assert_eq!(contract.partner_id(), partner_id);
    assert_eq!(contract.start(), date(2026, 1, 1));
    assert_eq!(contract.term_months().get(), 12);
    assert_eq!(contract.margin().get(), 0.06);
    assert_eq!(contract.rebate_tiers().len(), 2);
    assert_eq!(contract.sell_in_target(), eur(1_000_000));
    assert_eq!(contract.target_period(), PeriodLength::Quarter);
}

#[test]
fn a_contract_without_rebate_tiers_is_accepted() {
    let contract = Contract::new(contract_terms(vec![])).unwrap();

    assert!(contract.rebate_tiers().is_empty());
    assert_eq!(contract.rebate_rate_for(eur(99_000_000)), 0.0);
}

#[test]
fn a_contract_with_a_negative_sell_in_target_is_rejected() {
    let mut terms = contract_terms(vec![]);
    terms.sell_in_target = eur(-1);

    assert_rejected(
        Contract::new(terms),
        "sell_in_target",
        "must not be negative",
    );
}

#[test]
fn a_contract_with_a_negative_rebate_threshold_is_rejected() {
    let terms = contract_terms(vec![rebate(eur(-100), 0.01)]);

    assert_rejected(
        Contract::new(terms),
        "rebate_tiers[0].threshold",
        "must not be negative",
    );
}

#[test]
fn a_contract_with_a_threshold_in_another_currency_is_rejected() {
    let terms = contract_terms(vec![
        rebate(eur(500_000), 0.01),
        rebate(usd(1_000_000), 0.02),
    ]);

    let err = Contract::new(terms).unwrap_err();

    assert_eq!(err.field(), "rebate_tiers[1].threshold");
    assert!(err.message().contains("currency EUR"), "{err}");
    assert!(err.message().contains("USD"), "{err}");
}

#[test]
fn a_contract_with_falling_rebate_thresholds_is_rejected() {
    let terms = contract_terms(vec![
        rebate(eur(1_000_000), 0.01),
        rebate(eur(500_000), 0.02),
    ]);

    assert_rejected(
        Contract::new(terms),
        "rebate_tiers[1].threshold",
        "thresholds must rise",
    );
}

#[test]
fn a_contract_with_a_repeated_rebate_threshold_is_rejected() {
    let terms = contract_terms(vec![
        rebate(eur(500_000), 0.01),
        rebate(eur(1_000_000), 0.02),
        rebate(eur(1_000_000), 0.03),
    ]);

    assert_rejected(
        Contract::new(terms),
        "rebate_tiers[2].threshold",
        "is not above",
    );
}

#[test]
fn a_contract_whose_higher_threshold_pays_less_is_rejected() {
    let terms = contract_terms(vec![
        rebate(eur(500_000), 0.02),
        rebate(eur(1_000_000), 0.01),
    ]);

    assert_rejected(
        Contract::new(terms),
        "rebate_tiers[1].rate",
        "must not pay less",
    );
}

#[test]
fn a_contract_whose_higher_threshold_pays_the_same_rate_is_accepted() {
    let terms = contract_terms(vec![
        rebate(eur(500_000), 0.02),
        rebate(eur(1_000_000), 0.02),
    ]);

    assert!(Contract::new(terms).is_ok());
}

#[test]
fn a_contract_ends_its_term_in_months_after_its_start() {
    let mut terms = contract_terms(vec![]);
    terms.start = date(2026, 3, 15);
    terms.term_months = count(10);

    let contract = Contract::new(terms).unwrap();

    assert_eq!(contract.end(), Some(date(2027, 1, 15)));
    assert_eq!(sample_contract().end(), Some(date(2027, 1, 1)));
}

#[test]
fn the_rebate_rate_is_the_rate_of_the_highest_threshold_reached() {
    let contract = sample_contract();

    assert_eq!(contract.rebate_rate_for(eur(0)), 0.0);
    assert_eq!(contract.rebate_rate_for(eur(499_999)), 0.0);
    assert_eq!(contract.rebate_rate_for(eur(500_000)), 0.01);
    assert_eq!(contract.rebate_rate_for(eur(999_999)), 0.01);
    assert_eq!(contract.rebate_rate_for(eur(1_000_000)), 0.02);
    assert_eq!(contract.rebate_rate_for(eur(50_000_000)), 0.02);
}

#[test]
fn sell_in_in_another_currency_earns_no_contract_rebate() {
    let contract = sample_contract();

    assert_eq!(contract.rebate_rate_for(usd(50_000_000)), 0.0);
}
