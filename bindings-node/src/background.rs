//! Promises settled from the core's worker threads (`oauth_refresh::workers` says why not
//! libuv's pool): `spawn(env, task)` runs `task.compute()` on a worker and `task.resolve()`
//! on the JavaScript thread, as `AsyncTask` does.
//!
//! A worker queues its finished task in this thread's mailbox, lets go of the lock, and only
//! then wakes the event loop through a libuv async handle. libuv's pool wakes the loop while
//! holding the lock the loop then takes: on a busy CPU the woken JavaScript thread ran, found
//! the lock taken and switched back, two context switches more per call.

use std::cell::RefCell;
use std::ffi::c_void;
use std::ptr::null_mut;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};

use napi::bindgen_prelude::*;
use napi::{sys, Task};
use oauth_refresh::workers::Workers;

static WORKERS: Workers = Workers::new("oauth-refresh-io", |run| run());

// libuv, as the running Node exports it (napi-sys links `uv_run` the same way).
extern "C" {
    fn uv_handle_size(kind: i32) -> usize;
    fn uv_async_init(
        event_loop: *mut sys::uv_loop_s,
        handle: *mut c_void,
        cb: extern "C" fn(*mut c_void),
    ) -> i32;
    fn uv_async_send(handle: *mut c_void) -> i32;
    fn uv_ref(handle: *mut c_void);
    fn uv_unref(handle: *mut c_void);
    fn uv_close(handle: *mut c_void, cb: extern "C" fn(*mut c_void));
}
const UV_ASYNC: i32 = 1;

/// What a worker leaves for the JavaScript thread: the promise's deferred (an address: it
/// is only touched back on that thread) and the settling of its task.
type Finished = (
    usize,
    Box<dyn FnOnce(&Env) -> Result<sys::napi_value> + Send>,
);

/// Shared by one JavaScript thread and the workers running its tasks.
struct Mailbox {
    finished: Mutex<Vec<Finished>>,
    /// libuv's async handle (`uv_handle_size` bytes), freed once libuv closed it.
    handle: *mut c_void,
    /// The environment is going away: no worker may touch `handle` any more.
    closed: AtomicBool,
    /// Workers between checking `closed` and returning from `uv_async_send`.
    sending: AtomicUsize,
}

// SAFETY: `handle` is only used through libuv's thread-safe `uv_async_send` from workers,
// and every other use is on the JavaScript thread.
unsafe impl Send for Mailbox {}
unsafe impl Sync for Mailbox {}

impl Mailbox {
    /// From a worker: wakes the loop unless the environment has gone.
    fn wake(&self) {
        self.sending.fetch_add(1, SeqCst);
        if !self.closed.load(SeqCst) {
            // SAFETY: not closed, and cleanup waits for `sending` to drop to 0 before it
            // closes the handle.
            unsafe { uv_async_send(self.handle) };
        }
        self.sending.fetch_sub(1, SeqCst);
    }
}

impl Drop for Mailbox {
    fn drop(&mut self) {
        // SAFETY: allocated in `Local::new` as this vector; libuv is done with it.
        unsafe {
            drop(Vec::from_raw_parts(
                self.handle.cast::<u64>(),
                words(),
                words(),
            ))
        };
    }
}

/// `uv_async_t`'s size in 8-byte words (the layout it is allocated with).
fn words() -> usize {
    // SAFETY: a plain query.
    unsafe { uv_handle_size(UV_ASYNC) }.div_ceil(8)
}

/// This JavaScript thread's side.
struct Local {
    env: sys::napi_env,
    mailbox: Arc<Mailbox>,
    /// Tasks spawned and not yet settled: the handle keeps the loop alive while there are.
    pending: usize,
    resource: sys::napi_ref,
    context: sys::napi_async_context,
}

thread_local! {
    static LOCAL: RefCell<Option<Local>> = const { RefCell::new(None) };
}

impl Local {
    unsafe fn new(env: sys::napi_env) -> Result<Local> {
        let mut event_loop = null_mut();
        check(sys::napi_get_uv_event_loop(env, &mut event_loop))?;
        // The async context under which settled promises' callbacks run.
        let (mut resource, mut name, mut context, mut reference) =
            (null_mut(), null_mut(), null_mut(), null_mut());
        check(sys::napi_create_object(env, &mut resource))?;
        check(sys::napi_create_string_utf8(
            env,
            c"oauth-refresh".as_ptr(),
            13,
            &mut name,
        ))?;
        check(sys::napi_async_init(env, resource, name, &mut context))?;
        check(sys::napi_create_reference(env, resource, 1, &mut reference))?;
        // The handle last: once libuv holds it, only `uv_close` may free it.
        let mut memory = vec![0u64; words()];
        let handle = memory.as_mut_ptr().cast::<c_void>();
        std::mem::forget(memory); // freed by the mailbox's Drop
        let mailbox = Arc::new(Mailbox {
            finished: Mutex::new(Vec::new()),
            handle,
            closed: AtomicBool::new(false),
            sending: AtomicUsize::new(0),
        });
        if uv_async_init(event_loop, handle, on_wake) != 0 {
            return Err(Error::from_reason("cannot set up the event loop's wake-up"));
        }
        uv_unref(handle); // an idle handle must not keep the process alive
                          // Node waits for an async cleanup hook to report that the handle is closed.
        let mut hook = null_mut();
        let status = sys::napi_add_async_cleanup_hook(env, Some(cleanup), null_mut(), &mut hook);
        if status != sys::Status::napi_ok {
            close(mailbox, null_mut());
            return Err(Error::from_reason("cannot set up the event loop's wake-up"));
        }
        Ok(Local {
            env,
            mailbox,
            pending: 0,
            resource: reference,
            context,
        })
    }
}

