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
use zeroize::Zeroize;

/// Beyond this much held output, flush at once (a refresh request is well under 2 KiB).
/// Also what each connection reserves once, so that `held` never reallocates.
const MAX_HELD: usize = 16 * 1024;

#[derive(Debug)]
pub(crate) struct CorkConnector;

impl Connector<Box<dyn Transport>> for CorkConnector {
    type Out = Corked;

    fn connect(
        &self,
        _details: &ConnectionDetails,
        chained: Option<Box<dyn Transport>>,
    ) -> Result<Option<Corked>, ureq::Error> {
        Ok(chained.map(|inner| Corked {
            inner,
            held: Vec::new(),
        }))
    }
}

#[derive(Debug)]
pub(crate) struct Corked {
    inner: Box<dyn Transport>,
    held: Vec<u8>,
}

impl Corked {
    fn flush(&mut self, timeout: NextTimeout) -> Result<(), ureq::Error> {
        let mut sent = 0;
        let result = loop {
            if sent == self.held.len() {
                break Ok(());
            }
            let out = self.inner.buffers().output();
            let n = out.len().min(self.held.len() - sent);
            out[..n].copy_from_slice(&self.held[sent..sent + n]);
            let transmitted = self.inner.transmit_output(n, timeout);
            self.inner.buffers().output()[..n].zeroize();
            if let Err(e) = transmitted {
                break Err(e);
            }
            sent += n;
        };
        // Zeroes the whole capacity and empties it.
        self.held.zeroize();
        result
    }
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
            // Never grow `held`: send what it has, and pass anything this large straight on.
            self.flush(timeout)?;
            if amount > MAX_HELD {
                let transmitted = self.inner.transmit_output(amount, timeout);
                self.inner.buffers().output()[..amount].zeroize();
                return transmitted;
            }
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
