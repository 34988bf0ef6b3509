//! The daemon side: a [`Server`] serves any [`Driver`] on UNIX sockets.
//!
//! One thread, the I/O loop (`reactor`), serves every connection with
//! non-blocking sockets and epoll, as the seed's qemud and libvirt's
//! virNetServer do; a fixed pool of workers (`pool`) runs the driver
//! calls that may take long. Threads never grow with clients, event
//! subscriptions or consoles:
//!
//! - Calls of one connection run concurrently, up to
//!   [`Limits::max_requests_per_client`], and are answered by serial, so
//!   a slow call (a start, a shutdown that waits) stalls neither another
//!   client nor another thread sharing the connection. Calls that never
//!   wait (lookups, `list`, `info`) are answered in the loop itself.
//! - Event subscriptions are queues in the loop: the server holds one
//!   subscription of the driver and fans its events out (`streams`).
//! - A console is a descriptor the loop polls (`ConsoleStream::ready_fd`).
//! - What each uid may hold is bounded (`limits`).
//!
//! The loop is protocol-neutral where it can be: listeners, admission,
//! connections and their buffers, deadlines, per-uid limits, the workers
//! and the event fan-out are the loop's; what a frame means is the
//! protocol's (`calls` for qvirt's own, over the procedure table).
//! libvirt's RPC protocol (XDR, its own procedure table mapped onto the
//! same `Driver`) is planned as a second kind of listener, served by the
//! same loop and workers; it will own, per connection:
//!
//! - the length rule (`Conn::whole_frame`: libvirt's length counts its
//!   own four bytes) and the frame limit;
//! - what a whole frame does (`calls::handle`): its handshake
//!   (AUTH_LIST, CONNECT_OPEN instead of hello), the read-only rule of
//!   its table, which calls are quick, and the job that answers on a
//!   worker, returning encoded frames in a `Done` as ours do;
//! - how an event, a lost-events notice, console data and a refusal are
//!   framed (`streams::feed`, `streams::read_console`,
//!   `accept::refuse`), and keepalive PINGs answered in the loop.
//!
//! [`Server::stop`] (and dropping a server) stops accepting, lets calls
//! in progress finish and their replies go out, then joins the loop and
//! the workers: once it returns, nothing of the server acts any more.

mod calls;
mod conn;
mod limits;
mod lv;
mod lv_events;
mod lv_qemu;
mod lv_vol;
mod pool;
mod reactor;
mod streams;
mod tied;

use std::os::unix::net::UnixListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

pub use limits::{
    FRAME_TIMEOUT, HELLO_TIMEOUT, KEEPALIVE_COUNT, KEEPALIVE_INTERVAL, Limits, READ_ONLY_MAX_FRAME,
};

use crate::driver::Driver;
use crate::error::{Error, Result};
use crate::sys::logger::Logger;

/// How a listening socket admits clients.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Only calls that change nothing are allowed (`qvirt-sock-ro`).
    pub read_only: bool,
    /// The uid a peer must have; `None` admits any uid.
    pub allowed_uid: Option<u32>,
    /// The most clients this socket serves at once (default 256); the
    /// excess gets a `LimitExceeded` error and is closed. Each socket
    /// counts its own clients.
    pub max_clients: usize,
}

impl Default for ServeOptions {
    fn default() -> ServeOptions {
        ServeOptions {
            read_only: false,
            allowed_uid: Some(nix::unistd::geteuid().as_raw()),
            max_clients: 256,
        }
    }
}

/// The protocol a listening socket speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// qvirt's own ([`crate::transport::wire`]).
    Qvirt,
    /// libvirt's RPC protocol ([`crate::transport::libvirt`]), for
    /// virsh, python3-libvirt and virt-install.
    Libvirt,
}

