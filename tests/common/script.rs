//! A small evaluator of the DolphinDB script subset that `examples/*.dos` use, for
//! tests/examples.rs. It runs a script top to bottom; every `httpClient::…` call and
//! `loadPlugin` goes to a [`Plugin`] (the test's forwards them to the real plugin in the test
//! host). Whatever it does not know — a statement, an operator, a function, a type — is an
//! error naming the line, never skipped: the whole script is parsed before it runs, as the
//! server does.
//!
//! The subset: `//` and `/* */` comments; assignments (`x = e`, `d[k] = e`); `def f(a, mutable
//! b) { … }` (a function sees only its arguments, and may change only `mutable` ones, as in
//! DolphinDB); calls, named arguments of the stream functions, partial application `f{x}`,
//! method calls `x.f(…)`; `if`/`else`, `for (x in v)`, `return`, `throw`, `assert`; literals
//! (strings in either quote, INT, LONG `12l`, DOUBLE, timestamps `2024.01.02T09:30:00.000`,
//! symbols `` `a`b ``, vectors `[…]`, pairs `a:b`, `true`/`false`/`NULL`, type names);
//! `+ - *` (element-wise on vectors; `+` joins strings), comparisons, `in`, `&&`/`and`,
//! `||`/`or`, `!`; `x[i]`, `x[a:b]`, `x["k"]`, `x.field`; `select *|cols from t [where c]` (the
//! condition evaluated row by row); `share … as t`, `insert into t values(…)`, `append!`,
//! `subscribeTable` (the handler is called synchronously, with the new rows as a table, after
//! each insert — a server calls it soon after, on the subscription's thread),
//! `unsubscribeTable`, `undef`; built-ins `print string size strReplace concat parseExpr
//! eval keys dict each now sleep table streamTable`. `parseExpr(s).eval()` reads `s` as JSON
//! (objects become dictionaries, arrays vectors): that is what the examples use it for.
#![allow(dead_code)]

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

// ---------------------------------------------------------------------------------------
// Values

#[derive(Clone, Debug)]
pub enum Value {
    /// An empty argument position: `f(a, , b)`.
    Nothing,
    Null,
    Bool(bool),
    Int(i64),
    Long(i64),
    Double(f64),
    Str(String),
    Symbol(String),
    /// Milliseconds since 1970-01-01.
    Timestamp(i64),
    /// A type or object-type name: `STRING`, `ANY`, `SHARED`, …
    Type(String),
    Pair(Box<Value>, Box<Value>),
    Vector(Vec<Value>),
    Dict(Rc<RefCell<Dict>>),
    Table(Rc<RefCell<Table>>),
    Func(Func),
    /// What `parseExpr` returns: text for `eval()`.
    Code(String),
}

#[derive(Clone, Debug, Default)]
pub struct Dict {
    /// Values must be strings (`dict(STRING, STRING)`).
    pub string_values: bool,
    pub entries: Vec<(String, Value)>,
}

impl Dict {
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.entries.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }
    pub fn set(&mut self, key: &str, value: Value) {
        match self.entries.iter_mut().find(|(k, _)| k == key) {
            Some(e) => e.1 = value,
            None => self.entries.push((key.to_string(), value)),
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct Table {
    pub names: Vec<String>,
    /// Column types: `TIMESTAMP`, `SYMBOL`, `STRING`, `DOUBLE`, `INT`, `LONG`, `BOOL`, `ANY`.
    pub types: Vec<String>,
    /// Column-major.
    pub columns: Vec<Vec<Value>>,
}

impl Table {
    pub fn rows(&self) -> usize {
        self.columns.first().map_or(0, Vec::len)
    }
    pub fn column(&self, name: &str) -> Option<&Vec<Value>> {
        self.names
            .iter()
            .position(|n| n == name)
            .map(|i| &self.columns[i])
    }
    fn empty_like(&self) -> Table {
        Table {
            names: self.names.clone(),
            types: self.types.clone(),
            columns: vec![Vec::new(); self.names.len()],
        }
    }
    fn push_row(&mut self, row: Vec<Value>) -> Result<(), String> {
        for (i, v) in row.into_iter().enumerate() {
            let v =
                coerce(v, &self.types[i]).map_err(|e| format!("column {}: {e}", self.names[i]))?;
            self.columns[i].push(v);
        }
        Ok(())
    }
    fn row(&self, r: usize) -> Vec<Value> {
        self.columns.iter().map(|c| c[r].clone()).collect()
    }
}

/// A value stored in a column of type `ty`.
fn coerce(v: Value, ty: &str) -> Result<Value, String> {
    Ok(match (ty, v) {
        (_, Value::Null) => Value::Null,
        ("ANY", v) => v,
        ("SYMBOL", Value::Str(s) | Value::Symbol(s)) => Value::Symbol(s),
        ("STRING", Value::Str(s) | Value::Symbol(s)) => Value::Str(s),
        ("DOUBLE", Value::Int(n) | Value::Long(n)) => Value::Double(n as f64),
        ("DOUBLE", v @ Value::Double(_)) => v,
        ("INT", v @ Value::Int(_)) | ("LONG", v @ Value::Long(_)) => v,
        ("LONG", Value::Int(n)) => Value::Long(n),
        ("TIMESTAMP", v @ Value::Timestamp(_)) | ("BOOL", v @ Value::Bool(_)) => v,
        (ty, v) => return Err(format!("a {} can't be stored as {ty}", type_name(&v))),
    })
}

#[derive(Clone, Debug)]
pub enum Func {
    User(Rc<FuncDef>),
    Builtin(String),
    /// `f{a, b}`: f with its first arguments given.
    Partial(Box<Func>, Vec<Value>),
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Nothing => "nothing",
        Value::Null => "VOID",
        Value::Bool(_) => "BOOL",
        Value::Int(_) => "INT",
        Value::Long(_) => "LONG",
        Value::Double(_) => "DOUBLE",
        Value::Str(_) => "STRING",
        Value::Symbol(_) => "SYMBOL",
        Value::Timestamp(_) => "TIMESTAMP",
        Value::Type(_) => "type name",
        Value::Pair(..) => "PAIR",
        Value::Vector(_) => "VECTOR",
        Value::Dict(_) => "DICTIONARY",
        Value::Table(_) => "TABLE",
        Value::Func(_) => "FUNCTION",
        Value::Code(_) => "CODE",
    }
}

impl Value {
    pub fn str(&self) -> Option<&str> {
        match self {
            Value::Str(s) | Value::Symbol(s) => Some(s),
            _ => None,
        }
    }
    pub fn int(&self) -> Option<i64> {
        match self {
            Value::Int(n) | Value::Long(n) => Some(*n),
            _ => None,
        }
    }
    pub fn table(&self) -> Option<Table> {
        match self {
            Value::Table(t) => Some(t.borrow().clone()),
            _ => None,
        }
    }
    pub fn dict(&self) -> Option<Dict> {
        match self {
            Value::Dict(d) => Some(d.borrow().clone()),
            _ => None,
        }
    }
    /// `string(x)` of a scalar, as the server writes it.
    pub fn text(&self) -> String {
        match self {
            Value::Nothing | Value::Null => String::new(),
            Value::Bool(b) => b.to_string(),
            Value::Int(n) | Value::Long(n) => n.to_string(),
            Value::Double(d) if d.fract() == 0.0 && d.abs() < 1e15 => format!("{}", *d as i64),
            Value::Double(d) => format!("{d}"),
            Value::Str(s) | Value::Symbol(s) | Value::Type(s) => s.clone(),
            Value::Timestamp(ms) => format_timestamp(*ms),
            Value::Pair(a, b) => format!("{}:{}", a.text(), b.text()),
            Value::Vector(v) => {
                let items: Vec<String> = v.iter().map(Value::text).collect();
                format!("[{}]", items.join(","))
            }
            Value::Dict(d) => {
                let d = d.borrow();
                let items: Vec<String> = d
                    .entries
                    .iter()
                    .map(|(k, v)| format!("{k}->{}", v.text()))
                    .collect();
                items.join("\n")
            }
            Value::Table(t) => format!("<table of {} rows>", t.borrow().rows()),
            Value::Func(_) => "<function>".into(),
            Value::Code(c) => c.clone(),
        }
    }
}

/// `2024.01.02T09:30:00.000`.
pub fn format_timestamp(ms: i64) -> String {
    let (days, rem) = (ms.div_euclid(86_400_000), ms.rem_euclid(86_400_000));
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}.{m:02}.{d:02}T{:02}:{:02}:{:02}.{:03}",
        rem / 3_600_000,
        rem / 60_000 % 60,
        rem / 1000 % 60,
        rem % 1000
    )
}

