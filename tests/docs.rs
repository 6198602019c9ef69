//! The documentation follows the code: every function of the declared table appears with its
//! exact syntax in both function references and in both READMEs' function tables; every key
//! of the four configuration readers is in the key tables of both references, and those
//! tables hold no other key; no reference mentions a function that does not exist; and the
//! READMEs, the references and the other docs link only to files (and headings) inside the
//! repository. Plain text checks: no host, no network.
use std::collections::BTreeSet;
use std::path::{Component, Path, PathBuf};
use PluginHttpClient::core::config::FromConfig;
use PluginHttpClient::core::email::provider_table::built_in_providers;
use PluginHttpClient::core::email::{EmailOptions, SmtpOptions};
use PluginHttpClient::core::http::HttpConfig;
use PluginHttpClient::core::messaging::MessagingConfig;
use PluginHttpClient::surface::{FUNCTIONS, MODULE};

const REFERENCES: [&str; 2] = ["docs/reference.md", "docs/reference_cn.md"];
const READMES: [&str; 2] = ["README.md", "README_CN.md"];
/// Markdown files whose links are checked.
const LINKED: [&str; 7] = [
    "README.md",
    "README_CN.md",
    "docs/reference.md",
    "docs/reference_cn.md",
    "docs/ARCHITECTURE.md",
    "examples/README.md",
    "docs/performance.md",
];

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(root().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// The name and syntax of every function, as the descriptor and the docs spell them.
fn signatures() -> Vec<(&'static str, String)> {
    FUNCTIONS.iter().map(|f| (f.name, f.syntax())).collect()
}

/// The keys of each configuration dictionary, by the marker naming its reader.
fn readers() -> Vec<(&'static str, Vec<&'static str>)> {
    vec![
        ("HttpConfig", HttpConfig::keys()),
        ("MessagingConfig", MessagingConfig::keys()),
        ("SmtpOptions", SmtpOptions::keys()),
        ("EmailOptions", EmailOptions::keys()),
    ]
}

/// The first cells (`` `key` ``) of the table that follows `<!-- keys: NAME -->`, in order.
fn key_table(doc: &str, name: &str) -> Option<Vec<String>> {
    let marker = format!("<!-- keys: {name} -->");
    let after = &doc[doc.find(&marker)? + marker.len()..];
    let mut keys = Vec::new();
    for line in after.lines().skip_while(|l| l.trim().is_empty()) {
        let line = line.trim();
        if !line.starts_with('|') {
            break;
        }
        let first = line
            .trim_start_matches('|')
            .split('|')
            .next()
            .unwrap_or("")
            .trim();
        if let Some(key) = first.strip_prefix('`').and_then(|k| k.strip_suffix('`')) {
            keys.push(key.to_string());
        }
    }
    Some(keys)
}

/// Every `httpClient::<identifier>` in a text.
fn module_calls(text: &str) -> BTreeSet<String> {
    let prefix = format!("{MODULE}::");
    let mut out = BTreeSet::new();
    let mut rest = text;
    while let Some(at) = rest.find(&prefix) {
        let tail = &rest[at + prefix.len()..];
        let ident: String = tail
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if !ident.is_empty() {
            out.insert(ident);
        }
        rest = tail;
    }
    out
}

/// Level-2 headings that are a single word starting with a lower-case letter: the function
/// sections of a reference.
fn function_headings(doc: &str) -> Vec<String> {
    doc.lines()
        .filter_map(|l| l.strip_prefix("## "))
        .map(str::trim)
        .filter(|h| !h.contains(' ') && h.chars().next().is_some_and(|c| c.is_ascii_lowercase()))
        .map(String::from)
        .collect()
}

#[test]
fn both_references_show_every_function_with_its_exact_syntax() {
    for rel in REFERENCES {
        let doc = read(rel);
        let headings = function_headings(&doc);
        for (name, syntax) in signatures() {
            let call = format!("{MODULE}::{name}{syntax}");
            assert!(doc.contains(&call), "{rel} does not show `{call}`");
            assert!(
                headings.iter().any(|h| h == name),
                "{rel} has no section `## {name}`"
            );
        }
    }
}

#[test]
fn the_references_document_no_function_that_does_not_exist() {
    let names: BTreeSet<&str> = FUNCTIONS.iter().map(|f| f.name).collect();
    for rel in REFERENCES.iter().chain(READMES.iter()) {
        let doc = read(rel);
        for called in module_calls(&doc) {
            assert!(
                names.contains(called.as_str()),
                "{rel} mentions {MODULE}::{called}, which the plugin does not have"
            );
        }
    }
    for rel in REFERENCES {
        for h in function_headings(&read(rel)) {
            assert!(
                names.contains(h.as_str()),
                "{rel} has a section `## {h}` for a function the plugin does not have"
            );
        }
    }
}

#[test]
fn both_references_document_exactly_the_keys_of_each_configuration() {
    for rel in REFERENCES {
        let doc = read(rel);
        for (reader, keys) in readers() {
            let documented = key_table(&doc, reader)
                .unwrap_or_else(|| panic!("{rel} has no `<!-- keys: {reader} -->` table"));
            let missing: Vec<&&str> = keys
                .iter()
                .filter(|k| !documented.iter().any(|d| d == *k))
                .collect();
            let unknown: Vec<&String> = documented
                .iter()
                .filter(|d| !keys.contains(&d.as_str()))
                .collect();
            assert!(
                missing.is_empty() && unknown.is_empty(),
                "{rel}, {reader} table: missing {missing:?}, not a key of the reader {unknown:?}"
            );
            assert_eq!(
                documented, keys,
                "{rel}, {reader} table: keys in another order than the reader asks for them"
            );
        }
    }
}

#[test]
fn both_readmes_list_every_function_with_its_syntax_in_their_function_table() {
    for rel in READMES {
        let doc = read(rel);
        let rows: Vec<&str> = doc
            .lines()
            .filter(|l| l.trim_start().starts_with('|'))
            .collect();
        for (name, syntax) in signatures() {
            let shown = format!("`{name}{syntax}`");
            assert!(
                rows.iter().any(|r| r.contains(&shown)),
                "the function table of {rel} has no row with {shown}"
            );
        }
    }
}

/// Markdown link targets `[text](target)` of a document, outside code blocks and spans.
fn link_targets(doc: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut in_fence = false;
    for line in doc.lines() {
        if line.trim_start().starts_with("```") {
            in_fence = !in_fence;
            continue;
        }
        if in_fence {
            continue;
        }
        // drop code spans: `[x](y)` inside backticks is not a link
        let text: String = line
            .split('`')
            .enumerate()
            .filter(|(i, _)| i % 2 == 0)
            .map(|(_, s)| s)
            .collect::<Vec<_>>()
            .join(" ");
        let mut rest = text.as_str();
        while let Some(at) = rest.find("](") {
            let tail = &rest[at + 2..];
            let Some(end) = tail.find(')') else { break };
            let target = tail[..end].trim();
            let target = target.split_whitespace().next().unwrap_or("");
            let target = target.trim_start_matches('<').trim_end_matches('>');
            out.push(target.to_string());
            rest = &tail[end..];
        }
    }
    out
}

/// `a/b/../c` -> `a/c`; None when it climbs above the repository.
fn normalize(path: &Path) -> Option<PathBuf> {
    let mut out: Vec<String> = Vec::new();
    for c in path.components() {
        match c {
            Component::Normal(p) => out.push(p.to_string_lossy().into_owned()),
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop()?;
            }
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(out.iter().collect())
}

/// GitHub's anchors of a document's headings (lower-case, punctuation dropped, spaces to
/// `-`, repeats numbered) and its explicit `<a id="…">` anchors.
fn anchors(doc: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut seen: Vec<String> = Vec::new();
    let mut in_fence = false;
    for line in doc.lines() {
        if line.trim_start().starts_with("```") {
            in_fence = !in_fence;
        }
        if in_fence {
            continue;
        }
        let t = line.trim_start();
        if t.starts_with('#') {
            let title = t.trim_start_matches('#').trim();
            let slug: String = title
                .to_lowercase()
                .chars()
                .filter_map(|c| match c {
                    ' ' => Some('-'),
                    c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
                    _ => None,
                })
                .collect();
            let n = seen.iter().filter(|s| **s == slug).count();
            out.insert(if n == 0 {
                slug.clone()
            } else {
                format!("{slug}-{n}")
            });
            seen.push(slug);
        }
        let mut rest = line;
        while let Some(at) = rest.find("<a id=\"") {
            let tail = &rest[at + 7..];
            if let Some(end) = tail.find('"') {
                out.insert(tail[..end].to_string());
            }
            rest = tail;
        }
    }
    out
}

#[test]
fn the_docs_link_only_to_files_and_headings_inside_the_repository() {
    for rel in LINKED {
        let doc = read(rel);
        let dir = Path::new(rel).parent().unwrap_or(Path::new(""));
        for target in link_targets(&doc) {
            if target.starts_with("http://")
                || target.starts_with("https://")
                || target.starts_with("mailto:")
            {
                continue;
            }
            let (file, fragment) = match target.split_once('#') {
                Some((f, a)) => (f, Some(a)),
                None => (target.as_str(), None),
            };
            let linked = if file.is_empty() {
                PathBuf::from(rel)
            } else {
                assert!(
                    !file.starts_with('/'),
                    "{rel}: link to an absolute path {target}"
                );
                normalize(&dir.join(file))
                    .unwrap_or_else(|| panic!("{rel}: link {target} leaves the repository"))
            };
            let shown = linked.to_string_lossy().replace('\\', "/");
            assert!(
                root().join(&linked).exists(),
                "{rel}: link {target} -> {shown}, which is not in the repository"
            );
            if let (Some(anchor), true) = (fragment, shown.ends_with(".md")) {
                let found = anchors(&read(&shown));
                assert!(
                    found.contains(anchor),
                    "{rel}: link {target}: {shown} has no heading with the anchor #{anchor}"
                );
            }
        }
    }
}

#[test]
fn the_readmes_never_point_outside_the_repository() {
    for rel in READMES {
        for target in link_targets(&read(rel)) {
            assert!(
                !target.starts_with("../") && !target.starts_with('/') && !target.contains("/../"),
                "{rel}: link {target} points outside the repository"
            );
        }
    }
}

/// The rows of the built-in mail server table (after the header row naming `header`):
/// (the domains of the first cell, the rest of the row).
fn provider_rows(doc: &str, header: &str) -> Vec<(Vec<String>, String)> {
    let start = doc
        .find(header)
        .unwrap_or_else(|| panic!("no provider table headed {header}"));
    doc[start..]
        .lines()
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .map(|l| {
            let cells: Vec<&str> = l.trim_matches('|').splitn(2, '|').collect();
            let domains = cells[0]
                .split([',', '、'])
                .map(|d| d.trim().to_string())
                .collect();
            (domains, cells.get(1).unwrap_or(&"").to_string())
        })
        .collect()
}

#[test]
fn both_references_list_exactly_the_built_in_mail_servers() {
    for (doc, header) in [
        ("docs/reference.md", "| domains | server, port |"),
        ("docs/reference_cn.md", "| 域名 | 服务器与端口 |"),
    ] {
        let rows = provider_rows(&read(doc), header);
        let documented: BTreeSet<String> = rows.iter().flat_map(|(d, _)| d.clone()).collect();
        let built_in: BTreeSet<String> = built_in_providers()
            .iter()
            .map(|(d, _, _)| d.to_string())
            .collect();
        assert_eq!(documented, built_in, "{doc}: the provider table");
        for (domain, host, port) in built_in_providers() {
            let (_, rest) = rows
                .iter()
                .find(|(d, _)| d.iter().any(|x| x == domain))
                .unwrap();
            let names_host = rest.contains(&format!("`{host}`"))
                || (*host == format!("smtp.{domain}") && rest.contains("`smtp.<"));
            assert!(
                names_host && rest.contains(&port.to_string()),
                "{doc}: {domain} is {host}:{port}, the row says {rest}"
            );
        }
    }
}

/// The versions of the facts committed for one architecture and string ABI.
fn facts_versions(arch: &str, flavour: &str) -> BTreeSet<String> {
    std::fs::read_dir(root().join("facts").join(arch).join(flavour))
        .unwrap_or_else(|e| panic!("facts/{arch}/{flavour}: {e}"))
        .filter_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            name.strip_suffix(".json").map(str::to_string)
        })
        .collect()
}

#[test]
fn both_readmes_list_the_servers_the_committed_facts_support() {
    let columns = [
        ("x86_64", "standard"),
        ("x86_64", "cxx11"),
        ("aarch64", "standard"),
        ("aarch64", "cxx11"),
    ];
    for readme in READMES {
        let text = read(readme);
        let mut listed: Vec<BTreeSet<String>> = vec![BTreeSet::new(); columns.len()];
        for line in text
            .lines()
            .filter(|l| l.starts_with("| ") && l.as_bytes().get(2).is_some_and(u8::is_ascii_digit))
        {
            let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
            if cells.len() != columns.len() + 1 {
                continue;
            }
            for (c, set) in listed.iter_mut().enumerate() {
                if cells[c + 1] == "✓" {
                    set.extend(cells[0].split([',', '、']).map(|v| v.trim().to_string()));
                }
            }
        }
        for ((arch, flavour), set) in columns.iter().zip(&listed) {
            assert_eq!(
                set,
                &facts_versions(arch, flavour),
                "{readme}: the supported servers for {arch} {flavour}"
            );
        }
    }
}
