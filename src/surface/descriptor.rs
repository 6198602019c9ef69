//! The descriptor file `loadPlugin` reads, in the format of the given server version:
//! `module,libFile,version`, then one line per function — short
//! (`symbol,name,system,min,max,0`) or, for servers whose official descriptors carry them,
//! with isSequential and the syntax text.
use super::{FUNCTIONS, LIBRARY, MODULE};
use crate::abi::facts;

/// The descriptor for server `version` (e.g. "2.00.16"); None if unsupported.
pub fn for_version(version: &str) -> Option<String> {
    // The descriptor format depends on the version only, not on the C++ string ABI.
    let f = facts::for_server(facts::Flavour::Standard, version)?;
    let mut out = format!("{MODULE},{LIBRARY},{}\n", f.version);
    for func in FUNCTIONS {
        out.push_str(&format!(
            "{},{},system,{},{},0",
            func.symbol,
            func.name,
            func.min_args(),
            func.max_args()
        ));
        if f.long_descriptor {
            out.push_str(&format!(",0,{}", func.syntax()));
        }
        out.push('\n');
    }
    Some(out)
}