/// Parses `2024.01.02T09:30:00.000` (or a date alone).
pub fn parse_timestamp(s: &str) -> Option<i64> {
    let (date, time) = s.split_once('T').unwrap_or((s, "00:00:00.000"));
    let d: Vec<i64> = date
        .split('.')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    let (hms, ms) = time.split_once('.').unwrap_or((time, "0"));
    let t: Vec<i64> = hms
        .split(':')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    if d.len() != 3 || t.len() != 3 {
        return None;
    }
    let days = days_from_civil(d[0], d[1], d[2]);
    Some(
        days * 86_400_000
            + t[0] * 3_600_000
            + t[1] * 60_000
            + t[2] * 1000
            + ms.parse::<i64>().ok()?,
    )
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

// ---------------------------------------------------------------------------------------
// Tokens

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    /// Names, keywords, `module::name`, `append!`.
    Name(String),
    Str(String),
    Int(i64),
    Long(i64),
    Double(f64),
    Timestamp(i64),
    /// `` `a `` (one) or `` `a`b`c `` (a vector).
    Symbols(Vec<String>),
    Op(&'static str),
    /// The end of a statement: a line end outside `(…)` and `[…]`.
    Newline,
    End,
}

#[rustfmt::skip]
const OPS: [&str; 23] = [
    "==", "!=", "<=", ">=", "&&", "||", "<", ">", "+", "-", "*", "=", "(", ")", "[", "]", "{",
    "}", ",", ":", ";", ".", "!",
];

/// Splits a script into tokens with their line numbers; `rewrites` (from, to) are applied
/// to the text of every string literal.
fn lex(src: &str, rewrites: &[(String, String)]) -> Result<Vec<(Tok, usize)>, (usize, String)> {
    let c: Vec<char> = src.chars().collect();
    let (mut i, mut line, mut depth) = (0, 1, 0i32);
    let mut out: Vec<(Tok, usize)> = Vec::new();
    let newline = |out: &mut Vec<(Tok, usize)>, line: usize| {
        if !matches!(out.last(), None | Some((Tok::Newline, _))) {
            out.push((Tok::Newline, line));
        }
    };
    while i < c.len() {
        let ch = c[i];
        let next = c.get(i + 1).copied().unwrap_or('\0');
        if ch == '\n' {
            if depth == 0 {
                newline(&mut out, line);
            }
            line += 1;
            i += 1;
        } else if ch.is_whitespace() {
            i += 1;
        } else if ch == '/' && next == '/' {
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
        } else if ch == '/' && next == '*' {
            let start = line;
            i += 2;
            while i < c.len() && !(c[i] == '*' && c.get(i + 1) == Some(&'/')) {
                line += usize::from(c[i] == '\n');
                i += 1;
            }
            if i >= c.len() {
                return Err((start, "unterminated /* comment".into()));
            }
            i += 2;
            if line > start && depth == 0 {
                newline(&mut out, start);
            }
        } else if ch == '"' || ch == '\'' {
            let start = line;
            let mut s = String::new();
            i += 1;
            loop {
                let Some(&x) = c.get(i) else {
                    return Err((start, "unterminated string".into()));
                };
                i += 1;
                if x == ch {
                    break;
                }
                if x == '\n' {
                    line += 1;
                }
                if x != '\\' {
                    s.push(x);
                    continue;
                }
                let e = c.get(i).copied().unwrap_or('\0');
                i += 1;
                s.push(match e {
                    '\\' | '"' | '\'' => e,
                    'n' => '\n',
                    'r' => '\r',
                    't' => '\t',
                    _ => return Err((line, format!("unknown escape \\{e} in a string"))),
                });
            }
            for (from, to) in rewrites {
                s = s.replace(from.as_str(), to);
            }
            out.push((Tok::Str(s), start));
        } else if ch == '`' {
            let mut names = Vec::new();
            while c.get(i) == Some(&'`') {
                let b = i + 1;
                i = b;
                while i < c.len() && (c[i].is_alphanumeric() || c[i] == '_' || c[i] == '.') {
                    i += 1;
                }
                names.push(c[b..i].iter().collect());
            }
            out.push((Tok::Symbols(names), line));
        } else if ch.is_ascii_digit() {
            let b = i;
            while i < c.len() && (c[i].is_ascii_digit() || c[i] == '.') {
                i += 1;
            }
            let mut text: String = c[b..i].iter().collect();
            let tok = match text.matches('.').count() {
                0 if c.get(i) == Some(&'l') => {
                    i += 1;
                    text.parse().ok().map(Tok::Long)
                }
                0 => text.parse().ok().map(Tok::Int),
                1 => text.parse().ok().map(Tok::Double),
                2 => {
                    if c.get(i) == Some(&'T') {
                        let t = i;
                        i += 1;
                        while i < c.len() && (c[i].is_ascii_digit() || c[i] == ':' || c[i] == '.') {
                            i += 1;
                        }
                        text.extend(&c[t..i]);
                    }
                    parse_timestamp(&text).map(Tok::Timestamp)
                }
                _ => None,
            };
            if c.get(i).is_some_and(|x| x.is_alphanumeric() || *x == '_') {
                return Err((line, format!("unsupported number literal {text}{}", c[i])));
            }
            out.push((tok.ok_or((line, format!("bad number {text}")))?, line));
        } else if ch.is_alphabetic() || ch == '_' {
            let b = i;
            let name_char = |x: char| x.is_alphanumeric() || x == '_';
            while i < c.len() && name_char(c[i]) {
                i += 1;
            }
            if c.get(i) == Some(&':') && c.get(i + 1) == Some(&':') {
                i += 2;
                while i < c.len() && name_char(c[i]) {
                    i += 1;
                }
            }
            if c.get(i) == Some(&'!') && c.get(i + 1) != Some(&'=') {
                i += 1;
            }
            out.push((Tok::Name(c[b..i].iter().collect()), line));
        } else {
            let rest: String = c[i..(i + 2).min(c.len())].iter().collect();
            let Some(op) = OPS.iter().find(|op| rest.starts_with(**op)) else {
                return Err((line, format!("unexpected character {ch:?}")));
            };
            depth += match *op {
                "(" | "[" => 1,
                ")" | "]" => -1,
                _ => 0,
            };
            i += op.len();
            out.push((Tok::Op(op), line));
        }
    }
    newline(&mut out, line);
    out.push((Tok::End, line));
    Ok(out)
}

// ---------------------------------------------------------------------------------------
// Syntax

#[derive(Clone, Debug)]
enum Expr {
    Lit(Value),
    Var(String),
    Call(Box<Expr>, Vec<Arg>),
    /// `x.f(args)`: `f(x, args)`.
    Method(Box<Expr>, String, Vec<Arg>),
    Partial(Box<Expr>, Vec<Expr>),
    Index(Box<Expr>, Box<Expr>),
    Member(Box<Expr>, String),
    Not(Box<Expr>),
    Neg(Box<Expr>),
    Binary(&'static str, Box<Expr>, Box<Expr>),
    Pair(Box<Expr>, Box<Expr>),
    Vector(Vec<Expr>),
    Select {
        columns: Option<Vec<String>>,
        from: Box<Expr>,
        filter: Option<Box<Expr>>,
    },
    Nothing,
}

#[derive(Clone, Debug)]
struct Arg {
    name: Option<String>,
    value: Expr,
}

#[derive(Debug)]
pub struct FuncDef {
    name: String,
    /// (name, mutable)
    params: Vec<(String, bool)>,
    body: Vec<Stmt>,
}

#[derive(Debug)]
struct Stmt {
    line: usize,
    kind: Kind,
}

#[derive(Debug)]
enum Kind {
    Expr(Expr),
    Assign(String, Expr),
    AssignIndex(String, Expr, Expr),
    Def(Rc<FuncDef>),
    If(Expr, Vec<Stmt>, Vec<Stmt>),
    For(String, Expr, Vec<Stmt>),
    Return(Option<Expr>),
    Throw(Expr),
    Assert(Expr),
    Share(Expr, String),
    Insert(String, Vec<Expr>),
}

/// Statements DolphinDB has that this evaluator does not.
#[rustfmt::skip]
const UNSUPPORTED: [&str; 10] = [
    "do", "while", "try", "catch", "break", "continue", "switch", "update", "delete", "go",
];
#[rustfmt::skip]
const TYPES: [&str; 10] = [
    "STRING", "SYMBOL", "ANY", "INT", "LONG", "DOUBLE", "BOOL", "TIMESTAMP", "DATE", "SHARED",
];

struct Parser {
    toks: Vec<(Tok, usize)>,
    at: usize,
}

type Parsed<T> = Result<T, (usize, String)>;

impl Parser {
    fn peek(&self) -> &Tok {
        &self.toks[self.at].0
    }
    fn peek2(&self) -> &Tok {
        &self.toks[(self.at + 1).min(self.toks.len() - 1)].0
    }
    fn line(&self) -> usize {
        self.toks[self.at].1
    }
    fn next(&mut self) -> Tok {
        let t = self.toks[self.at].0.clone();
        self.at = (self.at + 1).min(self.toks.len() - 1);
        t
    }
    fn fail<T>(&self, what: &str) -> Parsed<T> {
        Err((self.line(), format!("{what} (at {:?})", self.peek())))
    }
    fn is_op(&self, op: &str) -> bool {
        matches!(self.peek(), Tok::Op(o) if *o == op)
    }
    fn is_name(&self, name: &str) -> bool {
        matches!(self.peek(), Tok::Name(n) if n == name)
    }
    fn eat_op(&mut self, op: &str) -> bool {
        let yes = self.is_op(op);
        if yes {
            self.next();
        }
        yes
    }
    fn expect_op(&mut self, op: &str) -> Parsed<()> {
        if self.eat_op(op) {
            Ok(())
        } else {
            self.fail(&format!("expected '{op}'"))
        }
    }
    fn expect_name(&mut self, keyword: Option<&str>) -> Parsed<String> {
        match self.peek().clone() {
            Tok::Name(n) if keyword.is_none_or(|k| k == n) => {
                self.next();
                Ok(n)
            }
            _ => self.fail(&format!("expected {}", keyword.unwrap_or("a name"))),
        }
    }
    fn skip_separators(&mut self) {
        while matches!(self.peek(), Tok::Newline) || self.is_op(";") {
            self.next();
        }
    }

    fn program(&mut self) -> Parsed<Vec<Stmt>> {
        let mut out = Vec::new();
        loop {
            self.skip_separators();
            if *self.peek() == Tok::End {
                return Ok(out);
            }
            out.push(self.statement()?);
        }
    }

    /// `{ statements }` or one statement.
    fn body(&mut self) -> Parsed<Vec<Stmt>> {
        if !self.eat_op("{") {
            return Ok(vec![self.statement()?]);
        }
        let mut out = Vec::new();
        loop {
            self.skip_separators();
            if self.eat_op("}") {
                return Ok(out);
            }
            if *self.peek() == Tok::End {
                return self.fail("expected '}'");
            }
            out.push(self.statement()?);
        }
    }

    fn statement(&mut self) -> Parsed<Stmt> {
        let line = self.line();
        let keyword = match self.peek() {
            Tok::Name(n) => n.clone(),
            _ => String::new(),
        };
        if UNSUPPORTED.contains(&keyword.as_str()) {
            return self.fail(&format!(
                "`{keyword}` is not supported by the test's evaluator"
            ));
        }
        let kind = match keyword.as_str() {
            "def" => {
                self.next();
                let name = self.expect_name(None)?;
                self.expect_op("(")?;
                let mut params = Vec::new();
                while !self.eat_op(")") {
                    let mutable = self.is_name("mutable");
                    if mutable {
                        self.next();
                    }
                    params.push((self.expect_name(None)?, mutable));
                    if !self.is_op(")") {
                        self.expect_op(",")?;
                    }
                }
                if !self.is_op("{") {
                    return self.fail("expected '{' after the parameters");
                }
                let body = self.body()?;
                Kind::Def(Rc::new(FuncDef { name, params, body }))
            }
            "if" => {
                self.next();
                self.expect_op("(")?;
                let cond = self.expr()?;
                self.expect_op(")")?;
                let then = self.body()?;
                let save = self.at;
                self.skip_separators();
                let otherwise = if self.is_name("else") {
                    self.next();
                    self.body()?
                } else {
                    self.at = save;
                    Vec::new()
                };
                Kind::If(cond, then, otherwise)
            }
            "for" => {
                self.next();
                self.expect_op("(")?;
                let var = self.expect_name(None)?;
                self.expect_name(Some("in"))?;
                let over = self.expr()?;
                self.expect_op(")")?;
                Kind::For(var, over, self.body()?)
            }
            "return" => {
                self.next();
                let ends = matches!(self.peek(), Tok::Newline | Tok::End) || self.is_op("}");
                Kind::Return(if ends { None } else { Some(self.expr()?) })
            }
            "throw" => {
                self.next();
                Kind::Throw(self.expr()?)
            }
            "assert" => {
                self.next();
                Kind::Assert(self.expr()?)
            }
            "share" => {
                self.next();
                let value = self.expr()?;
                self.expect_name(Some("as"))?;
                Kind::Share(value, self.expect_name(None)?)
            }
            "insert" => {
                self.next();
                self.expect_name(Some("into"))?;
                let table = self.expect_name(None)?;
                self.expect_name(Some("values"))?;
                self.expect_op("(")?;
                let mut values = Vec::new();
                while !self.eat_op(")") {
                    values.push(self.expr()?);
                    if !self.is_op(")") {
                        self.expect_op(",")?;
                    }
                }
                Kind::Insert(table, values)
            }
            _ => {
                let e = self.expr()?;
                if self.eat_op("=") {
                    let value = self.expr()?;
                    match e {
                        Expr::Var(name) => Kind::Assign(name, value),
                        Expr::Index(target, key) => match *target {
                            Expr::Var(name) => Kind::AssignIndex(name, *key, value),
                            _ => return Err((line, "unsupported assignment target".into())),
                        },
                        _ => return Err((line, "unsupported assignment target".into())),
                    }
                } else {
                    Kind::Expr(e)
                }
            }
        };
        if !(matches!(self.peek(), Tok::Newline | Tok::End) || self.is_op(";") || self.is_op("}")) {
            return self.fail("expected the end of the statement");
        }
        Ok(Stmt { line, kind })
    }

    fn expr(&mut self) -> Parsed<Expr> {
        let a = self.or()?;
        if self.eat_op(":") {
            return Ok(Expr::Pair(Box::new(a), Box::new(self.or()?)));
        }
        Ok(a)
    }
    fn or(&mut self) -> Parsed<Expr> {
        let mut a = self.and()?;
        while self.is_op("||") || self.is_name("or") {
            self.next();
            a = Expr::Binary("||", Box::new(a), Box::new(self.and()?));
        }
        Ok(a)
    }
    fn and(&mut self) -> Parsed<Expr> {
        let mut a = self.comparison()?;
        while self.is_op("&&") || self.is_name("and") {
            self.next();
            a = Expr::Binary("&&", Box::new(a), Box::new(self.comparison()?));
        }
        Ok(a)
    }
    fn comparison(&mut self) -> Parsed<Expr> {
        let a = self.sum()?;
        let op = match self.peek() {
            Tok::Op(op @ ("==" | "!=" | "<" | "<=" | ">" | ">=")) => *op,
            Tok::Name(n) if n == "in" => "in",
            _ => return Ok(a),
        };
        self.next();
        Ok(Expr::Binary(op, Box::new(a), Box::new(self.sum()?)))
    }
    fn sum(&mut self) -> Parsed<Expr> {
        let mut a = self.product()?;
        while let Tok::Op(op @ ("+" | "-")) = self.peek() {
            let op = *op;
            self.next();
            a = Expr::Binary(op, Box::new(a), Box::new(self.product()?));
        }
        Ok(a)
    }
    fn product(&mut self) -> Parsed<Expr> {
        let mut a = self.unary()?;
        while self.eat_op("*") {
            a = Expr::Binary("*", Box::new(a), Box::new(self.unary()?));
        }
        Ok(a)
    }
    fn unary(&mut self) -> Parsed<Expr> {
        if self.eat_op("-") {
            return Ok(Expr::Neg(Box::new(self.unary()?)));
        }
        if self.eat_op("!") {
            return Ok(Expr::Not(Box::new(self.unary()?)));
        }
        self.postfix()
    }
    fn args(&mut self) -> Parsed<Vec<Arg>> {
        let mut out = Vec::new();
        if self.eat_op(")") {
            return Ok(out);
        }
        loop {
            let name = match (self.peek().clone(), self.peek2()) {
                (Tok::Name(n), Tok::Op("=")) => {
                    self.next();
                    self.next();
                    Some(n)
                }
                _ => None,
            };
            let value = if self.is_op(",") || self.is_op(")") {
                Expr::Nothing
            } else {
                self.expr()?
            };
            out.push(Arg { name, value });
            if self.eat_op(")") {
                return Ok(out);
            }
            self.expect_op(",")?;
        }
    }
    fn postfix(&mut self) -> Parsed<Expr> {
        let mut e = self.primary()?;
        loop {
            if self.eat_op("(") {
                e = Expr::Call(Box::new(e), self.args()?);
            } else if self.eat_op("[") {
                let key = self.expr()?;
                self.expect_op("]")?;
                e = Expr::Index(Box::new(e), Box::new(key));
            } else if matches!(e, Expr::Var(_)) && self.eat_op("{") {
                let mut bound = Vec::new();
                while !self.eat_op("}") {
                    bound.push(self.expr()?);
                    if !self.is_op("}") {
                        self.expect_op(",")?;
                    }
                }
                e = Expr::Partial(Box::new(e), bound);
            } else if self.eat_op(".") {
                let name = self.expect_name(None)?;
                e = if self.eat_op("(") {
                    Expr::Method(Box::new(e), name, self.args()?)
                } else {
                    Expr::Member(Box::new(e), name)
                };
            } else {
                return Ok(e);
            }
        }
    }
    fn primary(&mut self) -> Parsed<Expr> {
        let line = self.line();
        Ok(match self.next() {
            Tok::Str(s) => Expr::Lit(Value::Str(s)),
            Tok::Int(n) => Expr::Lit(Value::Int(n)),
            Tok::Long(n) => Expr::Lit(Value::Long(n)),
            Tok::Double(d) => Expr::Lit(Value::Double(d)),
            Tok::Timestamp(t) => Expr::Lit(Value::Timestamp(t)),
            Tok::Symbols(mut s) if s.len() == 1 => Expr::Lit(Value::Symbol(s.remove(0))),
            Tok::Symbols(s) => Expr::Lit(Value::Vector(s.into_iter().map(Value::Symbol).collect())),
            Tok::Op("(") => {
                let e = self.expr()?;
                self.expect_op(")")?;
                e
            }
            Tok::Op("[") => {
                let mut items = Vec::new();
                while !self.eat_op("]") {
                    items.push(self.expr()?);
                    if !self.is_op("]") {
                        self.expect_op(",")?;
                    }
                }
                Expr::Vector(items)
            }
            Tok::Name(n) => match n.as_str() {
                "true" | "false" => Expr::Lit(Value::Bool(n == "true")),
                "NULL" => Expr::Lit(Value::Null),
                "select" => self.select()?,
                t if TYPES.contains(&t) => Expr::Lit(Value::Type(n)),
                _ => Expr::Var(n),
            },
            t => return Err((line, format!("unexpected {t:?}"))),
        })
    }
    /// After `select`: `* | col, … from <table> [where <condition>]`.
    fn select(&mut self) -> Parsed<Expr> {
        let columns = if self.eat_op("*") {
            None
        } else {
            let mut names = vec![self.expect_name(None)?];
            while self.eat_op(",") {
                names.push(self.expect_name(None)?);
            }
            Some(names)
        };
        self.expect_name(Some("from"))?;
        let from = Box::new(self.postfix()?);
        let filter = if self.is_name("where") {
            self.next();
            Some(Box::new(self.expr()?))
        } else {
            None
        };
        if self.is_name("group") || self.is_name("order") || self.is_name("limit") {
            return self
                .fail("only `select … from … where …` is supported by the test's evaluator");
        }
        Ok(Expr::Select {
            columns,
            from,
            filter,
        })
    }
}

// ---------------------------------------------------------------------------------------
// Running

/// Where `httpClient::…` calls and `loadPlugin` go.
pub trait Plugin {
    fn load(&mut self, path: &str) -> Result<Value, String>;
    /// `httpClient::<function>(args)`; an empty position is [`Value::Nothing`].
    fn call(&mut self, function: &str, args: &[Value]) -> Result<Value, String>;
}

/// What a script left behind.
#[derive(Default)]
pub struct Outcome {
    /// The script's variables at its end.
    pub globals: HashMap<String, Value>,
    /// What `print` printed.
    pub printed: Vec<String>,
    /// Every batch of rows appended to a shared table, by table name, in order.
    pub appended: Vec<(String, Table)>,
    /// Handler calls made by subscriptions: (action name, rows given).
    pub handled: Vec<(String, usize)>,
}

/// Runs `source` (named `file` in errors); a failure is `file:line: message`.
pub fn run(
    file: &str,
    source: &str,
    rewrites: &[(String, String)],
    plugin: &mut dyn Plugin,
) -> Result<Outcome, String> {
    let at = |(line, msg): (usize, String)| format!("{file}:{line}: {msg}");
    let toks = lex(source, rewrites).map_err(at)?;
    let program = Parser { toks, at: 0 }.program().map_err(at)?;
    let mut it = Interpreter {
        plugin,
        functions: HashMap::new(),
        shared: HashMap::new(),
        subscriptions: Vec::new(),
        line: 0,
        out: Outcome::default(),
    };
    // Functions are known from the start, as the server compiles the whole script first.
    for s in &program {
        if let Kind::Def(f) = &s.kind {
            it.functions.insert(f.name.clone(), f.clone());
        }
    }
    let mut env = Env::default();
    match it.block(&program, &mut env) {
        Ok(Flow::Next) => {
            it.out.globals = env.vars;
            Ok(it.out)
        }
        Ok(Flow::Return(_)) => Err(at((it.line, "return outside a function".into()))),
        Err(e) => Err(at(e)),
    }
}

#[derive(Default, Clone)]
struct Env {
    vars: HashMap<String, Value>,
    /// Arguments not declared `mutable`.
    readonly: Vec<String>,
}

struct Subscription {
    table: String,
    action: String,
    handler: Value,
}

struct Interpreter<'p> {
    plugin: &'p mut dyn Plugin,
    functions: HashMap<String, Rc<FuncDef>>,
    shared: HashMap<String, Value>,
    subscriptions: Vec<Subscription>,
    /// The line of the statement running (for errors).
    line: usize,
    out: Outcome,
}

enum Flow {
    Next,
    Return(Value),
}

type Run<T> = Result<T, (usize, String)>;
/// Positional and named arguments.
type Arguments = (Vec<Value>, Vec<(String, Value)>);

impl Interpreter<'_> {
    fn fail<T>(&self, msg: impl Into<String>) -> Run<T> {
        Err((self.line, msg.into()))
    }

    fn block(&mut self, stmts: &[Stmt], env: &mut Env) -> Run<Flow> {
        for s in stmts {
            self.line = s.line;
            if let Flow::Return(v) = self.statement(s, env)? {
                return Ok(Flow::Return(v));
            }
        }
        Ok(Flow::Next)
    }

    fn statement(&mut self, s: &Stmt, env: &mut Env) -> Run<Flow> {
        match &s.kind {
            Kind::Expr(e) => {
                self.eval(e, env)?;
            }
            Kind::Assign(name, e) => {
                let v = self.eval(e, env)?;
                env.vars.insert(name.clone(), v);
            }
            Kind::AssignIndex(name, key, e) => {
                if env.readonly.contains(name) {
                    return self.fail(format!(
                        "{name} is an argument not declared mutable: it can't be modified"
                    ));
                }
                let key = self.eval(key, env)?;
                let v = self.eval(e, env)?;
                let target = self.lookup(name, env)?;
                let (Value::Dict(d), Some(k)) = (&target, key.str()) else {
                    return self.fail(format!(
                        "only d[\"key\"] = value is supported, not on {name}"
                    ));
                };
                let mut d = d.borrow_mut();
                if d.string_values && v.str().is_none() {
                    return self.fail(format!(
                        "{name} is a dict(STRING, STRING): its values can't be {}",
                        type_name(&v)
                    ));
                }
                d.set(k, v);
            }
            Kind::Def(f) => {
                if !self
                    .functions
                    .get(&f.name)
                    .is_some_and(|g| Rc::ptr_eq(f, g))
                {
                    return self.fail(format!("def {} inside a block is not supported", f.name));
                }
            }
            Kind::If(cond, then, otherwise) => {
                let c = self.eval(cond, env)?;
                let branch = if self.truth(&c)? { then } else { otherwise };
                return self.block(branch, env);
            }
            Kind::For(var, over, body) => {
                let items = match self.eval(over, env)? {
                    Value::Vector(v) => v,
                    Value::Pair(a, b) => match (a.int(), b.int()) {
                        (Some(a), Some(b)) => (a..b).map(Value::Int).collect(),
                        _ => return self.fail("for over a pair: integers a:b"),
                    },
                    v => return self.fail(format!("for (x in …) over a {}", type_name(&v))),
                };
                for item in items {
                    env.vars.insert(var.clone(), item);
                    if let Flow::Return(v) = self.block(body, env)? {
                        return Ok(Flow::Return(v));
                    }
                }
            }
            Kind::Return(e) => {
                let v = match e {
                    Some(e) => self.eval(e, env)?,
                    None => Value::Null,
                };
                return Ok(Flow::Return(v));
            }
            Kind::Throw(e) => {
                let v = self.eval(e, env)?;
                return self.fail(format!("throw: {}", v.text()));
            }
            Kind::Assert(e) => {
                let v = self.eval(e, env)?;
                if !self.truth(&v)? {
                    return self.fail("assert failed");
                }
            }
            Kind::Share(e, name) => {
                let v = self.eval(e, env)?;
                if self.shared.contains_key(name) {
                    return self.fail(format!("{name} is already shared"));
                }
                if !matches!(v, Value::Table(_)) {
                    return self.fail("share: only tables are supported");
                }
                self.shared.insert(name.clone(), v);
            }
            Kind::Insert(name, values) => {
                let Value::Table(t) = self.lookup(name, env)? else {
                    return self.fail(format!("insert into {name}: not a table"));
                };
                let values = values
                    .iter()
                    .map(|e| self.eval(e, env))
                    .collect::<Run<Vec<_>>>()?;
                let mut rows = t.borrow().empty_like();
                if values.len() != rows.names.len() {
                    return self.fail(format!(
                        "insert into {name}: {} values for {} columns",
                        values.len(),
                        rows.names.len()
                    ));
                }
                let n = match &values[0] {
                    Value::Vector(v) => v.len(),
                    _ => 1,
                };
                for r in 0..n {
                    let row = values
                        .iter()
                        .map(|v| match v {
                            Value::Vector(items) => items.get(r).cloned().unwrap_or(Value::Null),
                            v if n == 1 => v.clone(),
                            _ => Value::Nothing,
                        })
                        .collect();
                    rows.push_row(row).or_else(|e| self.fail(e))?;
                }
                self.append(&t, rows)?;
            }
        }
        Ok(Flow::Next)
    }

    fn truth(&self, v: &Value) -> Run<bool> {
        match v {
            Value::Bool(b) => Ok(*b),
            v => self.fail(format!("a condition must be a BOOL, not {}", type_name(v))),
        }
    }

    fn lookup(&self, name: &str, env: &Env) -> Run<Value> {
        if let Some(v) = env.vars.get(name).or_else(|| self.shared.get(name)) {
            return Ok(v.clone());
        }
        if let Some(f) = self.functions.get(name) {
            return Ok(Value::Func(Func::User(f.clone())));
        }
        if BUILTINS.contains(&name) {
            return Ok(Value::Func(Func::Builtin(name.to_string())));
        }
        self.fail(format!("undefined variable {name}"))
    }

    fn eval(&mut self, e: &Expr, env: &mut Env) -> Run<Value> {
        Ok(match e {
            Expr::Lit(v) => v.clone(),
            Expr::Nothing => Value::Nothing,
            Expr::Var(name) => self.lookup(name, env)?,
            Expr::Vector(items) => Value::Vector(
                items
                    .iter()
                    .map(|i| self.eval(i, env))
                    .collect::<Run<_>>()?,
            ),
            Expr::Pair(a, b) => {
                Value::Pair(Box::new(self.eval(a, env)?), Box::new(self.eval(b, env)?))
            }
            Expr::Not(a) => {
                let v = self.eval(a, env)?;
                Value::Bool(!self.truth(&v)?)
            }
            Expr::Neg(a) => match self.eval(a, env)? {
                Value::Int(n) => Value::Int(-n),
                Value::Long(n) => Value::Long(-n),
                Value::Double(d) => Value::Double(-d),
                v => return self.fail(format!("-{}", type_name(&v))),
            },
            Expr::Binary(op @ ("&&" | "||"), a, b) => {
                let a = self.eval(a, env)?;
                let a = self.truth(&a)?;
                if (*op == "&&") != a {
                    return Ok(Value::Bool(a));
                }
                let b = self.eval(b, env)?;
                Value::Bool(self.truth(&b)?)
            }
            Expr::Binary(op, a, b) => {
                let (a, b) = (self.eval(a, env)?, self.eval(b, env)?);
                binary(op, &a, &b).or_else(|m| self.fail(m))?
            }
            Expr::Index(target, key) => {
                let (t, k) = (self.eval(target, env)?, self.eval(key, env)?);
                index(&t, &k).or_else(|m| self.fail(m))?
            }
            Expr::Member(target, name) => match self.eval(target, env)? {
                Value::Dict(d) => d.borrow().get(name).cloned().unwrap_or(Value::Null),
                Value::Table(t) => match t.borrow().column(name) {
                    Some(c) => Value::Vector(c.clone()),
                    None => return self.fail(format!("the table has no column {name}")),
                },
                v => return self.fail(format!("{}.{name}", type_name(&v))),
            },
            Expr::Partial(f, bound) => {
                let Value::Func(f) = self.eval(f, env)? else {
                    return self.fail("f{…}: f is not a function");
                };
                let bound = bound
                    .iter()
                    .map(|b| self.eval(b, env))
                    .collect::<Run<_>>()?;
                Value::Func(Func::Partial(Box::new(f), bound))
            }
            Expr::Method(target, name, args) => {
                let mut all = vec![Arg {
                    name: None,
                    value: (**target).clone(),
                }];
                all.extend(args.iter().cloned());
                self.call(name, &all, env)?
            }
            Expr::Call(callee, args) => match &**callee {
                Expr::Var(name) => self.call(name, args, env)?,
                other => {
                    let f = self.eval(other, env)?;
                    let (args, _) = self.arguments(args, env, false)?;
                    self.call_value(&f, args)?
                }
            },
            Expr::Select {
                columns,
                from,
                filter,
            } => self.select(columns, from, filter.as_deref(), env)?,
        })
    }

    /// Evaluates arguments; named ones only where `named` is allowed.
    fn arguments(&mut self, args: &[Arg], env: &mut Env, named: bool) -> Run<Arguments> {
        let (mut positional, mut by_name) = (Vec::new(), Vec::new());
        for a in args {
            let v = self.eval(&a.value, env)?;
            match &a.name {
                Some(n) if named => by_name.push((n.clone(), v)),
                Some(n) => return self.fail(format!("named argument {n}= is not supported here")),
                None => positional.push(v),
            }
        }
        Ok((positional, by_name))
    }

    fn call(&mut self, name: &str, args: &[Arg], env: &mut Env) -> Run<Value> {
        if let Some((module, function)) = name.split_once("::") {
            if module != "httpClient" {
                return self.fail(format!("unknown module {module}"));
            }
            let (args, _) = self.arguments(args, env, false)?;
            return self.plugin.call(function, &args).or_else(|m| self.fail(m));
        }
        let stream = matches!(name, "subscribeTable" | "unsubscribeTable");
        let (args, named) = self.arguments(args, env, stream)?;
        if stream {
            if !args.is_empty() {
                return self.fail(format!("{name}: give its arguments by name"));
            }
            return self.stream(name, named);
        }
        if let Some(v) = env.vars.get(name).cloned() {
            return self.call_value(&v, args);
        }
        if let Some(f) = self.functions.get(name).cloned() {
            return self.call_user(&f, args);
        }
        self.builtin(name, args)
    }

    fn call_value(&mut self, f: &Value, args: Vec<Value>) -> Run<Value> {
        match f {
            Value::Func(Func::User(f)) => self.call_user(f, args),
            Value::Func(Func::Builtin(name)) => self.builtin(name, args),
            Value::Func(Func::Partial(inner, bound)) => {
                let mut all = bound.clone();
                all.extend(args);
                self.call_value(&Value::Func((**inner).clone()), all)
            }
            v => self.fail(format!("a {} is not a function", type_name(v))),
        }
    }

    fn call_user(&mut self, f: &FuncDef, args: Vec<Value>) -> Run<Value> {
        if args.len() != f.params.len() {
            return self.fail(format!(
                "{} takes {} arguments, got {}",
                f.name,
                f.params.len(),
                args.len()
            ));
        }
        let mut env = Env::default();
        for ((name, mutable), v) in f.params.iter().zip(args) {
            if matches!(v, Value::Nothing) {
                return self.fail(format!("{}: argument {name} is missing", f.name));
            }
            env.vars.insert(name.clone(), v);
            if !mutable {
                env.readonly.push(name.clone());
            }
        }
        let caller = self.line;
        let result = self.block(&f.body, &mut env);
        self.line = caller;
        match result {
            Ok(Flow::Return(v)) => Ok(v),
            Ok(Flow::Next) => Ok(Value::Null),
            Err((line, msg)) => Err((
                line,
                format!("{msg} (in {}, called at line {caller})", f.name),
            )),
        }
    }

    fn select(
        &mut self,
        columns: &Option<Vec<String>>,
        from: &Expr,
        filter: Option<&Expr>,
        env: &mut Env,
    ) -> Run<Value> {
        let Value::Table(t) = self.eval(from, env)? else {
            return self.fail("select … from: not a table");
        };
        let t = t.borrow().clone();
        let keep: Vec<usize> = match columns {
            None => (0..t.names.len()).collect(),
            Some(names) => names
                .iter()
                .map(|n| t.names.iter().position(|c| c == n))
                .collect::<Option<_>>()
                .map_or_else(|| self.fail("select: no such column"), Ok)?,
        };
        let mut out = Table {
            names: keep.iter().map(|i| t.names[*i].clone()).collect(),
            types: keep.iter().map(|i| t.types[*i].clone()).collect(),
            columns: vec![Vec::new(); keep.len()],
        };
        for r in 0..t.rows() {
            if let Some(cond) = filter {
                let mut row_env = env.clone();
                for (name, v) in t.names.iter().zip(t.row(r)) {
                    row_env.vars.insert(name.clone(), v);
                }
                let c = self.eval(cond, &mut row_env)?;
                if !self.truth(&c)? {
                    continue;
                }
            }
            for (o, i) in keep.iter().enumerate() {
                out.columns[o].push(t.columns[*i][r].clone());
            }
        }
        Ok(Value::Table(Rc::new(RefCell::new(out))))
    }

    /// Appends rows to a table, then gives them to the subscriptions of a shared table.
    fn append(&mut self, t: &Rc<RefCell<Table>>, rows: Table) -> Run<()> {
        {
            let mut t = t.borrow_mut();
            if t.names != rows.names {
                return self.fail("append!: the columns differ");
            }
            for r in 0..rows.rows() {
                t.push_row(rows.row(r)).or_else(|e| self.fail(e))?;
            }
        }
        let shared_as = self
            .shared
            .iter()
            .find(|(_, v)| matches!(v, Value::Table(s) if Rc::ptr_eq(s, t)))
            .map(|(n, _)| n.clone());
        let Some(name) = shared_as else {
            return Ok(());
        };
        self.out.appended.push((name.clone(), rows.clone()));
        let handlers: Vec<(String, Value)> = self
            .subscriptions
            .iter()
            .filter(|s| s.table == name)
            .map(|s| (s.action.clone(), s.handler.clone()))
            .collect();
        for (action, handler) in handlers {
            self.out.handled.push((action.clone(), rows.rows()));
            let msg = Value::Table(Rc::new(RefCell::new(rows.clone())));
            self.call_value(&handler, vec![msg])
                .map_err(|(l, m)| (l, format!("{m} (in the handler of {action})")))?;
        }
        Ok(())
    }

    fn stream(&mut self, name: &str, named: Vec<(String, Value)>) -> Run<Value> {
        let get = |key: &str| named.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
        let known: &[&str] = if name == "subscribeTable" {
            &["tableName", "actionName", "offset", "handler", "msgAsTable"]
        } else {
            &["tableName", "actionName"]
        };
        if let Some((k, _)) = named.iter().find(|(k, _)| !known.contains(&k.as_str())) {
            return self.fail(format!(
                "{name}: argument {k} is not supported by the evaluator"
            ));
        }
        let (Some(table), Some(action)) = (
            get("tableName").and_then(|v| v.str().map(String::from)),
            get("actionName").and_then(|v| v.str().map(String::from)),
        ) else {
            return self.fail(format!(
                "{name}: tableName and actionName (strings) are needed"
            ));
        };
        if name == "unsubscribeTable" {
            let before = self.subscriptions.len();
            self.subscriptions
                .retain(|s| !(s.table == table && s.action == action));
            if self.subscriptions.len() == before {
                return self.fail(format!("no subscription {table}/{action}"));
            }
            return Ok(Value::Null);
        }
        if !matches!(self.shared.get(&table), Some(Value::Table(_))) {
            return self.fail(format!("subscribeTable: {table} is not a shared table"));
        }
        if !matches!(get("msgAsTable"), Some(Value::Bool(true))) {
            return self.fail("subscribeTable: only msgAsTable=true is supported");
        }
        if get("offset").is_some_and(|o| o.int() != Some(-1)) {
            return self.fail("subscribeTable: only offset=-1 (new rows) is supported");
        }
        let Some(handler @ Value::Func(_)) = get("handler") else {
            return self.fail("subscribeTable: handler must be a function");
        };
        if self
            .subscriptions
            .iter()
            .any(|s| s.table == table && s.action == action)
        {
            return self.fail(format!("{table}/{action} is already subscribed"));
        }
        self.subscriptions.push(Subscription {
            table: table.clone(),
            action,
            handler,
        });
        Ok(Value::Str(format!("localhost:8848:local8848/{table}")))
    }

    fn builtin(&mut self, name: &str, mut args: Vec<Value>) -> Run<Value> {
        if !BUILTINS.contains(&name) {
            return self.fail(format!(
                "function {name} is not supported by the test's evaluator"
            ));
        }
        let line = self.line;
        let arity = |n: usize| -> Run<()> {
            if args.len() == n {
                Ok(())
            } else {
                Err((
                    line,
                    format!("{name} takes {n} arguments here, got {}", args.len()),
                ))
            }
        };
        let text_arg = |i: usize| -> Run<String> {
            match args.get(i) {
                Some(Value::Str(s) | Value::Symbol(s)) => Ok(s.clone()),
                v => Err((
                    line,
                    format!("{name}: argument {} must be a STRING, got {v:?}", i + 1),
                )),
            }
        };
        Ok(match name {
            "print" => {
                let line: Vec<String> = args.iter().map(Value::text).collect();
                self.out.printed.push(line.join(" "));
                Value::Null
            }
            "loadPlugin" => {
                arity(1)?;
                let path = text_arg(0)?;
                self.plugin.load(&path).or_else(|m| self.fail(m))?
            }
            "string" => {
                arity(1)?;
                match &args[0] {
                    Value::Vector(v) => {
                        Value::Vector(v.iter().map(|x| Value::Str(x.text())).collect())
                    }
                    Value::Dict(_) | Value::Table(_) | Value::Func(_) => {
                        return self.fail(format!("string() of a {}", type_name(&args[0])))
                    }
                    v => Value::Str(v.text()),
                }
            }
            "size" => {
                arity(1)?;
                Value::Int(match &args[0] {
                    Value::Vector(v) => v.len(),
                    Value::Table(t) => t.borrow().rows(),
                    Value::Dict(d) => d.borrow().entries.len(),
                    v => return self.fail(format!("size() of a {}", type_name(v))),
                } as i64)
            }
            "strReplace" => {
                arity(3)?;
                Value::Str(text_arg(0)?.replace(&text_arg(1)?, &text_arg(2)?))
            }
            "concat" => {
                arity(2)?;
                let sep = text_arg(1)?;
                match &args[0] {
                    Value::Vector(v) => {
                        let parts: Option<Vec<&str>> = v.iter().map(Value::str).collect();
                        match parts {
                            Some(p) => Value::Str(p.join(&sep)),
                            None => return self.fail("concat: a vector of strings"),
                        }
                    }
                    _ => Value::Str(text_arg(0)? + &sep),
                }
            }
            "parseExpr" => {
                arity(1)?;
                Value::Code(text_arg(0)?)
            }
            "eval" => match args.as_slice() {
                [Value::Code(c)] => match serde_json::from_str(c) {
                    Ok(j) => from_json(&j),
                    Err(e) => {
                        return self.fail(format!(
                            "parseExpr(…).eval(): the evaluator reads JSON only: {e}"
                        ))
                    }
                },
                _ => return self.fail("eval: of parseExpr(…)"),
            },
            "keys" => match args.as_slice() {
                [Value::Dict(d)] => Value::Vector(
                    d.borrow()
                        .entries
                        .iter()
                        .map(|(k, _)| Value::Str(k.clone()))
                        .collect(),
                ),
                _ => return self.fail("keys: of a dictionary"),
            },
            "dict" => match args.as_slice() {
                [Value::Type(k), Value::Type(v)] if k == "STRING" || k == "SYMBOL" => {
                    Value::Dict(Rc::new(RefCell::new(Dict {
                        string_values: v == "STRING" || v == "SYMBOL",
                        entries: Vec::new(),
                    })))
                }
                _ => return self.fail("dict(keyType, valueType): only STRING keys are supported"),
            },
            "each" => {
                arity(2)?;
                let Value::Vector(items) = args.pop().unwrap() else {
                    return self.fail("each(f, v): v must be a vector");
                };
                let f = args.pop().unwrap();
                let mut out = Vec::new();
                for item in items {
                    out.push(self.call_value(&f, vec![item])?);
                }
                Value::Vector(out)
            }
            "now" => {
                arity(0)?;
                let ms = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_millis() as i64);
                Value::Timestamp(ms)
            }
            "sleep" => {
                arity(1)?;
                let ms = args[0].int().filter(|n| *n >= 0);
                let Some(ms) = ms else {
                    return self.fail("sleep(ms): a non-negative integer");
                };
                std::thread::sleep(std::time::Duration::from_millis(ms as u64));
                Value::Null
            }
            "table" | "streamTable" => match args.as_slice() {
                [Value::Pair(_, size), Value::Vector(names), Value::Vector(types)]
                    if size.int() == Some(0) && names.len() == types.len() =>
                {
                    let names: Option<Vec<String>> =
                        names.iter().map(|n| n.str().map(String::from)).collect();
                    let types: Option<Vec<String>> = types
                        .iter()
                        .map(|t| match t {
                            Value::Type(t) => Some(t.clone()),
                            _ => None,
                        })
                        .collect();
                    let (Some(names), Some(types)) = (names, types) else {
                        return self.fail(format!("{name}: column names and type names"));
                    };
                    Value::Table(Rc::new(RefCell::new(Table {
                        columns: vec![Vec::new(); names.len()],
                        names,
                        types,
                    })))
                }
                _ => {
                    return self.fail(format!(
                        "{name}(capacity:0, names, types) is the supported form"
                    ))
                }
            },
            "append!" => {
                arity(2)?;
                match (&args[0], &args[1]) {
                    (Value::Table(t), Value::Table(rows)) => {
                        let rows = rows.borrow().clone();
                        self.append(t, rows)?;
                        args[0].clone()
                    }
                    _ => return self.fail("append!: a table to a table"),
                }
            }
            "undef" => {
                arity(2)?;
                let name = text_arg(0)?;
                if !matches!(&args[1], Value::Type(t) if t == "SHARED") {
                    return self.fail("undef(name, SHARED) is the supported form");
                }
                if self.subscriptions.iter().any(|s| s.table == name) {
                    return self.fail(format!("undef: {name} still has subscriptions"));
                }
                if self.shared.remove(&name).is_none() {
                    return self.fail(format!("undef: {name} is not shared"));
                }
                Value::Null
            }
            _ => unreachable!("{name} is in BUILTINS"),
        })
    }
}

