//! `chanlab token create`: makes a bearer token directly on a data directory, for the first
//! admin token and for scripts. The server must not be running on that directory (sled
//! lets one process open it); with a running server, use `POST /tokens` instead.

use std::io::{self, Write};

use anyhow::{Context, anyhow};
use chanlab_api::auth::{RoleName, TokenRequest, create_token_blocking};
use chanlab_api::startup::open_storage;
use chanlab_api::storage::Store;
use chanlab_shared::{Name, RegionId, RepId};

use super::Outcome;

/// Token commands.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum TokenCommand {
    /// Create a token and print it on stdout (only its hash is stored).
    ///
    /// Example: TOKEN=$(chanlab token create --role admin --data-dir ./chanlab-data)
    Create(CreateArgs),
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
    /// The server's records (its servers may be running on a database).
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
    let TokenCommand::Create(args) = command;
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
    };
    let storage: std::sync::Arc<dyn chanlab_api::storage::Storage> = match &args.store.database_url
    {
        Some(url) => std::sync::Arc::new(
            chanlab_api::storage::PostgresStorage::connect(url, 2)
                .map_err(|e| anyhow!("opening the database: {}", e.message))?,
        ),
        None => std::sync::Arc::new(open_storage(&args.store.data_dir).context(
            "opening the data directory (is `chanlab serve` running on it? then use POST /tokens)",
        )?),
    };
    let store = Store::new(storage);
    let created = create_token_blocking(&store, &request).map_err(|e| {
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
    })?;
    writeln!(out, "{}", created.token).context("writing the token")?;
    let _ = writeln!(
        io::stderr().lock(),
        "created {} token {} — only its hash is stored; keep it now",
        created.role.as_str(),
        created.id
    );
    Ok(Outcome::Success)
}