/// What the loop, the workers and the [`Server`] handle share.
struct Shared {
    driver: Arc<dyn Driver>,
    log: Arc<Logger>,
    limits: Limits,
    /// Connected clients, across all listeners.
    clients: AtomicUsize,
    /// Calls being answered.
    in_flight: AtomicUsize,
    /// Requests for the loop from other threads.
    commands: Mutex<Vec<Command>>,
    /// Completed calls, for the loop to send.
    done: Mutex<Vec<calls::Done>>,
    /// Wakes the loop.
    waker: reactor::Waker,
}

/// A request for the loop.
enum Command {
    /// Serve another listening socket.
    Listen(UnixListener, ServeOptions, Protocol),
    /// Stop accepting, finish the calls in progress, and exit.
    Stop,
}

/// A running server: the I/O loop and its workers.
pub struct Server {
    shared: Arc<Shared>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Server {
    /// Starts serving `driver` (logging to `log`) with the default
    /// [`Limits`]; it has no socket until [`Server::listen`].
    pub fn start(driver: Arc<dyn Driver>, log: Arc<Logger>) -> Result<Server> {
        Server::with_limits(driver, log, Limits::default())
    }

    /// [`Server::start`] with `limits`.
    pub fn with_limits(
        driver: Arc<dyn Driver>,
        log: Arc<Logger>,
        limits: Limits,
    ) -> Result<Server> {
        let shared = Arc::new(Shared {
            driver,
            log,
            limits,
            clients: AtomicUsize::new(0),
            in_flight: AtomicUsize::new(0),
            commands: Mutex::new(Vec::new()),
            done: Mutex::new(Vec::new()),
            waker: reactor::Waker::new()?,
        });
        let mut event_loop = reactor::Loop::new(shared.clone())?;
        let thread = std::thread::Builder::new()
            .name("qvirtd-loop".into())
            .spawn(move || event_loop.run())
            .map_err(|e| Error::io("cannot start the server's loop", e))?;
        Ok(Server {
            shared,
            thread: Mutex::new(Some(thread)),
        })
    }

    /// Serves `listener` with `options`, beside the sockets already
    /// served. `options.max_clients` counts this socket's clients only,
    /// so the clients of one socket (anyone's, on the read-only one)
    /// cannot take the places of another's.
    pub fn listen(&self, listener: UnixListener, options: ServeOptions) -> Result<()> {
        self.listen_protocol(listener, options, Protocol::Qvirt)
    }

    /// [`Server::listen`] for clients of libvirt's RPC protocol
    /// (`libvirt-sock`, `libvirt-sock-ro`): the same driver, loop,
    /// workers and limits serve them.
    pub fn listen_libvirt(&self, listener: UnixListener, options: ServeOptions) -> Result<()> {
        self.listen_protocol(listener, options, Protocol::Libvirt)
    }

    /// [`Server::listen`] for clients of `protocol`.
    pub fn listen_protocol(
        &self,
        listener: UnixListener,
        options: ServeOptions,
        protocol: Protocol,
    ) -> Result<()> {
        listener
            .set_nonblocking(true)
            .map_err(|e| Error::io("cannot configure the listening socket", e))?;
        self.command(Command::Listen(listener, options, protocol));
        Ok(())
    }

    /// Connected clients, across all sockets.
    pub fn clients(&self) -> usize {
        self.shared.clients.load(Ordering::SeqCst)
    }

    /// Calls being answered.
    pub fn in_flight(&self) -> usize {
        self.shared.in_flight.load(Ordering::SeqCst)
    }

    /// Stops accepting, lets the calls in progress finish and their
    /// replies go out, closes every connection, and joins the loop and
    /// the workers. Returns once nothing of the server acts any more.
    /// Calling it again does nothing.
    pub fn stop(&self) {
        let thread = crate::sys::sync::lock(&self.thread).take();
        if let Some(thread) = thread {
            self.command(Command::Stop);
            let _ = thread.join();
        }
    }

    fn command(&self, command: Command) {
        self.shared
            .commands
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(command);
        self.shared.waker.wake();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}
