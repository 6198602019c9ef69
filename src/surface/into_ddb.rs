//! From the handlers' results to the values a function returns (PyO3's `IntoPy`, in
//! small): each result type builds its own dictionary or table, in one place.
use crate::abi::{ColumnValues, Out};
use crate::core::delivery::journal::Record;
use crate::core::email::SendResult;
use crate::core::http::Response;
use crate::core::messaging::{Answer, Scalar};

pub trait IntoDdb {
    fn into_ddb(self) -> Out;
}

impl IntoDdb for Out {
    fn into_ddb(self) -> Out {
        self
    }
}

impl IntoDdb for bool {
    fn into_ddb(self) -> Out {
        Out::Bool(self)
    }
}

impl IntoDdb for String {
    fn into_ddb(self) -> Out {
        Out::Str(self.into_bytes())
    }
}

/// INT: counts a script compares with small numbers.
impl IntoDdb for i32 {
    fn into_ddb(self) -> Out {
        Out::Int(self)
    }
}

/// The official plugin's result: responseCode, headers (raw block), text, elapsed.
impl IntoDdb for Response {
    fn into_ddb(self) -> Out {
        Out::Dict(vec![
            ("responseCode".into(), Out::Int(i32::from(self.status))),
            ("headers".into(), Out::Str(self.headers)),
            ("text".into(), Out::Str(self.body)),
            ("elapsed".into(), Out::Double(self.elapsed)),
        ])
    }
}

/// The official plugin's e-mail result.
impl IntoDdb for SendResult {
    fn into_ddb(self) -> Out {
        Out::Dict(vec![
            ("responseCode".into(), Out::Int(self.response_code)),
            ("text".into(), Out::Str(self.text.into_bytes())),
            ("headers".into(), Out::Str(self.headers.into_bytes())),
            ("elapsed".into(), Out::Double(self.elapsed)),
            ("userId".into(), Out::Str(self.user_id.into_bytes())),
            (
                "recipient".into(),
                Out::Str(self.recipients.join(" ").into_bytes()),
            ),
        ])
    }
}

/// An errcode as INT (the platforms' codes fit; a wild one is clamped).
fn errcode(v: i64) -> i32 {
    v.clamp(i64::from(i32::MIN) + 1, i64::from(i32::MAX)) as i32
}

/// errcode, errmsg, responseCode, text, elapsed, then every other top-level scalar.
impl IntoDdb for Answer {
    fn into_ddb(self) -> Out {
        let mut d = vec![
            ("errcode".to_string(), Out::Int(errcode(self.errcode))),
            ("errmsg".to_string(), Out::Str(self.errmsg.into_bytes())),
            (
                "responseCode".to_string(),
                Out::Int(i32::from(self.response_code)),
            ),
            ("text".to_string(), Out::Str(self.text)),
            ("elapsed".to_string(), Out::Double(self.elapsed)),
        ];
        for (k, v) in self.fields {
            if d.iter().any(|(name, _)| *name == k) {
                continue;
            }
            let value = match v {
                Scalar::Str(s) => Out::Str(s.into_bytes()),
                Scalar::Long(n) => Out::Long(n),
                Scalar::Double(x) => Out::Double(x),
                Scalar::Bool(b) => Out::Bool(b),
            };
            d.push((k, value));
        }
        Out::Dict(d)
    }
}

/// What a sending call returns: the answer, or `{queued: true, id}` for a queued message.
pub enum Sent<T> {
    Now(T),
    Queued(u64),
}

impl<T: IntoDdb> IntoDdb for Sent<T> {
    fn into_ddb(self) -> Out {
        match self {
            Sent::Now(t) => t.into_ddb(),
            Sent::Queued(id) => Out::Dict(vec![
                ("queued".into(), Out::Bool(true)),
                ("id".into(), Out::Long(id as i64)),
            ]),
        }
    }
}

/// The deliveries journal as a table.
pub struct Deliveries(pub Vec<Record>);

impl IntoDdb for Deliveries {
    fn into_ddb(self) -> Out {
        Columns::of(&self.0)
            .long("id", |x| Some(x.id as i64))
            .timestamp("queued", |x| Some(x.queued_ms))
            .text("function", |x| x.function)
            .text("target", |x| &x.target)
            .bool("async", |x| Some(x.asynchronous))
            .text("status", |x| x.status.name())
            .int("attempts", |x| Some(x.attempts as i32))
            .int("responseCode", |x| x.response_code)
            .int("errcode", |x| x.errcode.map(errcode))
            .text("errmsg", |x| &x.errmsg)
            .double("elapsed", |x| x.elapsed)
            .table()
    }
}

/// One row per destination of a fan-out (robotSend to several webhooks, sendEmail with
/// option `each`): where, and the answer or the error.
pub struct FanOut(pub Vec<FanOutRow>);

