//! Partners and their lifecycle.
//!
//! A partner's lifecycle stage is a state machine:
//!
//! ```text
//! prospect → negotiating → contracted → active ⇄ at_risk → churned
//!                 ↓                                          │
//!               lost ──────────→ prospect ←──────────────────┘
//! ```
//!
//! `at_risk → active` is a recovery; `lost → prospect` and `churned → prospect` re-open a
//! partner for recruiting later. Every other move is an [`IllegalTransition`], which carries
//! the moves that *are* allowed so the API can tell the caller what to do instead. The stage
//! of a [`Partner`] changes only through [`Partner::transition`].

use std::fmt;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use chrono::NaiveDate;
use uuid::Uuid;

use crate::id::{PartnerId, RegionId, RepId};
use crate::value::{ExternalId, Name};

/// What sort of business a partner is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PartnerKind {
    /// Buys in volume and resells to resellers.
    Distributor,
    /// Sells to end customers, usually with services.
    Reseller,
    /// Sells on our behalf for a fee, holds no stock.
    Agent,
    /// Builds solutions that include our products.
    SystemIntegrator,
    /// Refers leads and is paid per referral.
    Referral,
}

/// A partner's tier: A partners get the most attention, C the least.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
pub enum Tier {
    /// Strategic partners.
    A,
    /// Core partners.
    B,
    /// Long-tail partners.
    C,
}

impl Tier {
    /// Every tier, best first.
    pub const ALL: [Tier; 3] = [Tier::A, Tier::B, Tier::C];
}

/// Where a partner stands in its lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LifecycleStage {
    /// Identified, not yet in talks.
    Prospect,
    /// In contract negotiation.
    Negotiating,
    /// Contract signed, not yet selling.
    Contracted,
    /// Selling.
    Active,
    /// Selling less, or disengaging; needs attention.
    AtRisk,
    /// Stopped selling.
    Churned,
    /// Negotiation failed.
    Lost,
}

impl LifecycleStage {
    /// Every stage, in lifecycle order.
    pub const ALL: [LifecycleStage; 7] = [
        LifecycleStage::Prospect,
        LifecycleStage::Negotiating,
        LifecycleStage::Contracted,
        LifecycleStage::Active,
        LifecycleStage::AtRisk,
        LifecycleStage::Churned,
        LifecycleStage::Lost,
    ];

    /// The stages this one may move to.
    pub const fn allowed_next(self) -> &'static [LifecycleStage] {
        use LifecycleStage::*;
        match self {
            Prospect => &[Negotiating],
            Negotiating => &[Contracted, Lost],
            Contracted => &[Active],
            Active => &[AtRisk],
            AtRisk => &[Active, Churned],
            Churned | Lost => &[Prospect],
        }
    }

    /// Whether `self → to` is a legal move.
    pub fn can_move_to(self, to: LifecycleStage) -> bool {
        self.allowed_next().contains(&to)
    }

    /// True for the stages in which a partner buys and sells (`active`, `at_risk`).
    pub const fn is_selling(self) -> bool {
        matches!(self, LifecycleStage::Active | LifecycleStage::AtRisk)
    }

    /// The name used in JSON and CSV, e.g. `at_risk`.
    pub const fn as_str(self) -> &'static str {
        match self {
            LifecycleStage::Prospect => "prospect",
            LifecycleStage::Negotiating => "negotiating",
            LifecycleStage::Contracted => "contracted",
            LifecycleStage::Active => "active",
            LifecycleStage::AtRisk => "at_risk",
            LifecycleStage::Churned => "churned",
            LifecycleStage::Lost => "lost",
        }
    }
}

impl fmt::Display for LifecycleStage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A lifecycle move outside the graph, e.g. `prospect → active`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a partner cannot move from {from} to {to}; from {from} it can move to: {}", list(.allowed))]
pub struct IllegalTransition {
    /// The stage the partner is in.
    pub from: LifecycleStage,
    /// The stage that was asked for.
    pub to: LifecycleStage,
    /// The stages it could move to instead.
    pub allowed: Vec<LifecycleStage>,
}

fn list(stages: &[LifecycleStage]) -> String {
    let names: Vec<&str> = stages.iter().map(|s| s.as_str()).collect();
    names.join(", ")
}

/// A channel partner.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Partner {
    /// The partner's id.
    pub id: PartnerId,
    /// Trading name.
    pub name: Name,
    /// What sort of business it is.
    pub kind: PartnerKind,
    /// Its tier.
    pub tier: Tier,
    /// The region it belongs to.
    pub region_id: RegionId,
    /// The rep who owns the relationship, if one is assigned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_rep_id: Option<RepId>,
    /// Lifecycle stage; changed only through [`Partner::transition`].
    stage: LifecycleStage,
    /// The record's code in another system (a CRM's), unique among records of its kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<ExternalId>,
    /// Who made the record and when (set by the API, ignored on input).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<crate::Stamp>,
    /// Who changed it last and when (set by the API, ignored on input).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_by: Option<crate::Stamp>,
}

