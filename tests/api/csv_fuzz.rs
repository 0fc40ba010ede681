//! Property tests of the CSV importers: random bytes and mutated valid files sent to the
//! three import endpoints are either imported whole or refused with a 4xx problem (naming
//! the rows and cells at fault) that wrote nothing; never a 5xx, never a partial import. In
//! process (no socket), so hundreds of files take seconds.

use std::cell::{Cell, RefCell};
use std::sync::Arc;

use actix_web::middleware::from_fn;
use actix_web::test as atest;
use actix_web::{App, web};
use chanlab_api::auth::{RoleName, TokenRequest, create_token_blocking};
use chanlab_api::startup::{app_config, open_storage};
use chanlab_api::state::AppState;
use chanlab_api::storage::Store;
use chanlab_shared::Name;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{Value, json};

const IMPORTS: [(&str, &str); 3] = [
    ("/partners/import", "/partners/export.csv"),
    ("/reps/import", "/reps/export.csv"),
    ("/sales-records/import", "/sales-records/export.csv"),
];

/// Values a mutated cell may take: empty, malformed, out of range, the wrong kind of id,
/// CSV metacharacters, odd Unicode.
const CELLS: &[&str] = &[
    "",
    " ",
    "-1",
    "0",
    "1e308",
    "NaN",
    "99999999999999999999999",
    "-0.001",
    "1.005",
    "12,5",
    "\"",
    "\"\"",
    "\"a\"\"b\"",
    "a\nb",
    "\r",
    "\u{0}",
    "\u{feff}",
    "é",
    "🙂",
    "A",
    "Z",
    "2026-13",
    "2026-02-30",
    "0000-01",
    "9999-12",
    "EUR",
    "XXX",
    "JPY",
    "active",
    "churned",
    "on_leave",
    "agent",
    "00000000-0000-0000-0000-000000000000",
    "01a22629-feb0-7398-9456-ae60e70bb2d9",
    "not-an-id",
];

/// The answer's status, content type and body.
type Reply = (u16, Option<String>, Vec<u8>);