pub struct FanOutRow {
    pub target: String,
    /// The delivery id (a queued message, or the journal's record of a direct one).
    pub id: Option<u64>,
    pub queued: bool,
    pub response_code: Option<i32>,
    pub errcode: Option<i64>,
    pub errmsg: String,
    pub elapsed: Option<f64>,
}

impl IntoDdb for FanOut {
    fn into_ddb(self) -> Out {
        Columns::of(&self.0)
            .text("target", |x| &x.target)
            .long("id", |x| x.id.map(|i| i as i64))
            .bool("queued", |x| Some(x.queued))
            .int("responseCode", |x| x.response_code)
            .int("errcode", |x| x.errcode.map(errcode))
            .text("errmsg", |x| &x.errmsg)
            .double("elapsed", |x| x.elapsed)
            .table()
    }
}

/// `version()`: what is loaded, into what server, what the self-check verified.
pub struct VersionInfo {
    pub plugin: String,
    pub server: String,
    pub abi: String,
    pub cxx_abi: String,
    pub arch: String,
    pub self_check: String,
    pub exceptions: String,
    pub supported: String,
    pub supported_linux_abi: String,
    pub tls: String,
    pub log_level: String,
    pub log_file: String,
}

impl IntoDdb for VersionInfo {
    fn into_ddb(self) -> Out {
        let s = |v: String| Out::Str(v.into_bytes());
        Out::Dict(vec![
            ("plugin".into(), s(self.plugin)),
            ("server".into(), s(self.server)),
            ("abi".into(), s(self.abi)),
            ("cxxAbi".into(), s(self.cxx_abi)),
            ("arch".into(), s(self.arch)),
            ("selfCheck".into(), s(self.self_check)),
            ("exceptions".into(), s(self.exceptions)),
            ("supported".into(), s(self.supported)),
            ("supportedLinuxABI".into(), s(self.supported_linux_abi)),
            ("tls".into(), s(self.tls)),
            ("logLevel".into(), s(self.log_level)),
            ("logFile".into(), s(self.log_file)),
        ])
    }
}

/// One row of `stats()`: a function's counts and latencies, or a token, pool or queue
/// with its value.
pub struct StatsRow {
    pub section: &'static str,
    pub name: String,
    pub calls: Option<i64>,
    pub errors: Option<i64>,
    pub timeouts: Option<i64>,
    pub p50_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub value: Option<i64>,
}

/// `stats()`: one table.
pub struct Stats(pub Vec<StatsRow>);

impl IntoDdb for Stats {
    fn into_ddb(self) -> Out {
        Columns::of(&self.0)
            .text("section", |x| x.section)
            .text("name", |x| &x.name)
            .long("calls", |x| x.calls)
            .long("errors", |x| x.errors)
            .long("timeouts", |x| x.timeouts)
            .double("p50Ms", |x| x.p50_ms)
            .double("p99Ms", |x| x.p99_ms)
            .long("value", |x| x.value)
            .table()
    }
}

/// A table built column by column from rows: each column named, with the value of each row.
struct Columns<'a, T> {
    rows: &'a [T],
    columns: Vec<(String, ColumnValues)>,
}

impl<'a, T> Columns<'a, T> {
    fn of(rows: &'a [T]) -> Self {
        Columns {
            rows,
            columns: Vec::new(),
        }
    }

    fn push(mut self, name: &str, values: ColumnValues) -> Self {
        self.columns.push((name.to_string(), values));
        self
    }

    fn text(self, name: &str, f: impl Fn(&T) -> &str) -> Self {
        let v = self.rows.iter().map(|r| f(r).as_bytes().to_vec()).collect();
        self.push(name, ColumnValues::Str(v))
    }

    fn int(self, name: &str, f: impl Fn(&T) -> Option<i32>) -> Self {
        let v = self.rows.iter().map(f).collect();
        self.push(name, ColumnValues::Int(v))
    }

    fn long(self, name: &str, f: impl Fn(&T) -> Option<i64>) -> Self {
        let v = self.rows.iter().map(f).collect();
        self.push(name, ColumnValues::Long(v))
    }

    fn double(self, name: &str, f: impl Fn(&T) -> Option<f64>) -> Self {
        let v = self.rows.iter().map(f).collect();
        self.push(name, ColumnValues::Double(v))
    }

    fn bool(self, name: &str, f: impl Fn(&T) -> Option<bool>) -> Self {
        let v = self.rows.iter().map(f).collect();
        self.push(name, ColumnValues::Bool(v))
    }

    fn timestamp(self, name: &str, f: impl Fn(&T) -> Option<i64>) -> Self {
        let v = self.rows.iter().map(f).collect();
        self.push(name, ColumnValues::Timestamp(v))
    }

    fn table(self) -> Out {
        Out::Table(self.columns)
    }
}