#[rustfmt::skip]
const BUILTINS: [&str; 17] = [
    "print", "loadPlugin", "string", "size", "strReplace", "concat", "parseExpr", "eval",
    "keys", "dict", "each", "now", "sleep", "table", "streamTable", "append!", "undef",
];

/// A JSON value as parseExpr(…).eval() gives it: objects as dictionaries, arrays as vectors.
pub fn from_json(j: &serde_json::Value) -> Value {
    use serde_json::Value as J;
    match j {
        J::Null => Value::Null,
        J::Bool(b) => Value::Bool(*b),
        J::Number(n) => match n.as_i64() {
            Some(i) if i32::try_from(i).is_ok() => Value::Int(i),
            Some(i) => Value::Long(i),
            None => Value::Double(n.as_f64().unwrap_or(f64::NAN)),
        },
        J::String(s) => Value::Str(s.clone()),
        J::Array(a) => Value::Vector(a.iter().map(from_json).collect()),
        J::Object(o) => Value::Dict(Rc::new(RefCell::new(Dict {
            string_values: false,
            entries: o.iter().map(|(k, v)| (k.clone(), from_json(v))).collect(),
        }))),
    }
}

/// `x[k]`: a vector by position (NULL past the end, as the server) or `a:b` slice (within
/// the vector), a dictionary by key (NULL when absent).
fn index(t: &Value, k: &Value) -> Result<Value, String> {
    match (t, k) {
        (Value::Vector(v), Value::Pair(a, b)) => match (a.int(), b.int()) {
            (Some(a), Some(b)) if 0 <= a && a <= b && b as usize <= v.len() => {
                Ok(Value::Vector(v[a as usize..b as usize].to_vec()))
            }
            _ => Err(format!(
                "a slice v[a:b] needs integers 0 <= a <= b <= size(v) (here {})",
                v.len()
            )),
        },
        (Value::Vector(v), k) if k.int().is_some() => {
            let i = k.int().unwrap_or(-1);
            Ok(usize::try_from(i)
                .ok()
                .and_then(|i| v.get(i).cloned())
                .unwrap_or(Value::Null))
        }
        (Value::Dict(d), k) if k.str().is_some() => Ok(d
            .borrow()
            .get(k.str().unwrap_or_default())
            .cloned()
            .unwrap_or(Value::Null)),
        (t, k) => Err(format!(
            "{}[{}] is not supported",
            type_name(t),
            type_name(k)
        )),
    }
}

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Int(n) | Value::Long(n) => Some(*n as f64),
        Value::Double(d) => Some(*d),
        _ => None,
    }
}

