//! `balance-doctor generate`: realistic synthetic bundles, reproducible from a seed, for
//! benchmarks and load tests.
//!
//! Each bundle is shaped like one captured from a real Item: `/item/get`, `/accounts/get`,
//! `/accounts/balance/get`, a page of `/transactions/sync` with transactions, and received
//! webhooks; some carry `/institutions/get_by_id`. About a third of the Items are unhealthy in
//! one of the ways the default rules know (login required, user action at the bank, an
//! institution outage, Auth only, no webhook, expiring consent, stale or failing refreshes,
//! cached balances that differ from real-time ones). A bundle is about 5 KB of JSON.

use std::io::{self, Write};

use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

/// SplitMix64: small, fast, and the same on every platform.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..bound`.
    pub fn below(&mut self, bound: u64) -> u64 {
        self.next_u64() % bound.max(1)
    }

    /// True with probability `percent` / 100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    fn id(&mut self, length: usize) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        (0..length)
            .map(|_| ALPHABET[self.below(ALPHABET.len() as u64) as usize] as char)
            .collect()
    }

    fn amount(&mut self, max_cents: u64) -> f64 {
        self.below(max_cents) as f64 / 100.0
    }
}

/// The evaluation time every generated bundle carries.
pub const AS_OF: &str = "2026-11-20T12:00:00Z";

const INSTITUTIONS: [(&str, &str); 8] = [
    ("ins_56", "Chase"),
    ("ins_127991", "Wells Fargo"),
    ("ins_127989", "Bank of America"),
    ("ins_128026", "Capital One"),
    ("ins_5", "Citi"),
    ("ins_13", "PNC"),
    ("ins_109508", "First Platypus Bank"),
    ("ins_116236", "Navy Federal Credit Union"),
];

const MERCHANTS: [(&str, &str, &str); 8] = [
    ("Starbucks", "FOOD_AND_DRINK", "FOOD_AND_DRINK_COFFEE"),
    (
        "Uber",
        "TRANSPORTATION",
        "TRANSPORTATION_TAXIS_AND_RIDE_SHARES",
    ),
    ("Whole Foods", "FOOD_AND_DRINK", "FOOD_AND_DRINK_GROCERIES"),
    (
        "Amazon",
        "GENERAL_MERCHANDISE",
        "GENERAL_MERCHANDISE_ONLINE_MARKETPLACES",
    ),
    ("Shell", "TRANSPORTATION", "TRANSPORTATION_GAS"),
    ("Netflix", "ENTERTAINMENT", "ENTERTAINMENT_TV_AND_MOVIES"),
    (
        "Comcast",
        "RENT_AND_UTILITIES",
        "RENT_AND_UTILITIES_INTERNET_AND_CABLE",
    ),
    ("Payroll", "INCOME", "INCOME_WAGES"),
];

/// What is wrong with a generated Item, if anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Trouble {
    Healthy,
    LoginRequired,
    UserSetup,
    InstitutionDown,
    AuthOnly,
    NoWebhook,
    ConsentSoon,
    Stale,
    FailedRefresh,
    CachedDiffers,
}

fn at(hours_before: f64) -> String {
    let as_of: Timestamp = AS_OF.parse().expect("a valid constant");
    let seconds = (hours_before * 3_600.0) as i64;
    (as_of - SignedDuration::from_secs(seconds)).to_string()
}

