//! `chanlab token create|list|revoke|rotate`: tokens directly on a store, for the first
//! admin token and for scripts. On a sled data directory the server must not be running
//! (sled lets one process open it; with a running server use `POST /tokens`, `GET /tokens`,
//! `DELETE /tokens/{id}`, `POST /tokens/{id}/rotate`); on a database (`--database-url`)
//! its servers may run, and a revocation counts from their next request.

use std::io::{self, Write};

use anyhow::{Context, anyhow};
use chanlab_api::auth::tokens::{
    list_tokens_blocking, revoke_token_blocking, rotate_token_blocking,
};
use chanlab_api::auth::{RoleName, TokenRequest, TokenView, create_token_blocking};
use chanlab_api::error::ApiError;
use chanlab_api::startup::open_storage;
use chanlab_api::storage::Store;
use chanlab_shared::{Name, RegionId, RepId};
use uuid::Uuid;

use super::Outcome;
use crate::cli::OutputFormat;

/// Token commands.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum TokenCommand {
    /// Create a token and print it on stdout (only its hash is stored).
    ///
    /// Example: TOKEN=$(chanlab token create --role admin --data-dir ./chanlab-data)
    Create(CreateArgs),
    /// List the tokens: id, role, scope, label and dates (never a secret).
    List(ListArgs),
    /// Revoke a token: it fails from the next request on.
    Revoke(IdArgs),
    /// Give a token a new secret, printed on stdout; the old one fails from the next
    /// request on.
    Rotate(IdArgs),
}

/// What the new token may do.
#[derive(Debug, clap::Args)]
pub(crate) struct CreateArgs {
    /// admin, channel_manager, regional_manager, rep, viewer or trainee.
    #[arg(long, value_parser = parse_role)]
    pub(crate) role: RoleName,
    /// The region a regional_manager token manages.
    #[arg(long)]
    pub(crate) region: Option<String>,
    /// The rep a rep token belongs to.
    #[arg(long)]
    pub(crate) rep: Option<String>,
    /// Who or what the token is for.
    #[arg(long, default_value = "created on the command line")]
    pub(crate) label: String,
    /// Days until the token stops working [default: until it is revoked].
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=3650))]
    pub(crate) expires_in_days: Option<u16>,
    /// The server's records (its servers may be running on a database).
    #[command(flatten)]
    pub(crate) store: super::store::DataDir,
}

/// `token list`.
#[derive(Debug, clap::Args)]
pub(crate) struct ListArgs {
    /// `--format json`: one array.
    #[command(flatten)]
    pub(crate) format: crate::cli::FormatArg,
    /// The server's records.
    #[command(flatten)]
    pub(crate) store: super::store::DataDir,
}

/// `token revoke ID` and `token rotate ID`.
#[derive(Debug, clap::Args)]
pub(crate) struct IdArgs {
    /// The token's id, as `token list` and `GET /tokens` show it.
    pub(crate) id: String,
    /// The server's records.
    #[command(flatten)]
    pub(crate) store: super::store::DataDir,
}

fn parse_role(text: &str) -> Result<RoleName, String> {
    RoleName::ALL
        .into_iter()
        .find(|r| r.as_str() == text.trim())
        .ok_or_else(|| {
            let names: Vec<&str> = RoleName::ALL.iter().map(|r| r.as_str()).collect();
            format!("expected one of {}; found {text:?}", names.join(", "))
        })
}

pub(crate) fn run(command: TokenCommand, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    match command {
        TokenCommand::Create(args) => create(args, out),
        TokenCommand::List(args) => {
            let tokens = list_tokens_blocking(&open(&args.store)?).map_err(explain)?;
            match args.format.format {
                OutputFormat::Json => {
                    let text =
                        serde_json::to_string_pretty(&tokens).context("encoding the list")?;
                    writeln!(out, "{text}").context("writing the list")?;
                }
                OutputFormat::Text => out
                    .write_all(super::term::fit(&table(&tokens)).as_bytes())
                    .context("writing the list")?,
            }
            Ok(Outcome::Success)
        }
        TokenCommand::Revoke(args) => {
            let id = token_id(&args.id)?;
            let revoked = revoke_token_blocking(&open(&args.store)?, id).map_err(explain)?;
            let _ = writeln!(
                io::stderr().lock(),
                "revoked {} token {} ({})",
                revoked.role.as_str(),
                revoked.id,
                revoked.label
            );
            Ok(Outcome::Success)
        }
        TokenCommand::Rotate(args) => {
            let id = token_id(&args.id)?;
            let rotated = rotate_token_blocking(&open(&args.store)?, id).map_err(explain)?;
            writeln!(out, "{}", rotated.token).context("writing the token")?;
            let _ = writeln!(
                io::stderr().lock(),
                "rotated {} token {}: the old secret no longer works; keep this one now",
                rotated.role.as_str(),
                rotated.id
            );
            Ok(Outcome::Success)
        }
    }
}

