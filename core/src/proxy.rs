//! Which proxy a client's requests go through, decided once when the client is built (a
//! client talks to one token endpoint, so one answer holds for its whole life).
//!
//! The convention curl and most HTTP stacks follow:
//! - a loopback host (`localhost`, 127.0.0.0/8, `[::1]`) never goes through a proxy: plain
//!   HTTP is allowed there only because it never leaves the machine;
//! - `no_proxy` / `NO_PROXY`: comma-separated host names (matching the name and its
//!   subdomains; a leading `.` or `*.` is allowed), IP addresses, CIDR blocks
//!   (`10.0.0.0/8`), or `*` for every host;
//! - `https://` URLs use `https_proxy` / `HTTPS_PROXY`, then `all_proxy` / `ALL_PROXY`;
//! - `http://` URLs (only with `allow_insecure_http`) use `http_proxy`, then `all_proxy` /
//!   `ALL_PROXY`. Upper-case `HTTP_PROXY` is ignored, as curl does: CGI servers set it from
//!   a request's `Proxy:` header ("httpoxy"), so an attacker could choose it.
//! - Lower case first, as curl reads them. Only `http://` and `https://` proxies (HTTP
//!   CONNECT) are supported; another scheme is refused rather than silently bypassed.
//!
//! A proxy URL's credentials are used for `Proxy-Authorization` and never shown: errors name
//! the variable, not its value.

use std::net::IpAddr;

use crate::error::Error;

/// The proxy for requests to `host` over `scheme`, from the process environment.
pub(crate) fn from_env(scheme: &str, host: &str) -> Result<Option<ureq::Proxy>, Error> {
    from_vars(scheme, host, |name| std::env::var(name).ok())
}

fn from_vars(
    scheme: &str,
    host: &str,
    var: impl Fn(&str) -> Option<String>,
) -> Result<Option<ureq::Proxy>, Error> {
    let var = |name: &str| var(name).filter(|v| !v.trim().is_empty());
    if is_loopback(host) {
        return Ok(None);
    }
    if let Some(list) = var("no_proxy").or_else(|| var("NO_PROXY")) {
        if no_proxy_matches(&list, host) {
            return Ok(None);
        }
    }
    let names: &[&str] = match scheme {
        "https" => &["https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"],
        _ => &["http_proxy", "all_proxy", "ALL_PROXY"],
    };
    let Some((name, url)) = names.iter().find_map(|&n| Some((n, var(n)?))) else {
        return Ok(None);
    };
    let invalid = || {
        Error::invalid_input(format!(
            "{name} is not a valid proxy URL: http://host:port or https://host:port \
             (SOCKS is not supported)"
        ))
    };
    let proxy = ureq::Proxy::new(url.trim()).map_err(|_| invalid())?;
    match proxy.protocol() {
        ureq::ProxyProtocol::Http | ureq::ProxyProtocol::Https => Ok(Some(proxy)),
        _ => Err(invalid()),
    }
}

/// `localhost`, 127.0.0.0/8 and `[::1]`: plain HTTP never leaves the machine there.
pub(crate) fn is_loopback(host: &str) -> bool {
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    bare(host)
        .parse::<IpAddr>()
        .is_ok_and(|ip| ip.is_loopback())
}

fn bare(host: &str) -> &str {
    host.trim_start_matches('[').trim_end_matches(']')
}

fn no_proxy_matches(list: &str, host: &str) -> bool {
    let host = bare(host).trim_end_matches('.').to_ascii_lowercase();
    let ip = host.parse::<IpAddr>().ok();
    list.split(',').map(str::trim).any(|entry| {
        if entry == "*" {
            return true;
        }
        if let (Some(ip), Some((net, bits))) = (ip, entry.split_once('/')) {
            return in_block(ip, bare(net), bits);
        }
        let entry = entry.trim_start_matches("*.").trim_start_matches('.');
        let entry = bare(entry).trim_end_matches('.').to_ascii_lowercase();
        if entry.is_empty() {
            return false;
        }
        host == entry
            || (ip.is_none()
                && host.len() > entry.len()
                && host.ends_with(&entry)
                && host.as_bytes()[host.len() - entry.len() - 1] == b'.')
    })
}

