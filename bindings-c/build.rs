//! Gives the released shared library a versioned soname, `liboauth_refresh.so.<major>`, so
//! programs linked against it name the ABI they were built for (`make install` and the C
//! tarball of `make dist` lay out `.so.<version>`, `.so.<major>` and `.so`). Debug builds keep
//! no soname: the test programs link `target/debug/liboauth_refresh.so` by path, where no
//! versioned name exists.
fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var("PROFILE").as_deref() == Ok("release")
        && std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux")
    {
        let major = std::env::var("CARGO_PKG_VERSION_MAJOR").expect("cargo sets the version");
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,liboauth_refresh.so.{major}");
    }
}