fn create(args: CreateArgs, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let region_id = args
        .region
        .as_deref()
        .map(|r| {
            r.parse::<RegionId>()
                .map_err(|e| anyhow!("--region: {}", e.message()))
        })
        .transpose()?;
    let rep_id = args
        .rep
        .as_deref()
        .map(|r| {
            r.parse::<RepId>()
                .map_err(|e| anyhow!("--rep: {}", e.message()))
        })
        .transpose()?;
    let label = Name::parse(&args.label).map_err(|e| anyhow!("--label: {}", e.message()))?;
    let request = TokenRequest {
        role: args.role,
        region_id,
        rep_id,
        label,
        expires_at: None,
    };
    let lifetime = args
        .expires_in_days
        .map(|d| chrono::TimeDelta::days(i64::from(d)));
    let created =
        create_token_blocking(&open(&args.store)?, &request, lifetime).map_err(explain)?;
    writeln!(out, "{}", created.token).context("writing the token")?;
    let _ = writeln!(
        io::stderr().lock(),
        "created {} token {} — only its hash is stored; keep it now",
        created.role.as_str(),
        created.id
    );
    Ok(Outcome::Success)
}

fn token_id(text: &str) -> anyhow::Result<Uuid> {
    Uuid::parse_str(text.trim()).map_err(|_| {
        anyhow!("ID: {text:?} is not a token id; `chanlab token list` shows them (a UUID)")
    })
}

fn open(store: &super::store::DataDir) -> anyhow::Result<Store> {
    let storage: std::sync::Arc<dyn chanlab_api::storage::Storage> = match &store.database_url {
        Some(url) => std::sync::Arc::new(
            chanlab_api::storage::PostgresStorage::connect(url, 2)
                .map_err(|e| anyhow!("opening the database: {}", e.message))?,
        ),
        None => std::sync::Arc::new(open_storage(&store.data_dir).context(
            "opening the data directory (is `chanlab serve` running on it? then use the /tokens API)",
        )?),
    };
    Ok(Store::new(storage))
}

/// An API error as one line: its detail and the fields it names.
fn explain(e: ApiError) -> anyhow::Error {
    let p = e.problem();
    let fields: Vec<String> = p
        .errors
        .iter()
        .map(|f| format!("{}: {}", f.field, f.message))
        .collect();
    anyhow!(
        "{}{}",
        p.detail.unwrap_or(p.title),
        if fields.is_empty() {
            String::new()
        } else {
            format!(" ({})", fields.join("; "))
        }
    )
}

/// The tokens as an aligned table.
fn table(tokens: &[TokenView]) -> String {
    let date = |d: Option<chrono::DateTime<chrono::Utc>>| {
        d.map_or_else(
            || "-".to_owned(),
            |d| d.format("%Y-%m-%d %H:%M").to_string(),
        )
    };
    let mut rows = vec![
        [
            "id",
            "role",
            "scope",
            "label",
            "created",
            "expires",
            "last used",
        ]
        .map(str::to_owned),
    ];
    for t in tokens {
        let scope = match (t.region_id, t.rep_id) {
            (Some(r), _) => format!("region {r}"),
            (_, Some(r)) => format!("rep {r}"),
            _ => "-".to_owned(),
        };
        rows.push([
            t.id.to_string(),
            t.role.as_str().to_owned(),
            scope,
            t.label.to_string(),
            t.created_on.to_string(),
            date(t.expires_at),
            date(t.last_used_at),
        ]);
    }
    let widths: Vec<usize> = (0..7)
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut text = String::new();
    for row in &rows {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        text.push_str(cells.join("  ").trim_end());
        text.push('\n');
    }
    text
}