struct Fixture {
    send: Box<dyn Fn(atest::TestRequest) -> Reply>,
    region: String,
    rep: String,
    partner: String,
    _dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(Arc::new(open_storage(dir.path()).unwrap()));
        let token = create_token_blocking(
            &store,
            &TokenRequest {
                role: RoleName::Admin,
                region_id: None,
                rep_id: None,
                label: Name::parse("csv fuzz").unwrap(),
                expires_at: None,
            },
            None,
        )
        .unwrap()
        .token;
        let rt = actix_web::rt::System::new();
        let app = rt.block_on(atest::init_service(
            App::new()
                .wrap(from_fn(chanlab_api::telemetry::log_and_problem))
                .configure(app_config(web::Data::new(AppState::new(store)))),
        ));
        let send = move |req: atest::TestRequest| -> Reply {
            let req = req
                .insert_header(("Authorization", format!("Bearer {token}")))
                .to_request();
            let res = rt.block_on(atest::call_service(&app, req));
            let status = res.status().as_u16();
            let ct = res
                .headers()
                .get("content-type")
                .map(|v| v.to_str().unwrap().to_owned());
            (status, ct, rt.block_on(atest::read_body(res)).to_vec())
        };
        let mut f = Fixture {
            send: Box::new(send),
            region: String::new(),
            rep: String::new(),
            partner: String::new(),
            _dir: dir,
        };
        f.region = f.create(
            "/regions",
            json!({"name": "Nordics", "regional_manager": "Astrid"}),
        );
        f.rep = f.create(
            "/reps",
            json!({"name": "Lars", "region_id": f.region, "hired_on": "2025-03-01", "status": "active"}),
        );
        f.partner = f.create(
            "/partners",
            json!({"name": "Acme", "kind": "agent", "tier": "A", "region_id": f.region}),
        );
        f
    }

    fn call(&self, req: atest::TestRequest) -> Reply {
        (self.send)(req)
    }

    fn create(&self, path: &str, body: Value) -> String {
        let (status, _, body) = self.call(atest::TestRequest::post().uri(path).set_json(body));
        assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
        serde_json::from_slice::<Value>(&body).unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    fn export(&self, path: &str) -> String {
        let (status, _, body) = self.call(atest::TestRequest::get().uri(path));
        assert_eq!(status, 200);
        String::from_utf8(body).unwrap()
    }

    /// Sends `csv` to `import`; checks the answer is all-or-nothing. Returns the status.
    fn import(&self, import: &str, export: &str, csv: &[u8]) -> Result<u16, TestCaseError> {
        let before = self.export(export);
        let (status, ct, body) = self.call(
            atest::TestRequest::post()
                .uri(import)
                .insert_header(("Content-Type", "text/csv"))
                .set_payload(csv.to_vec()),
        );
        let after = self.export(export);
        let text = String::from_utf8_lossy(&body);
        prop_assert!(
            status < 500,
            "{import} answered {status}: {text}\n{}",
            String::from_utf8_lossy(csv)
        );
        if status == 201 {
            let report: Value = serde_json::from_slice(&body).unwrap();
            let imported = report["imported"].as_u64().unwrap() as usize;
            prop_assert_eq!(report["ids"].as_array().unwrap().len(), imported);
            prop_assert_eq!(after.lines().count(), before.lines().count() + imported);
            for id in report["ids"].as_array().unwrap() {
                prop_assert!(after.contains(id.as_str().unwrap()));
            }
        } else {
            prop_assert!(
                [400, 409, 413, 415, 422].contains(&status),
                "{import}: {status} {text}"
            );
            prop_assert_eq!(ct.as_deref(), Some("application/problem+json"));
            prop_assert_eq!(&after, &before, "a refused import wrote something");
            if status == 422 {
                let problem: Value = serde_json::from_slice(&body).unwrap();
                for e in problem["errors"].as_array().unwrap() {
                    prop_assert!(e["field"].as_str().unwrap().starts_with("rows"), "{}", e);
                }
            }
        }
        Ok(status)
    }

    /// A valid file for import number `which` with `rows` rows (sales rows take the months of
    /// block `block`, so they do not collide with what earlier cases imported).
    fn valid(&self, which: usize, rows: usize, block: usize) -> Vec<Vec<String>> {
        let mut out = Vec::new();
        match which {
            0 => {
                out.push(
                    "id,name,kind,tier,region_id,owner_rep_id,stage"
                        .split(',')
                        .map(str::to_owned)
                        .collect(),
                );
                for i in 0..rows {
                    out.push(vec![
                        String::new(),
                        format!("Partner {i}"),
                        "distributor".into(),
                        ["A", "B", "C"][i % 3].into(),
                        self.region.clone(),
                        if i % 2 == 0 {
                            self.rep.clone()
                        } else {
                            String::new()
                        },
                        "active".into(),
                    ]);
                }
            }
            1 => {
                out.push(
                    "id,name,region_id,hired_on,status"
                        .split(',')
                        .map(str::to_owned)
                        .collect(),
                );
                for i in 0..rows {
                    out.push(vec![
                        String::new(),
                        format!("Rep {i}"),
                        self.region.clone(),
                        "2024-06-15".into(),
                        "active".into(),
                    ]);
                }
            }
            _ => {
                out.push(
                    "id,partner_id,month,currency,sell_in,sell_through"
                        .split(',')
                        .map(str::to_owned)
                        .collect(),
                );
                for i in 0..rows {
                    let m = block * 8 + i;
                    out.push(vec![
                        String::new(),
                        self.partner.clone(),
                        format!("{}-{:02}", 1970 + m / 12, m % 12 + 1),
                        "EUR".into(),
                        "1250.50".into(),
                        "999".into(),
                    ]);
                }
            }
        }
        out
    }
}

/// The table as CSV, quoting the cells that need it (RFC 4180).
fn render(table: &[Vec<String>]) -> Vec<u8> {
    let mut out = String::new();
    for row in table {
        let cells: Vec<String> = row
            .iter()
            .map(|c| {
                if c.contains([',', '"', '\n', '\r']) {
                    format!("\"{}\"", c.replace('"', "\"\""))
                } else {
                    c.clone()
                }
            })
            .collect();
        out += &cells.join(",");
        out.push('\n');
    }
    out.into_bytes()
}

