//! Host name resolution, cached.
//!
//! ureq resolves the host before every request, even when a pooled connection will carry
//! it, and with a timeout set it does so on a new thread. Profiling showed that thread as
//! most of a refresh's own cost, so addresses are kept for a short while.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use ureq::http::Uri;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::NextTimeout;

/// How long resolved addresses are reused; short enough to follow DNS changes.
const TTL: Duration = Duration::from_secs(30);

#[derive(Debug, Default)]
pub(crate) struct CachingResolver {
    inner: DefaultResolver,
    // A client talks to one token endpoint, so one entry is enough.
    cached: Mutex<Option<(String, Instant, ResolvedSocketAddrs)>>,
}

impl Resolver for CachingResolver {
    fn resolve(
        &self,
        uri: &Uri,
        config: &ureq::config::Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let key = uri.authority().map(|a| a.as_str()).unwrap_or_default();
        {
            let cached = self.cached.lock().unwrap_or_else(|e| e.into_inner());
            if let Some((k, at, addrs)) = cached.as_ref() {
                if k == key && at.elapsed() < TTL {
                    return Ok(addrs.clone());
                }
            }
        }
        // A failed lookup is an io error that reads like any other ("failed to lookup
        // address information"); said here, where it is known that nothing was sent.
        let addrs = self
            .inner
            .resolve(uri, config, timeout)
            .map_err(|e| match e {
                ureq::Error::Io(_) => ureq::Error::HostNotFound,
                other => other,
            })?;
        let mut cached = self.cached.lock().unwrap_or_else(|e| e.into_inner());
        *cached = Some((key.to_owned(), Instant::now(), addrs.clone()));
        Ok(addrs)
    }
}