/// `a op b`, element-wise when either is a vector.
fn binary(op: &str, a: &Value, b: &Value) -> Result<Value, String> {
    if op == "in" {
        return match b {
            Value::Vector(v) => Ok(Value::Bool(v.iter().any(|x| equal(a, x)))),
            _ => Err("x in y: y must be a vector".into()),
        };
    }
    match (a, b) {
        (Value::Vector(x), Value::Vector(y)) if x.len() == y.len() => {
            let items = x.iter().zip(y).map(|(x, y)| binary(op, x, y));
            return Ok(Value::Vector(items.collect::<Result<_, _>>()?));
        }
        (Value::Vector(_), Value::Vector(_)) => {
            return Err(format!("{op} of vectors of different lengths"))
        }
        (Value::Vector(x), b) => {
            return Ok(Value::Vector(
                x.iter()
                    .map(|x| binary(op, x, b))
                    .collect::<Result<_, _>>()?,
            ))
        }
        (a, Value::Vector(y)) => {
            return Ok(Value::Vector(
                y.iter()
                    .map(|y| binary(op, a, y))
                    .collect::<Result<_, _>>()?,
            ))
        }
        _ => {}
    }
    let ordering = || -> Result<std::cmp::Ordering, String> {
        let o = match (a, b) {
            (Value::Timestamp(x), Value::Timestamp(y)) => x.partial_cmp(y),
            _ if a.str().is_some() && b.str().is_some() => a.str().partial_cmp(&b.str()),
            _ => number(a)
                .zip(number(b))
                .and_then(|(x, y)| x.partial_cmp(&y)),
        };
        o.ok_or_else(|| format!("{} {op} {} is not supported", type_name(a), type_name(b)))
    };
    use std::cmp::Ordering::*;
    Ok(match op {
        "==" => Value::Bool(equal(a, b)),
        "!=" => Value::Bool(!equal(a, b)),
        "<" => Value::Bool(ordering()? == Less),
        "<=" => Value::Bool(ordering()? != Greater),
        ">" => Value::Bool(ordering()? == Greater),
        ">=" => Value::Bool(ordering()? != Less),
        _ => arithmetic(op, a, b)?,
    })
}