fn check(status: sys::napi_status) -> Result<()> {
    match status {
        sys::Status::napi_ok => Ok(()),
        s => Err(Error::new(
            Status::from(s),
            "the event loop's wake-up failed".to_owned(),
        )),
    }
}

/// Makes the error a `signal` rejects with (an `AbortError`).
pub type MakeAbort = fn(&Env) -> Result<Error>;

/// Runs `task.compute()` on a worker; the promise settles with `task.resolve()` (or
/// `task.reject()`) on this thread. A `signal` aborting before a worker took the task
/// rejects it with `abort` and nothing runs; after, the task runs to its answer (a request
/// on the wire completes, so a rotated refresh token is never lost).
pub fn spawn<T: Task + 'static>(
    env: &Env,
    mut task: T,
    signal: Option<(AbortSignal, MakeAbort)>,
) -> Result<PromiseRaw<'static, T::JsValue>> {
    let raw = env.raw();
    let (mut deferred, mut promise) = (null_mut(), null_mut());
    // SAFETY: a live environment, on its thread.
    check(unsafe { sys::napi_create_promise(raw, &mut deferred, &mut promise) })?;
    let mailbox = LOCAL.with(|cell| -> Result<Arc<Mailbox>> {
        let mut cell = cell.borrow_mut();
        if cell.is_none() {
            // SAFETY: as above.
            *cell = Some(unsafe { Local::new(raw) }?);
        }
        let local = cell.as_mut().expect("set just above");
        local.pending += 1;
        if local.pending == 1 {
            // SAFETY: the handle is open while `Local` is.
            unsafe { uv_ref(local.mailbox.handle) };
        }
        Ok(local.mailbox.clone())
    })?;
    // True until a worker takes the task or the signal aborts it, whichever comes first.
    let waiting = Arc::new(AtomicBool::new(true));
    if let Some((signal, abort)) = signal {
        let waiting = waiting.clone();
        signal.on_abort(move || {
            if waiting.swap(false, SeqCst) {
                let env = Env::from_raw(raw);
                // SAFETY: on this thread (abort events are), settling the deferred once.
                unsafe { reject(raw, deferred, abort(&env)) };
            }
        });
    }
    let deferred_at = deferred as usize;
    let taken = waiting.clone();
    let sent = WORKERS.submit(Box::new(move || {
        // Aborted while it waited (the promise is settled), or its environment has ended
        // (no one could receive the answer): nothing is sent.
        if !waiting.swap(false, SeqCst) || mailbox.closed.load(SeqCst) {
            return;
        }
        let output = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| task.compute()));
        let settle = Box::new(move |env: &Env| {
            let value = match output {
                Ok(Ok(output)) => task.resolve(*env, output),
                Ok(Err(e)) => task.reject(*env, e),
                Err(payload) => {
                    std::mem::forget(payload); // its Drop could panic again
                    Err(crate::error::internal_error(env, crate::error::SENT))
                }
            };
            task.finally(*env)?;
            // SAFETY: on the JavaScript thread, inside a handle scope.
            value.and_then(|v| unsafe { ToNapiValue::to_napi_value(env.raw(), v) })
        });
        mailbox
            .finished
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((deferred_at, settle));
        mailbox.wake();
    }));
    if let Err(reason) = sent {
        // Unless an abort already did (it cannot have yet, but then it never will).
        if taken.swap(false, SeqCst) {
            // SAFETY: the deferred made above, settled once, on this thread.
            unsafe { reject(raw, deferred, Ok(Error::from_reason(reason))) };
        }
    }
    Ok(PromiseRaw::new(raw, promise))
}

/// Rejects `deferred` with `error` (or the failure to make it) and counts it settled.
unsafe fn reject(env: sys::napi_env, deferred: sys::napi_deferred, error: Result<Error>) {
    settled(1);
    let error = error.unwrap_or_else(|e| e);
    if let Ok(value) = ToNapiValue::to_napi_value(env, error) {
        sys::napi_reject_deferred(env, deferred, value);
    }
}

