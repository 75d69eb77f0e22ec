// Links the binary (and the test binaries) so that they run from any directory with no
// LD_LIBRARY_PATH: an rpath to libtorch, and libtorch.so kept in NEEDED so that its CUDA
// half is loaded where a GPU and driver exist (with --as-needed, CUDA is never available).
fn main() {
    if let Some(lib_path) = std::env::var_os("DEP_TCH_LIBTORCH_LIB") {
        println!(
            "cargo:rustc-link-arg=-Wl,-rpath={}",
            lib_path.to_string_lossy()
        );
    }
    println!("cargo:rustc-link-arg=-Wl,--no-as-needed");
    println!("cargo:rustc-link-arg=-ltorch");
}