fn equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Null, Value::Null) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Timestamp(x), Value::Timestamp(y)) => x == y,
        _ if a.str().is_some() => a.str() == b.str(),
        _ => number(a).zip(number(b)).is_some_and(|(x, y)| x == y),
    }
}

fn arithmetic(op: &str, a: &Value, b: &Value) -> Result<Value, String> {
    use Value::*;
    let unsupported = || format!("{} {op} {} is not supported", type_name(a), type_name(b));
    Ok(match (op, a, b) {
        ("+", Str(x) | Symbol(x), Str(y) | Symbol(y)) => Str(format!("{x}{y}")),
        ("+", Timestamp(t), Int(n) | Long(n)) | ("+", Int(n) | Long(n), Timestamp(t)) => {
            Timestamp(t + n)
        }
        ("-", Timestamp(t), Int(n) | Long(n)) => Timestamp(t - n),
        (_, Int(x), Int(y)) => Int(integer(op, *x, *y).ok_or_else(unsupported)?),
        (_, Int(x) | Long(x), Int(y) | Long(y)) => {
            Long(integer(op, *x, *y).ok_or_else(unsupported)?)
        }
        (_, Double(_) | Int(_) | Long(_), Double(_) | Int(_) | Long(_)) => {
            let (x, y) = (number(a).unwrap_or(0.0), number(b).unwrap_or(0.0));
            Double(match op {
                "+" => x + y,
                "-" => x - y,
                "*" => x * y,
                _ => return Err(unsupported()),
            })
        }
        _ => return Err(unsupported()),
    })
}

fn integer(op: &str, x: i64, y: i64) -> Option<i64> {
    match op {
        "+" => x.checked_add(y),
        "-" => x.checked_sub(y),
        "*" => x.checked_mul(y),
        _ => None,
    }
}
