//! Sends a request's head and body in one write.
//!
//! ureq writes the head and the body separately. On a kept-alive connection that is two
//! TCP segments, and the server wakes for each: strace showed two `sendto` per refresh
//! where libcurl makes one, and the second wake-up cost more than all of our own code.
//! This transport holds written bytes until the response is awaited, then sends them
//! together (in userspace, so no extra syscalls, unlike `TCP_CORK`).

use ureq::unversioned::transport::{Buffers, ConnectionDetails, Connector, NextTimeout, Transport};

/// Beyond this much held output, flush at once (a request body this large is unusual).
const MAX_HELD: usize = 64 * 1024;

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
        while sent < self.held.len() {
            let out = self.inner.buffers().output();
            let n = out.len().min(self.held.len() - sent);
            out[..n].copy_from_slice(&self.held[sent..sent + n]);
            self.inner.transmit_output(n, timeout)?;
            sent += n;
        }
        self.held.clear();
        Ok(())
    }
}

impl Transport for Corked {
    fn buffers(&mut self) -> &mut dyn Buffers {
        self.inner.buffers()
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), ureq::Error> {
        let bytes = &self.inner.buffers().output()[..amount];
        self.held.extend_from_slice(bytes);
        if self.held.len() > MAX_HELD {
            self.flush(timeout)?;
        }
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
