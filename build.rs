fn main() {
    // Only the addon needs napi's link arguments; the plain engine build (`cargo test`) does not.
    if std::env::var_os("CARGO_FEATURE_BINDING").is_some() {
        napi_build::setup();
    }
}
