//! The TCP connection under every exchange (the cork, and TLS when there is one, ride on it).
//!
//! ureq's own TCP transport makes seven system calls per refresh on a kept-alive connection
//! that this one does not (strace: ten per refresh, now three). Its liveness probe, run
//! before a pooled connection is reused and again before it is pooled, switches the socket
//! to non-blocking and back around a read: three calls, twice. Here the probe is one
//! `recv(MSG_PEEK | MSG_DONTWAIT)`, and only before reuse: a connection just used is pooled
//! unprobed, since the probe at its next checkout sees anything that came or closed since.
//! And it sets the socket's timeout before every read and every write, because the
//! remaining budget differs by microseconds each time. Here the timeout is set only when it
//! is no longer between 7/8 and 1 of the budget; a wait that ends at the shorter socket
//! timeout waits again for the rest, so the deadline is exact.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ureq::unversioned::transport::{
    Buffers, ConnectionDetails, Connector, Either, LazyBuffers, NextTimeout, Transport,
};
use ureq::Timeout;

/// Opens the connection when no proxy has (a CONNECT proxy's tunnel comes chained in).
#[derive(Debug)]
pub(crate) struct TcpConnector;

impl<In: Transport> Connector<In> for TcpConnector {
    type Out = Either<In, Tcp>;

    fn connect(
        &self,
        details: &ConnectionDetails,
        chained: Option<In>,
    ) -> Result<Option<Self::Out>, ureq::Error> {
        if let Some(tunnel) = chained {
            return Ok(Some(Either::A(tunnel)));
        }
        let stream = Arc::new(open(details)?);
        if details.config.no_delay() {
            stream.set_nodelay(true)?;
        }
        // So that `Agent::shutdown` interrupts a blocked exchange, as with ureq's transport.
        (details.register_shutdown)(Arc::downgrade(&stream) as _)?;
        let config = details.config;
        Ok(Some(Either::B(Tcp {
            stream,
            buffers: LazyBuffers::new(config.input_buffer_size(), config.output_buffer_size()),
            read_timeout: None,
            write_timeout: None,
            used: false,
        })))
    }
}

/// Tries each resolved address in turn, the first with half the connect budget, the next
/// with a quarter, and so on (the shares add up to the budget; at least 10 ms each), as
/// ureq does. A timeout is `Timeout::Connect`: nothing was sent.
fn open(details: &ConnectionDetails) -> Result<TcpStream, ureq::Error> {
    let budget = details.timeout.not_zero().map(|d| *d);
    let started = Instant::now();
    let count = details.addrs.len();
    let total_weight = 2.0 * (1.0 - 0.5_f64.powi(count as i32));
    let mut weight = 1.0_f64;
    let mut last = None;
    for addr in details.addrs.iter() {
        let share = budget.map(|b| {
            Duration::from_secs_f64(b.as_secs_f64() * weight / total_weight)
                .max(Duration::from_millis(10))
        });
        weight /= 2.0;
        match connect_one(addr, share) {
            Ok(stream) => return Ok(stream),
            Err(e) if e.kind() == io::ErrorKind::TimedOut => {
                if budget.is_some_and(|b| started.elapsed() > b) {
                    return Err(ureq::Error::Timeout(details.timeout.reason));
                }
                last = Some(ureq::Error::Timeout(Timeout::Connect));
            }
            // This address refused or is unreachable: the next one may work.
            Err(e) if address_specific(&e) => last = Some(e.into()),
            Err(e) => return Err(e.into()),
        }
    }
    Err(last.unwrap_or_else(|| {
        io::Error::new(io::ErrorKind::ConnectionRefused, "Connection refused").into()
    }))
}

fn connect_one(addr: &SocketAddr, timeout: Option<Duration>) -> io::Result<TcpStream> {
    let result = match timeout {
        Some(t) => TcpStream::connect_timeout(addr, t),
        None => TcpStream::connect(addr),
    };
    result.map_err(|e| match e.kind() {
        io::ErrorKind::WouldBlock => io::Error::from(io::ErrorKind::TimedOut),
        _ => e,
    })
}

