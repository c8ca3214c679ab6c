fn main() {
    // napi's link arguments for a Node addon (on macOS: leave Node's symbols to be found at load).
    napi_build::setup();
}