/// `count` tasks settled: the handle lets the loop end once none is pending.
fn settled(count: usize) {
    LOCAL.with(|cell| {
        if let Some(local) = cell.borrow_mut().as_mut() {
            local.pending -= count;
            if local.pending == 0 {
                // SAFETY: the handle is open while `Local` is.
                unsafe { uv_unref(local.mailbox.handle) };
            }
        }
    })
}

/// On the JavaScript thread, when a worker woke the loop: settles every finished task
/// inside a callback scope, so that the promises' reactions run as for any I/O callback.
extern "C" fn on_wake(_handle: *mut c_void) {
    let Some((env, mailbox, resource, context)) = LOCAL.with(|cell| {
        cell.borrow()
            .as_ref()
            .map(|l| (l.env, l.mailbox.clone(), l.resource, l.context))
    }) else {
        return;
    };
    let finished = std::mem::take(&mut *mailbox.finished.lock().unwrap_or_else(|e| e.into_inner()));
    if finished.is_empty() {
        return; // wake-ups coalesce: an earlier one took these
    }
    settled(finished.len());
    let wrapped = Env::from_raw(env);
    // SAFETY: on the environment's own thread, from its event loop; every handle made here
    // lives inside the handle scope.
    unsafe {
        let (mut handles, mut object, mut scope) = (null_mut(), null_mut(), null_mut());
        if sys::napi_open_handle_scope(env, &mut handles) != sys::Status::napi_ok {
            return;
        }
        sys::napi_get_reference_value(env, resource, &mut object);
        let opened = sys::napi_open_callback_scope(env, object, context, &mut scope);
        for (deferred, settle) in finished {
            let deferred = deferred as sys::napi_deferred;
            let status =
                match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| settle(&wrapped))) {
                    Ok(Ok(value)) => sys::napi_resolve_deferred(env, deferred, value),
                    Ok(Err(e)) => match ToNapiValue::to_napi_value(env, e) {
                        Ok(error) => sys::napi_reject_deferred(env, deferred, error),
                        Err(_) => sys::Status::napi_generic_failure,
                    },
                    Err(payload) => {
                        std::mem::forget(payload); // its Drop could panic again
                        let error = crate::error::internal_error(&wrapped, crate::error::SENT);
                        match ToNapiValue::to_napi_value(env, error) {
                            Ok(error) => sys::napi_reject_deferred(env, deferred, error),
                            Err(_) => sys::Status::napi_generic_failure,
                        }
                    }
                };
            if status != sys::Status::napi_ok {
                // An exception thrown while settling (the environment tearing down): clear
                // it so that the next settles run.
                let mut ignored = null_mut();
                sys::napi_get_and_clear_last_exception(env, &mut ignored);
            }
        }
        if opened == sys::Status::napi_ok {
            sys::napi_close_callback_scope(env, scope); // runs the promises' reactions
        }
        sys::napi_close_handle_scope(env, handles);
    }
}

/// The environment is going away (Node's async cleanup hook): no worker touches the handle
/// from now on, jobs still queued are never sent, libuv closes the handle, and tasks still
/// running settle nothing (their results are dropped, tokens wiped).
unsafe extern "C" fn cleanup(hook: sys::napi_async_cleanup_hook_handle, _arg: *mut c_void) {
    let Some(local) = LOCAL.with(|cell| cell.borrow_mut().take()) else {
        sys::napi_remove_async_cleanup_hook(hook);
        return;
    };
    local.mailbox.closed.store(true, SeqCst);
    while local.mailbox.sending.load(SeqCst) > 0 {
        std::thread::yield_now();
    }
    sys::napi_async_destroy(local.env, local.context);
    sys::napi_delete_reference(local.env, local.resource);
    close(local.mailbox, hook);
}

/// What `on_closed` gets: the mailbox to drop once libuv is done with its handle, and the
/// cleanup hook to report done (null when there is none).
struct Closing(Arc<Mailbox>, sys::napi_async_cleanup_hook_handle);

/// Closes the mailbox's handle; the mailbox lives until libuv's close callback.
unsafe fn close(mailbox: Arc<Mailbox>, hook: sys::napi_async_cleanup_hook_handle) {
    let handle = mailbox.handle;
    let closing = Box::into_raw(Box::new(Closing(mailbox, hook)));
    *handle.cast::<*mut Closing>() = closing; // uv_handle_t.data, its first field
    uv_close(handle, on_closed);
}

extern "C" fn on_closed(handle: *mut c_void) {
    // SAFETY: set by `close` from `Box::into_raw`, taken back once.
    let Closing(mailbox, hook) = *unsafe { Box::from_raw(*handle.cast::<*mut Closing>()) };
    drop(mailbox);
    if !hook.is_null() {
        // SAFETY: the hook Node gave `cleanup`, removed once.
        unsafe { sys::napi_remove_async_cleanup_hook(hook) };
    }
}