/// One bundle, in the single-file JSON form.
pub fn bundle(rng: &mut Rng) -> Value {
    let trouble = match rng.below(100) {
        0..=64 => Trouble::Healthy,
        65..=69 => Trouble::LoginRequired,
        70..=72 => Trouble::UserSetup,
        73..=75 => Trouble::InstitutionDown,
        76..=80 => Trouble::AuthOnly,
        81..=84 => Trouble::NoWebhook,
        85..=87 => Trouble::ConsentSoon,
        88..=91 => Trouble::Stale,
        92..=95 => Trouble::FailedRefresh,
        _ => Trouble::CachedDiffers,
    };
    let item_id = rng.id(37);
    let (institution_id, institution_name) = *rng.pick(&INSTITUTIONS);
    let products: Vec<&str> = if trouble == Trouble::AuthOnly {
        vec!["auth"]
    } else if rng.chance(20) {
        vec!["auth", "transactions"]
    } else {
        vec!["transactions"]
    };
    let error = match trouble {
        Trouble::LoginRequired => json!({
            "error_type": "ITEM_ERROR", "error_code": "ITEM_LOGIN_REQUIRED",
            "error_code_reason": if rng.chance(50) { json!("OAUTH_INVALID_TOKEN") } else { Value::Null },
            "error_message": "the login details of this item have changed (credentials, MFA, or required user action) and a user login is required to update this information",
            "display_message": null, "request_id": rng.id(15), "causes": [], "status": 400,
            "documentation_url": "https://plaid.com/docs/errors/item/#item_login_required",
            "suggested_action": null
        }),
        Trouble::UserSetup => json!({
            "error_type": "ITEM_ERROR", "error_code": "USER_SETUP_REQUIRED", "error_code_reason": null,
            "error_message": "the account has not been fully set up; the user must log in directly and accept new terms",
            "display_message": "Log in to your bank to finish setting up your account.",
            "request_id": rng.id(15), "causes": [], "status": 400,
            "documentation_url": "https://plaid.com/docs/errors/item/#user_setup_required",
            "suggested_action": null
        }),
        _ => Value::Null,
    };
    let success_hours = match trouble {
        Trouble::Stale => 60.0 + rng.below(200) as f64,
        Trouble::FailedRefresh => 10.0 + rng.below(14) as f64,
        _ => 0.5 + rng.below(20) as f64,
    };
    let failed = match trouble {
        Trouble::FailedRefresh => json!(at(success_hours - 4.0)),
        _ if rng.chance(30) => json!(at(success_hours + 30.0)),
        _ => Value::Null,
    };
    let status = if trouble == Trouble::AuthOnly {
        Value::Null
    } else {
        json!({
            "transactions": {"last_successful_update": at(success_hours), "last_failed_update": failed},
            "last_webhook": {"sent_at": at(success_hours), "code_sent": "DEFAULT_UPDATE"}
        })
    };
    let webhook = if trouble == Trouble::NoWebhook {
        Value::Null
    } else {
        json!(format!(
            "https://api.example-app.com/plaid/webhooks/{}",
            rng.id(8)
        ))
    };
    let consent = if trouble == Trouble::ConsentSoon {
        json!(at(-(24.0 + rng.below(120) as f64)))
    } else if rng.chance(10) {
        json!(at(-24.0 * 200.0))
    } else {
        Value::Null
    };
    let item = json!({
        "item_id": item_id,
        "institution_id": institution_id,
        "institution_name": institution_name,
        "webhook": webhook,
        "auth_method": if products.contains(&"auth") { json!("INSTANT_AUTH") } else { Value::Null },
        "error": error,
        "available_products": ["balance", "identity", "investments", "liabilities"],
        "billed_products": products,
        "products": products,
        "consented_products": products,
        "consent_expiration_time": consent,
        "update_type": "background",
        "created_at": at(24.0 * (30.0 + rng.below(700) as f64)),
    });
    let account_count = 1 + rng.below(3) as usize;
    let mut accounts = Vec::new();
    let mut realtime = Vec::new();
    for index in 0..account_count {
        let account_id = rng.id(37);
        let (kind, subtype, name) = if index == 2 {
            ("credit", "credit card", "Rewards Card")
        } else if index == 1 {
            ("depository", "savings", "Plaid Saving")
        } else {
            ("depository", "checking", "Plaid Checking")
        };
        let current = rng.amount(1_000_000);
        let available = (current - rng.amount(10_000)).max(0.0);
        let account = |current: f64, available: f64| {
            json!({
                "account_id": account_id,
                "balances": {"available": available, "current": current, "limit": null,
                             "iso_currency_code": "USD", "unofficial_currency_code": null},
                "mask": format!("{:04}", (current * 7.0) as u64 % 10_000),
                "name": name, "official_name": format!("{institution_name} {name}"),
                "type": kind, "subtype": subtype
            })
        };
        accounts.push(account(current, available));
        let drift = if trouble == Trouble::CachedDiffers && index == 0 {
            25.0
        } else {
            0.0
        };
        realtime.push(account(current - drift, available - drift));
    }
    let mut transactions = Vec::new();
    for _ in 0..rng.below(5) {
        let (merchant, primary, detailed) = *rng.pick(&MERCHANTS);
        let days = rng.below(30);
        transactions.push(json!({
            "account_id": accounts[0]["account_id"],
            "amount": rng.amount(50_000),
            "iso_currency_code": "USD", "unofficial_currency_code": null,
            "date": at(24.0 * days as f64)[..10].to_owned(),
            "authorized_date": at(24.0 * (days + 1) as f64)[..10].to_owned(),
            "datetime": at(24.0 * days as f64),
            "name": format!("{} {}", merchant.to_uppercase(), rng.id(6)),
            "merchant_name": merchant,
            "merchant_entity_id": rng.id(22),
            "logo_url": format!("https://plaid-merchant-logos.plaid.com/{}.png", merchant.to_lowercase()),
            "website": format!("{}.com", merchant.to_lowercase()),
            "payment_channel": if rng.chance(50) { "online" } else { "in store" },
            "pending": rng.chance(10),
            "pending_transaction_id": null,
            "transaction_id": rng.id(37),
            "transaction_code": null,
            "transaction_type": "place",
            "category": [primary],
            "category_id": format!("{}", 10_000_000 + rng.below(9_000_000)),
            "personal_finance_category": {"primary": primary, "detailed": detailed, "confidence_level": "VERY_HIGH"},
            "personal_finance_category_icon_url": format!("https://plaid-category-icons.plaid.com/PFC_{primary}.png"),
            "location": {"address": null, "city": "San Francisco", "region": "CA", "postal_code": "94103",
                         "country": "US", "lat": null, "lon": null, "store_number": null},
            "counterparties": [{"name": merchant, "type": "merchant", "entity_id": rng.id(22),
                                "confidence_level": "VERY_HIGH", "logo_url": null, "website": null}],
            "payment_meta": {"by_order_of": null, "payee": null, "payer": null, "payment_method": null,
                             "payment_processor": null, "ppd_id": null, "reason": null, "reference_number": null},
            "check_number": null, "account_owner": null
        }));
    }
    let item_for_accounts = {
        let mut embedded = item.clone();
        if let Some(map) = embedded.as_object_mut() {
            map.remove("created_at");
            map.remove("consented_products");
        }
        embedded
    };
    let mut documents = serde_json::Map::new();
    documents.insert(
        "item_get".into(),
        json!({"item": item, "status": status, "request_id": rng.id(15)}),
    );
    let broken = matches!(trouble, Trouble::LoginRequired | Trouble::UserSetup);
    let error_body = |rng: &mut Rng, code: &str, kind: &str| {
        json!({"error_type": kind, "error_code": code, "error_code_reason": null,
               "error_message": "the request could not be completed", "display_message": null,
               "request_id": rng.id(15), "causes": [], "status": 400,
               "documentation_url": "https://plaid.com/docs/errors/", "suggested_action": null})
    };
    if broken {
        let code = documents["item_get"]["item"]["error"]["error_code"]
            .as_str()
            .unwrap_or("ITEM_LOGIN_REQUIRED")
            .to_owned();
        documents.insert("accounts_get".into(), error_body(rng, &code, "ITEM_ERROR"));
    } else {
        documents.insert(
            "accounts_get".into(),
            json!({"accounts": accounts, "item": item_for_accounts, "request_id": rng.id(15)}),
        );
        documents.insert(
            "accounts_balance_get".into(),
            json!({"accounts": realtime, "item": item_for_accounts, "request_id": rng.id(15)}),
        );
    }
    if trouble == Trouble::InstitutionDown {
        documents.insert(
            "transactions_sync".into(),
            error_body(rng, "INSTITUTION_DOWN", "INSTITUTION_ERROR"),
        );
    } else if products.contains(&"transactions") && !broken {
        documents.insert(
            "transactions_sync".into(),
            json!({"transactions_update_status": "HISTORICAL_UPDATE_COMPLETE",
                   "accounts": documents["accounts_get"]["accounts"], "added": transactions,
                   "modified": [], "removed": [], "next_cursor": rng.id(40), "has_more": false,
                   "request_id": rng.id(15)}),
        );
    }
    let mut webhooks = vec![
        json!({"webhook_type": "TRANSACTIONS", "webhook_code": "SYNC_UPDATES_AVAILABLE",
        "item_id": item_id, "initial_update_complete": true, "historical_update_complete": true,
        "environment": "production"}),
    ];
    if trouble == Trouble::LoginRequired {
        webhooks.push(
            json!({"webhook_type": "ITEM", "webhook_code": "ERROR", "item_id": item_id,
            "error": documents["item_get"]["item"]["error"], "environment": "production"}),
        );
    }
    documents.insert("webhooks".into(), Value::Array(webhooks));
    if rng.chance(15) {
        let interval = if rng.chance(20) { "DELAYED" } else { "NORMAL" };
        documents.insert(
            "institutions_get_by_id".into(),
            json!({"institution": {"institution_id": institution_id, "name": institution_name,
                "products": ["assets", "auth", "balance", "transactions", "identity"],
                "country_codes": ["US"], "routing_numbers": [], "oauth": true,
                "status": {"transactions_updates": {"status": "HEALTHY", "last_status_change": at(300.0),
                    "breakdown": {"success": 0.97, "error_plaid": 0.01, "error_institution": 0.02,
                                  "refresh_interval": interval}}}},
                "request_id": rng.id(15)}),
        );
    }
    let balance_source = if rng.chance(50) {
        "accounts_get"
    } else {
        "accounts_balance_get"
    };
    json!({"as_of": AS_OF, "context": {"balance_source": balance_source}, "documents": documents})
}

/// Writes `count` bundles as JSON Lines.
pub fn write_jsonl(count: u64, seed: u64, out: &mut impl Write) -> io::Result<()> {
    let mut rng = Rng::new(seed);
    for _ in 0..count {
        serde_json::to_writer(&mut *out, &bundle(&mut rng))?;
        out.write_all(b"\n")?;
    }
    out.flush()
}
