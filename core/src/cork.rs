//! Sends a request's head and body in one write.
//!
//! ureq writes the head and the body separately. On a kept-alive connection that is two
//! TCP segments, and the server wakes for each: strace showed two `sendto` per refresh
//! where libcurl makes one, and the second wake-up cost more than all of our own code.
//! This transport holds written bytes until the response is awaited, then sends them
//! together (in userspace, so no extra syscalls, unlike `TCP_CORK`).
//!
//! What is held is the request: the Basic header and the refresh token. It is wiped once
//! sent, never reallocated (a grown `Vec` would free its old copy unwiped), and the HTTP
//! stack's output buffer is wiped after each copy out of it.

use ureq::unversioned::transport::{Buffers, ConnectionDetails, Connector, NextTimeout, Transport};
use zeroize::{Zeroize, Zeroizing};

/// Beyond this much held output, flush at once (a refresh request is well under 2 KiB).
/// Also what each connection reserves once, so that `held` never reallocates.
const MAX_HELD: usize = 16 * 1024;

#[derive(Debug)]
pub(crate) struct CorkConnector;

impl<In: Transport> Connector<In> for CorkConnector {
    type Out = Corked;

    fn connect(
        &self,
        _details: &ConnectionDetails,
        chained: Option<In>,
    ) -> Result<Option<Corked>, ureq::Error> {
        Ok(chained.map(|inner| Corked {
            inner: Box::new(inner),
            held: Vec::new(),
        }))
    }
}

pub(crate) struct Corked {
    inner: Box<dyn Transport>,
    held: Vec<u8>,
}

/// Not the held bytes: they are the request, secrets included.
impl std::fmt::Debug for Corked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Corked")
            .field("inner", &self.inner)
            .finish()
    }
}

impl Corked {
    fn flush(&mut self, timeout: NextTimeout) -> Result<(), ureq::Error> {
        let result = send(&mut *self.inner, &self.held, timeout);
        // Only the bytes used: `held` never reallocates, so the rest was never written (or
        // was wiped by an earlier flush).
        self.held.as_mut_slice().zeroize();
        self.held.clear();
        result
    }
}

/// Sends `bytes` through `inner`'s output buffer, wiping it after each write.
fn send(inner: &mut dyn Transport, bytes: &[u8], timeout: NextTimeout) -> Result<(), ureq::Error> {
    let mut sent = 0;
    while sent < bytes.len() {
        let out = inner.buffers().output();
        let n = out.len().min(bytes.len() - sent);
        out[..n].copy_from_slice(&bytes[sent..sent + n]);
        let transmitted = inner.transmit_output(n, timeout);
        inner.buffers().output()[..n].zeroize();
        transmitted?;
        sent += n;
    }
    Ok(())
}

impl Drop for Corked {
    fn drop(&mut self) {
        self.held.zeroize();
    }
}

impl Transport for Corked {
    fn buffers(&mut self) -> &mut dyn Buffers {
        self.inner.buffers()
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), ureq::Error> {
        if self.held.len() + amount > MAX_HELD {
            // Never grow `held`. The new bytes sit in the output buffer that sending `held`
            // reuses: move them aside (into a buffer wiped on drop), send what came first,
            // then them.
            let out = &mut self.inner.buffers().output()[..amount];
            let pending = Zeroizing::new(out.to_vec());
            out.zeroize();
            self.flush(timeout)?;
            return send(&mut *self.inner, &pending, timeout);
        }
        if self.held.capacity() == 0 {
            self.held.reserve_exact(MAX_HELD);
        }
        let out = &mut self.inner.buffers().output()[..amount];
        self.held.extend_from_slice(out);
        out.zeroize();
        Ok(())
    }

    fn maybe_await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        self.flush(timeout)?;
        self.inner.maybe_await_input(timeout)
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        self.flush(timeout)?;
        self.inner.await_input(timeout)
    }

    fn is_open(&mut self) -> bool {
        self.inner.is_open()
    }

    fn is_tls(&self) -> bool {
        self.inner.is_tls()
    }
}
