//! Compiles the C shim (libcurl's variadic entry points and the mprintf
//! family). The shared object itself is linked from this crate's static
//! library by `link-libcurl.sh`, which gives it libcurl's identity: soname
//! `libcurl.so.4`, every exported symbol versioned `CURL_OPENSSL_4`, nothing
//! else exported. (rustc's own cdylib link exports every `#[no_mangle]`
//! item unversioned, which a program linked against Debian's libcurl
//! cannot use.)

fn main() {
    println!("cargo:rerun-if-changed=src/shim.c");
    cc::Build::new()
        .file("src/shim.c")
        .warnings(true)
        .extra_warnings(true)
        .compile("handover_curl_shim");
}
