//! Prints the descriptor (PluginHttpClient.txt) for a server version:
//! `cargo run --bin plugin-descriptor -- 2.00.16`. Without an argument, lists the
//! supported versions.
fn main() {
    let Some(version) = std::env::args().nth(1) else {
        println!(
            "supported server versions: {}",
            PluginHttpClient::abi::facts::supported()
        );
        return;
    };
    match PluginHttpClient::surface::descriptor::for_version(&version) {
        Some(text) => print!("{text}"),
        None => {
            eprintln!(
                "server version {version} is not supported; supported: {}",
                PluginHttpClient::abi::facts::supported()
            );
            std::process::exit(2);
        }
    }
}
