//! `include/oauth_refresh.h`, by cbindgen from the C binding's sources (a separate step
//! rather than a build script rewriting the source tree on every build).

pub fn header(crate_dir: &str) {
    let config = cbindgen::Config::from_file(format!("{crate_dir}/cbindgen.toml"))
        .expect("reading cbindgen.toml");
    let written = cbindgen::Builder::new()
        .with_crate(crate_dir)
        .with_config(config)
        .generate()
        .expect("generating oauth_refresh.h")
        .write_to_file(format!("{crate_dir}/include/oauth_refresh.h"));
    if written {
        println!("wrote {crate_dir}/include/oauth_refresh.h");
    }
}