impl Partner {
    /// A partner record in `stage`. New partners usually start as prospects; importing an
    /// existing channel may start them anywhere.
    pub fn new(
        id: PartnerId,
        name: Name,
        kind: PartnerKind,
        tier: Tier,
        region_id: RegionId,
        owner_rep_id: Option<RepId>,
        stage: LifecycleStage,
    ) -> Self {
        Self {
            id,
            name,
            kind,
            tier,
            region_id,
            owner_rep_id,
            stage,
            external_id: None,
            created_by: None,
            updated_by: None,
        }
    }

    /// The current lifecycle stage.
    pub fn stage(&self) -> LifecycleStage {
        self.stage
    }

    /// Moves the partner to `to`, or explains which moves are allowed.
    pub fn transition(&mut self, to: LifecycleStage) -> Result<(), IllegalTransition> {
        if self.stage.can_move_to(to) {
            self.stage = to;
            Ok(())
        } else {
            Err(IllegalTransition {
                from: self.stage,
                to,
                allowed: self.stage.allowed_next().to_vec(),
            })
        }
    }
}

/// One dated lifecycle move of a partner: the partner's stage history, from which churn,
/// signing and recovery rates are read (sim/MODEL.md §12).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StageChange {
    /// The move's id (a UUIDv7, so moves recorded one after another sort in that order).
    #[schema(value_type = String, format = Uuid)]
    pub id: Uuid,
    /// The partner that moved.
    pub partner_id: PartnerId,
    /// The stage it left.
    pub from: LifecycleStage,
    /// The stage it entered.
    pub to: LifecycleStage,
    /// The day the move took effect.
    #[schema(value_type = String, format = Date, example = "2026-11-12")]
    pub on: NaiveDate,
    /// The partner's owner rep at the time of the move.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_rep_id: Option<RepId>,
}

impl StageChange {
    /// Checks a move's effective date against `today` (the caller's clock, so this crate
    /// reads none): a move is recorded once it has happened, so a date after today is
    /// refused. The error names `on`.
    pub fn check_on(on: NaiveDate, today: NaiveDate) -> Result<(), crate::ValidationError> {
        if on > today {
            return Err(crate::ValidationError::new(
                "on",
                format!(
                    "a move is recorded once it has happened: expected a date on or before today ({today}), found {on}"
                ),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use LifecycleStage::*;

    const LEGAL: [(LifecycleStage, LifecycleStage); 9] = [
        (Prospect, Negotiating),
        (Negotiating, Contracted),
        (Negotiating, Lost),
        (Contracted, Active),
        (Active, AtRisk),
        (AtRisk, Active),
        (AtRisk, Churned),
        (Churned, Prospect),
        (Lost, Prospect),
    ];

    fn partner_in(stage: LifecycleStage) -> Partner {
        Partner::new(
            PartnerId::new(),
            Name::parse("Acme").unwrap(),
            PartnerKind::Reseller,
            Tier::B,
            RegionId::new(),
            None,
            stage,
        )
    }

    #[test]
    fn every_legal_transition_is_accepted() {
        for (from, to) in LEGAL {
            let mut p = partner_in(from);
            assert_eq!(p.transition(to), Ok(()), "{from} → {to}");
            assert_eq!(p.stage(), to);
        }
    }

    #[test]
    fn every_other_transition_is_rejected_with_the_allowed_moves() {
        let mut rejected = 0;
        for from in LifecycleStage::ALL {
            for to in LifecycleStage::ALL {
                if LEGAL.contains(&(from, to)) {
                    continue;
                }
                let mut p = partner_in(from);
                let err = p.transition(to).unwrap_err();
                assert_eq!(err.allowed, from.allowed_next().to_vec());
                assert_eq!(p.stage(), from, "a rejected move must not change the stage");
                rejected += 1;
            }
        }
        assert_eq!(rejected, 7 * 7 - LEGAL.len());
    }

    #[test]
    fn an_illegal_transition_names_the_way_forward() {
        let err = partner_in(Prospect).transition(Active).unwrap_err();
        assert_eq!(
            err.to_string(),
            "a partner cannot move from prospect to active; from prospect it can move to: negotiating"
        );
    }

    #[test]
    fn only_active_and_at_risk_partners_sell() {
        let selling: Vec<_> = LifecycleStage::ALL
            .into_iter()
            .filter(|s| s.is_selling())
            .collect();
        assert_eq!(selling, vec![Active, AtRisk]);
    }

    #[test]
    fn a_move_dated_today_or_earlier_is_accepted_and_a_later_one_names_on() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();

        assert_eq!(StageChange::check_on(today, today), Ok(()));
        assert_eq!(
            StageChange::check_on(today.pred_opt().unwrap(), today),
            Ok(())
        );
        let err = StageChange::check_on(today.succ_opt().unwrap(), today).unwrap_err();
        assert_eq!(err.field(), "on");
        assert!(err.message().contains("2026-12-01"), "{err}");
    }

    #[test]
    fn stage_names_match_their_json_form() {
        for stage in LifecycleStage::ALL {
            let json = serde_json::to_string(&stage).unwrap();
            assert_eq!(json, format!("\"{}\"", stage.as_str()));
        }
    }
}
