//! `SalesRecord`: non-negative amounts in one currency, and the inventory change they imply.

use chanlab_shared::{PartnerId, SalesRecord, SalesRecordId};

use crate::helpers::{assert_rejected, eur, month, sales, usd};

#[test]
fn a_sales_record_with_non_negative_amounts_in_one_currency_is_accepted() {
    let id = SalesRecordId::new();
    let partner_id = PartnerId::new();

    let record = SalesRecord::new(id, partner_id, month("2026-11"), eur(500), eur(300)).unwrap();

    assert_eq!(record.id(), id);
    assert_eq!(record.partner_id(), partner_id);
    assert_eq!(record.month(), month("2026-11"));
    assert_eq!(record.sell_in(), eur(500));
    assert_eq!(record.sell_through(), eur(300));
}

#[test]
fn a_sales_record_with_negative_sell_in_is_rejected() {
    assert_rejected(sales(eur(-1), eur(0)), "sell_in", "must not be negative");
}

#[test]
fn a_sales_record_with_negative_sell_through_is_rejected() {
    assert_rejected(
        sales(eur(0), eur(-1)),
        "sell_through",
        "must not be negative",
    );
}

#[test]
fn a_sales_record_with_mixed_currencies_is_rejected() {
    let err = sales(eur(100), usd(100)).unwrap_err();

    assert_eq!(err.field(), "sell_through");
    assert!(err.message().contains("same currency as sell_in"), "{err}");
    assert!(
        err.message().contains("EUR") && err.message().contains("USD"),
        "{err}"
    );
}

#[test]
fn inventory_grows_when_a_partner_buys_more_than_it_sells() {
    let stuffing = sales(eur(1_000), eur(400)).unwrap();
    let destocking = sales(eur(200), eur(500)).unwrap();

    assert_eq!(stuffing.inventory_change(), Ok(eur(600)));
    assert_eq!(destocking.inventory_change(), Ok(eur(-300)));
}
