//! The channel the records describe (sim/MODEL.md §12, "The channel"): the currency its
//! sales are read in, its regions with unique names and their seats.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chanlab_shared::{Currency, PartnerId, RegionId, RepId, RepStatus, SalesRecord};

use super::{Options, Records, RegionReport};

/// Sales records per currency code, and the most common currency (a tie goes to the code
/// first in alphabetical order): the currency a channel's records are read in, by the
/// scenario built from them and by the backtest that scores it.
pub fn currencies<'s>(
    sales: impl Iterator<Item = &'s SalesRecord>,
) -> (BTreeMap<&'static str, (u64, Currency)>, Option<Currency>) {
    let mut by_currency: BTreeMap<&'static str, (u64, Currency)> = BTreeMap::new();
    for s in sales {
        let c = s.sell_through().currency();
        by_currency.entry(c.code()).or_insert((0, c)).0 += 1;
    }
    let main = by_currency
        .values()
        .max_by_key(|(n, c)| (*n, std::cmp::Reverse(c.code())))
        .map(|(_, c)| *c);
    (by_currency, main)
}

/// sim/MODEL.md §12 "The channel": the sales of known partners in the currency most of
/// them use, and that currency (EUR when there are none); records in other currencies are
/// left out (noted).
pub(super) fn sales_in_main_currency<'r>(
    records: Records<'r>,
    notes: &mut Vec<String>,
) -> (Currency, Vec<&'r SalesRecord>) {
    let partner_ids: BTreeSet<PartnerId> = records.partners.iter().map(|p| p.id).collect();
    let (by_currency, main) = currencies(
        records
            .sales
            .iter()
            .filter(|s| partner_ids.contains(&s.partner_id())),
    );
    let currency = main.unwrap_or(Currency::EUR);
    if by_currency.len() > 1 {
        let others: u64 = by_currency
            .values()
            .filter(|(_, c)| *c != currency)
            .map(|(n, _)| n)
            .sum();
        notes.push(format!(
            "sales are recorded in {} currencies; the {others} records not in {} were left out",
            by_currency.len(),
            currency.code()
        ));
    }
    let sales = records
        .sales
        .iter()
        .filter(|s| {
            partner_ids.contains(&s.partner_id()) && s.sell_through().currency() == currency
        })
        .collect();
    (currency, sales)
}

/// A region of the scenario being built.
pub(super) struct RegionDraft {
    /// What the report will say of it; `seats` may still grow by one.
    pub(super) report: RegionReport,
    /// Whether any partner of the records is in it.
    pub(super) has_partners: bool,
}

/// sim/MODEL.md §12 "The channel": every region, in records order, with a unique name (a
/// repeated name gets ` (2)`), its seats its reps who have not left, by seat index (reps
/// on leave count as filled seats, noted), and the index of each region by id.
pub(super) fn regions(
    records: Records<'_>,
    options: &Options,
    notes: &mut Vec<String>,
) -> (Vec<RegionDraft>, HashMap<RegionId, usize>) {
    let mut region_names: BTreeSet<String> = BTreeSet::new();
    let mut regions: Vec<RegionDraft> = Vec::new();
    let mut region_index: HashMap<RegionId, usize> = HashMap::new();
    for region in records.regions {
        let mut name = region.name.as_str().to_owned();
        let mut k = 2;
        while region_names.contains(&name) {
            name = format!("{} ({k})", region.name.as_str());
            k += 1;
        }
        region_names.insert(name.clone());
        let reps: Vec<RepId> = records
            .reps
            .iter()
            .filter(|r| r.region_id == region.id && r.status != RepStatus::Departed)
            .map(|r| r.id)
            .collect();
        region_index.insert(region.id, regions.len());
        regions.push(RegionDraft {
            report: RegionReport {
                region_id: region.id,
                name,
                seats: reps.len() as u32,
                reps,
                backing_method: if options.backing.contains_key(&region.id) {
                    "calibrated".to_owned()
                } else {
                    "default".to_owned()
                },
            },
            has_partners: false,
        });
    }
    let on_leave = records
        .reps
        .iter()
        .filter(|r| r.status == RepStatus::OnLeave)
        .count();
    if on_leave > 0 {
        notes.push(format!(
            "{on_leave} rep(s) on leave are counted as filled seats"
        ));
    }
    (regions, region_index)
}

/// sim/MODEL.md §12 "The channel": a region with partners but no rep gets one seat (noted),
/// so its partners are served.
pub(super) fn seat_every_region(regions: &mut [RegionDraft], notes: &mut Vec<String>) {
    for region in regions {
        if region.has_partners && region.report.seats == 0 {
            region.report.seats = 1;
            notes.push(format!(
                "region {:?} has partners but no rep: one seat added",
                region.report.name
            ));
        }
    }
}

/// Seats over all regions.
pub(super) fn seats(regions: &[RegionDraft]) -> u32 {
    regions.iter().map(|r| r.report.seats).sum()
}