/// Whether `ip` is in the CIDR block `net`/`bits`.
fn in_block(ip: IpAddr, net: &str, bits: &str) -> bool {
    let (Ok(net), Ok(bits)) = (net.parse::<IpAddr>(), bits.parse::<u32>()) else {
        return false;
    };
    let prefix = |addr: u128, width: u32| match bits {
        0 => 0,
        b if b <= width => addr >> (width - b),
        _ => u128::MAX, // never equal to a real prefix
    };
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            bits <= 32 && prefix(u32::from(a).into(), 32) == prefix(u32::from(n).into(), 32)
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            bits <= 128 && prefix(u128::from(a), 128) == prefix(u128::from(n), 128)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proxy_for(scheme: &str, host: &str, vars: &[(&str, &str)]) -> Option<String> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        from_vars(scheme, host, |name| {
            vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
        })
        .unwrap()
        .map(|p| format!("{}:{}", p.host(), p.port()))
    }

    #[test]
    fn loopback_hosts() {
        for host in ["localhost", "LOCALHOST", "127.0.0.1", "127.1.2.3", "[::1]"] {
            assert!(is_loopback(host), "{host}");
        }
        for host in [
            "example.com",
            "10.0.0.1",
            "localhost.example.com",
            "[::2]",
            "",
        ] {
            assert!(!is_loopback(host), "{host}");
        }
    }

    #[test]
    fn loopback_never_goes_through_a_proxy() {
        let every = [
            ("HTTPS_PROXY", "http://p:1"),
            ("ALL_PROXY", "http://p:1"),
            ("HTTP_PROXY", "http://p:1"),
            ("http_proxy", "http://p:1"),
        ];
        for scheme in ["http", "https"] {
            for host in ["localhost", "127.0.0.1", "[::1]"] {
                assert_eq!(proxy_for(scheme, host, &every), None, "{scheme} {host}");
            }
        }
    }

    #[test]
    fn each_scheme_reads_its_own_variables() {
        let vars = [
            ("HTTPS_PROXY", "http://s:1"),
            ("http_proxy", "http://h:2"),
            ("ALL_PROXY", "http://a:3"),
        ];
        assert_eq!(proxy_for("https", "x.test", &vars).unwrap(), "s:1");
        assert_eq!(proxy_for("http", "x.test", &vars).unwrap(), "h:2");
        assert_eq!(
            proxy_for("https", "x.test", &vars[1..]).unwrap(),
            "a:3",
            "ALL_PROXY when no HTTPS_PROXY"
        );
        // Upper-case HTTP_PROXY may come from a request header under CGI: ignored.
        assert_eq!(
            proxy_for("http", "x.test", &[("HTTP_PROXY", "http://e:4")]),
            None
        );
        assert_eq!(proxy_for("https", "x.test", &[("HTTPS_PROXY", "")]), None);
    }

    #[test]
    fn no_proxy_matches_names_subdomains_addresses_and_star() {
        let with = |list: &str, host: &str| {
            proxy_for(
                "https",
                host,
                &[("HTTPS_PROXY", "http://p:1"), ("NO_PROXY", list)],
            )
            .is_none()
        };
        assert!(with("tokens.test", "tokens.test"));
        assert!(with("tokens.test", "a.tokens.test"));
        assert!(with(" other.test , .tokens.test", "a.tokens.test"));
        assert!(with("*.tokens.test", "TOKENS.test"));
        assert!(with("10.0.0.1", "10.0.0.1"));
        assert!(with("10.0.0.0/8", "10.200.3.4"));
        assert!(with("fd00::/8", "[fd12::1]"));
        assert!(!with("10.0.0.0/8", "11.0.0.1"));
        assert!(!with("10.0.0.0/33", "10.0.0.1"));
        assert!(with("*", "anything.test"));
        assert!(!with("tokens.test", "mytokens.test"));
        assert!(!with("tokens.test", "tokens.test.evil"));
        assert!(!with("0.0.1", "10.0.0.1"));
        assert!(!with("", "tokens.test"));
    }

    #[test]
    fn lower_case_comes_first_and_socks_is_refused() {
        let vars = [
            ("https_proxy", "http://low:1"),
            ("HTTPS_PROXY", "http://up:2"),
        ];
        assert_eq!(proxy_for("https", "x.test", &vars).unwrap(), "low:1");
        let socks = from_vars("https", "x.test", |name| {
            (name == "ALL_PROXY").then(|| "socks5h://p:1080".to_owned())
        });
        let err = socks.unwrap_err();
        assert_eq!(err.code(), crate::ErrorCode::InvalidInput);
        assert!(err.message().contains("ALL_PROXY") && err.message().contains("SOCKS"));
    }

    #[test]
    fn a_bad_proxy_url_is_refused_without_repeating_it() {
        let err = from_vars("https", "x.test", |name| {
            (name == "HTTPS_PROXY").then(|| "ftp://user:pw-Zq8@p:1".to_owned())
        })
        .unwrap_err();
        assert_eq!(err.code(), crate::ErrorCode::InvalidInput);
        assert!(err.message().contains("HTTPS_PROXY"));
        assert!(!err.message().contains("pw-Zq8"));
    }
}