fn address_specific(e: &io::Error) -> bool {
    use io::ErrorKind as K;
    matches!(
        e.kind(),
        K::ConnectionRefused
            | K::HostUnreachable
            | K::NetworkUnreachable
            | K::NetworkDown
            | K::AddrNotAvailable
    )
}

pub(crate) struct Tcp {
    /// Shared (weakly) with the agent's shutdown handle.
    stream: Arc<TcpStream>,
    buffers: LazyBuffers,
    /// What the socket's timeouts are set to now.
    read_timeout: Option<Duration>,
    write_timeout: Option<Duration>,
    /// Read or written since the last `is_open`: ureq is pooling it after an exchange.
    used: bool,
}

/// Only the peer: the buffers hold the request, secrets included.
impl std::fmt::Debug for Tcp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tcp")
            .field("peer", &self.stream.peer_addr().ok())
            .finish()
    }
}

impl Transport for Tcp {
    fn buffers(&mut self) -> &mut dyn Buffers {
        &mut self.buffers
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), ureq::Error> {
        self.used = true;
        let timeout = timeout.for_write();
        let deadline = Deadline::new(timeout)?;
        let mut sent = 0;
        while sent < amount {
            let left = deadline.left()?;
            keep_close(
                &self.stream,
                &mut self.write_timeout,
                left,
                TcpStream::set_write_timeout,
            )?;
            match (&*self.stream).write(&self.buffers.output()[sent..amount]) {
                Ok(0) => return Err(io::Error::from(io::ErrorKind::WriteZero).into()),
                Ok(n) => sent += n,
                Err(e) if waited(&e) => {} // the socket's timeout, maybe short of the deadline
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        self.used = true;
        let timeout = timeout.for_read();
        let deadline = Deadline::new(timeout)?;
        loop {
            let left = deadline.left()?;
            keep_close(
                &self.stream,
                &mut self.read_timeout,
                left,
                TcpStream::set_read_timeout,
            )?;
            match (&*self.stream).read(self.buffers.input_append_buf()) {
                Ok(n) => {
                    self.buffers.input_appended(n);
                    return Ok(n > 0);
                }
                Err(e) if waited(&e) => {}
                Err(e) => return Err(e.into()),
            }
        }
    }

    fn is_open(&mut self) -> bool {
        // Just used: it is being pooled, and its next checkout probes it.
        std::mem::take(&mut self.used) || probe(&self.stream)
    }
}

/// Interrupted, or the socket's timeout passed: the deadline decides whether to go on.
fn waited(e: &io::Error) -> bool {
    use io::ErrorKind as K;
    matches!(e.kind(), K::Interrupted | K::WouldBlock | K::TimedOut)
}

/// When an operation's budget runs out; `None` when it has none.
struct Deadline {
    started: Instant,
    budget: Option<Duration>,
    reason: Timeout,
}

impl Deadline {
    fn new(timeout: NextTimeout) -> Result<Deadline, ureq::Error> {
        if timeout.after.is_zero() {
            return Err(ureq::Error::Timeout(timeout.reason));
        }
        Ok(Deadline {
            started: Instant::now(),
            budget: timeout.not_zero().map(|d| *d),
            reason: timeout.reason,
        })
    }

    /// What is left of the budget, or the timeout error once nothing is.
    fn left(&self) -> Result<Option<Duration>, ureq::Error> {
        let Some(budget) = self.budget else {
            return Ok(None);
        };
        match budget.checked_sub(self.started.elapsed()) {
            Some(left) if !left.is_zero() => Ok(Some(left)),
            _ => Err(ureq::Error::Timeout(self.reason)),
        }
    }
}

/// Sets the socket's timeout when `retime` says so.
fn keep_close(
    stream: &TcpStream,
    current: &mut Option<Duration>,
    left: Option<Duration>,
    set: fn(&TcpStream, Option<Duration>) -> io::Result<()>,
) -> io::Result<()> {
    let Some(wanted) = retime(*current, left) else {
        return Ok(());
    };
    match set(stream, wanted) {
        Ok(()) => *current = wanted,
        // macOS refuses a new timeout once the peer has reset the connection, while the
        // answer may still be readable: let the read report the outcome (as ureq does).
        Err(e) if cfg!(target_os = "macos") && e.kind() == io::ErrorKind::InvalidInput => {}
        Err(e) => return Err(e),
    }
    Ok(())
}

/// The socket timeout to set when it is `current` and `left` of the budget remains (`None`
/// for no limit), or `None` to keep it: kept while within 7/8..=1 of `left`, and a new one is
/// 15/16 of `left`, so that the next exchange's slightly larger budget keeps it.
fn retime(current: Option<Duration>, left: Option<Duration>) -> Option<Option<Duration>> {
    match (left, current) {
        (None, None) => None,
        (Some(l), Some(c)) if c <= l && c >= l - l / 8 => None,
        (None, Some(_)) => Some(None),
        (Some(l), _) => Some(Some((l - l / 16).max(Duration::from_micros(1)))),
    }
}

/// A pooled connection is usable when nothing is waiting to be read on it: no bytes (a
/// server has nothing to say between exchanges) and no end of stream. One system call.
#[cfg(unix)]
fn probe(stream: &TcpStream) -> bool {
    use std::os::fd::AsRawFd;
    let mut byte = 0u8;
    // SAFETY: a valid socket and a one-byte buffer we own; MSG_PEEK consumes nothing.
    let n = unsafe {
        libc::recv(
            stream.as_raw_fd(),
            (&mut byte as *mut u8).cast(),
            1,
            libc::MSG_PEEK | libc::MSG_DONTWAIT,
        )
    };
    n < 0 && io::Error::last_os_error().kind() == io::ErrorKind::WouldBlock
}

#[cfg(not(unix))]
fn probe(stream: &TcpStream) -> bool {
    let mut byte = [0u8];
    let idle = stream.set_nonblocking(true).is_ok()
        && matches!(stream.peek(&mut byte), Err(e) if e.kind() == io::ErrorKind::WouldBlock);
    idle && stream.set_nonblocking(false).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn duration() -> impl Strategy<Value = Duration> {
        (0u64..=3_600_000_000_000).prop_map(Duration::from_nanos)
    }

    proptest! {
        /// A timeout set never outlasts what is left (beyond the 1 µs floor), is kept by the
        /// next wait with the same or a slightly larger budget, and is dropped for no budget.
        #[test]
        fn a_socket_timeout_is_set_within_the_budget_and_then_kept(
            current in proptest::option::of(duration()),
            left in proptest::option::of(duration()),
            grown in 0u32..1000,
        ) {
            match retime(current, left) {
                None => match (left, current) {
                    (None, c) => prop_assert_eq!(c, None),
                    (Some(l), c) => {
                        let c = c.expect("kept only when set");
                        prop_assert!(c <= l && c >= l - l / 8);
                    }
                },
                Some(None) => prop_assert!(left.is_none() && current.is_some()),
                Some(Some(new)) => {
                    let l = left.expect("a timeout only for a budget");
                    prop_assert!(new <= l.max(Duration::from_micros(1)));
                    if l >= Duration::from_micros(16) {
                        prop_assert_eq!(retime(Some(new), Some(l)), None);
                        // The next exchange's budget, up to 1/16 larger, keeps it too.
                        let next = l + l * grown / 16_000;
                        prop_assert_eq!(retime(Some(new), Some(next)), None);
                    }
                }
            }
        }
    }

    #[test]
    fn a_deadline_counts_down_and_then_times_out() {
        let timeout = |after: std::time::Duration| NextTimeout {
            after: after.into(),
            reason: Timeout::RecvResponse,
            per_read: None,
            per_write: None,
        };
        let deadline = Deadline::new(timeout(Duration::from_millis(30))).unwrap();
        let first = deadline.left().unwrap().unwrap();
        assert!(first <= Duration::from_millis(30));
        std::thread::sleep(Duration::from_millis(40));
        assert!(matches!(
            deadline.left(),
            Err(ureq::Error::Timeout(Timeout::RecvResponse))
        ));
        // A budget already spent is refused before any wait.
        assert!(matches!(
            Deadline::new(timeout(Duration::ZERO)),
            Err(ureq::Error::Timeout(Timeout::RecvResponse))
        ));
    }
}