/// One change to a table of cells.
#[derive(Debug, Clone)]
enum Edit {
    Cell(prop::sample::Index, prop::sample::Index, String),
    DropColumn(prop::sample::Index),
    SwapColumns(prop::sample::Index, prop::sample::Index),
    DuplicateRow(prop::sample::Index),
    DropRow(prop::sample::Index),
    ExtraCell(prop::sample::Index, String),
}

fn edit() -> impl Strategy<Value = Edit> {
    let cell = prop_oneof![
        prop::sample::select(CELLS).prop_map(str::to_owned),
        any::<String>(),
        "[0-9.,-]{0,24}",
    ];
    prop_oneof![
        4 => (any::<prop::sample::Index>(), any::<prop::sample::Index>(), cell.clone())
            .prop_map(|(r, c, v)| Edit::Cell(r, c, v)),
        1 => any::<prop::sample::Index>().prop_map(Edit::DropColumn),
        1 => (any::<prop::sample::Index>(), any::<prop::sample::Index>())
            .prop_map(|(a, b)| Edit::SwapColumns(a, b)),
        1 => any::<prop::sample::Index>().prop_map(Edit::DuplicateRow),
        1 => any::<prop::sample::Index>().prop_map(Edit::DropRow),
        1 => (any::<prop::sample::Index>(), cell).prop_map(|(r, v)| Edit::ExtraCell(r, v)),
    ]
}

fn apply(table: &mut Vec<Vec<String>>, edit: &Edit) {
    let width = table[0].len();
    match edit {
        Edit::Cell(r, c, v) => {
            let r = r.index(table.len());
            let c = c.index(table[r].len().max(1));
            if let Some(cell) = table[r].get_mut(c) {
                *cell = v.clone();
            }
        }
        Edit::DropColumn(c) => {
            let c = c.index(width);
            for row in table.iter_mut() {
                if c < row.len() {
                    row.remove(c);
                }
            }
        }
        Edit::SwapColumns(a, b) => {
            let (a, b) = (a.index(width), b.index(width));
            for row in table.iter_mut() {
                if a < row.len() && b < row.len() {
                    row.swap(a, b);
                }
            }
        }
        Edit::DuplicateRow(r) => {
            let r = r.index(table.len());
            table.push(table[r].clone());
        }
        Edit::DropRow(r) => {
            if table.len() > 1 {
                table.remove(r.index(table.len()));
            }
        }
        Edit::ExtraCell(r, v) => {
            let r = r.index(table.len());
            table[r].push(v.clone());
        }
    }
}

fn runner(cases: u32) -> TestRunner {
    TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    })
}

#[test]
fn random_bytes_into_the_csv_importers_are_refused_cleanly() {
    let f = Fixture::new();
    let mut runner = runner(256);
    runner
        .run(
            &(0usize..3, proptest::collection::vec(any::<u8>(), 0..1024)),
            |(which, bytes)| {
                let (import, export) = IMPORTS[which];
                f.import(import, export, &bytes).map(|_| ())
            },
        )
        .unwrap();
}

#[test]
fn mutated_csv_files_import_whole_or_not_at_all() {
    let f = Fixture::new();
    let counts = RefCell::new([0usize; 2]);
    let blocks = Cell::new(0);
    let mut runner = runner(512);
    runner
        .run(
            &(
                0usize..3,
                1usize..6,
                proptest::collection::vec(edit(), 0..4),
            ),
            |(which, rows, edits)| {
                blocks.set(blocks.get() + 1);
                let mut table = f.valid(which, rows, blocks.get());
                for e in &edits {
                    apply(&mut table, e);
                }
                let (import, export) = IMPORTS[which];
                let status = f.import(import, export, &render(&table))?;
                counts.borrow_mut()[usize::from(status != 201)] += 1;
                if edits.is_empty() {
                    prop_assert_eq!(status, 201, "an unmutated file imports");
                }
                Ok(())
            },
        )
        .unwrap();
    let [imported, refused] = *counts.borrow();
    assert!(
        imported > 0 && refused > 0,
        "both outcomes were exercised: {imported} imported, {refused} refused"
    );
}
