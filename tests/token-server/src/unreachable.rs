//! Addresses that fail in the two ways a client must tell apart: a connect that never
//! completes (timeout before sending) and a connect that is refused.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

use socket2::{Domain, Socket, Type};

/// A loopback port whose accept queue is full, so a new connect hangs until it times out.
pub struct Blackhole {
    _listener: Socket,
    _fillers: Vec<TcpStream>,
    pub addr: SocketAddr,
}

impl Blackhole {
    pub fn new() -> std::io::Result<Blackhole> {
        let listener = Socket::new(Domain::IPV4, Type::STREAM, None)?;
        listener.bind(&SocketAddr::from(([127, 0, 0, 1], 0)).into())?;
        // Never accepted: with a backlog of 0 the kernel queues about one connection
        // and then drops further SYNs, which is exactly a connect timeout.
        listener.listen(0)?;
        let addr = listener
            .local_addr()?
            .as_socket()
            .expect("an IPv4 socket has an IPv4 address");
        let mut fillers = Vec::new();
        for _ in 0..8 {
            match TcpStream::connect_timeout(&addr, Duration::from_millis(200)) {
                Ok(stream) => fillers.push(stream),
                Err(_) => break,
            }
        }
        Ok(Blackhole {
            _listener: listener,
            _fillers: fillers,
            addr,
        })
    }
}

/// A loopback port that nothing listens on (bound once, then released).
pub fn refused_addr() -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))?;
    listener.local_addr()
}
