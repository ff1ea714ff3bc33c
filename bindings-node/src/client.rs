//! `Client`: options in, refreshes on a worker thread (`refresh`) or inline (`refreshSync`).

use std::cell::RefCell;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use napi::bindgen_prelude::*;
use napi::{sys, Task};
use napi_derive::napi;
use oauth_refresh::{ClientOptions, GustoEnvironment};

use crate::background;
use crate::error::{convert, guard, internal_error, to_js_error, NOT_SENT, SENT};
use crate::options::{each, object, NODE};
use crate::raw::{args, call};
use crate::request::{extra_params, RefreshTokenRequest, SystemAccessTokenRequest};
use crate::table::Table;
use crate::token::{self, Token};

/// Options for one `refresh` call.
#[napi(object, object_to_js = false)]
pub struct RefreshOptions {
    /// Aborts the refresh while it waits for a thread. Once the request is on the wire it
    /// completes, so a rotated refresh token is never lost.
    pub signal: Option<AbortSignal>,
}

/// Applies `options` to `o` and builds the client.
fn build(
    env: &Env,
    mut o: ClientOptions,
    options: Option<Unknown<'_>>,
    what: &str,
) -> Result<Client> {
    o.surface = "node";
    let options = object(env, options, what)?;
    each(env, options.as_ref(), &[], |name, v| o.set(NODE, name, v))?;
    let client = o.build().map_err(|e| to_js_error(env, &e))?;
    Ok(Client(Arc::new(client)))
}

/// Refreshes tokens at one token endpoint; keeps connections alive between calls.
#[napi]
pub struct Client(pub(crate) Arc<oauth_refresh::Client>);

#[napi]
impl Client {
    /// A client for an RFC 6749 token endpoint.
    #[napi(constructor, catch_unwind)]
    pub fn new(
        env: Env,
        #[napi(ts_arg_type = "ClientOptions")] options: Unknown<'_>,
    ) -> Result<Self> {
        guard(&env, NOT_SENT, || Self::create(env, options))
    }

    fn create(env: Env, options: Unknown<'_>) -> Result<Self> {
        build(
            &env,
            ClientOptions::default(),
            Some(options),
            "new Client(options)",
        )
    }

    /// The Gusto preset: JSON body, credentials in the body, `X-Gusto-API-Version`.
    #[napi(factory, catch_unwind)]
    pub fn gusto(
        env: Env,
        #[napi(ts_arg_type = "GustoOptions")] options: Option<Unknown<'_>>,
    ) -> Result<Self> {
        guard(&env, NOT_SENT, || Self::create_gusto(env, options))
    }

    fn create_gusto(env: Env, options: Option<Unknown<'_>>) -> Result<Self> {
        let o = ClientOptions::gusto(GustoEnvironment::Demo);
        build(&env, o, options, "Client.gusto(options)")
    }

    /// Exchanges a refresh token on a worker thread. `options.signal` aborts it while it
    /// waits for a thread; once the request is on the wire it completes, so a rotated
    /// refresh token is never lost.
    #[napi(ts_return_type = "Promise<Token>", catch_unwind)]
    pub fn refresh(
        &self,
        env: Env,
        #[napi(ts_arg_type = "RefreshTokenRequest")] request: Unknown<'_>,
        #[napi(ts_arg_type = "RefreshOptions")] options: Option<Unknown<'_>>,
    ) -> Result<PromiseRaw<'static, Token>> {
        guard(&env, NOT_SENT, || {
            let request = refresh_request(&env, request, "refresh(request)")?;
            let mut signal = None;
            if let Some(options) = options {
                if already_aborted(options)? {
                    return Err(abort_error(&env)?);
                }
                let options: RefreshOptions = convert(&env, options, "refresh(request, options)")?;
                signal = options.signal;
            }
            let client = self.0.clone();
            let task = Exchange::new(move || client.refresh(&request));
            background::spawn(&env, task, signal.map(|s| (s, abort_error as _)))
        })
    }

    /// `refresh`, blocking the calling thread.
    #[napi(catch_unwind)]
    pub fn refresh_sync(
        &self,
        env: Env,
        #[napi(ts_arg_type = "RefreshTokenRequest")] request: Unknown<'_>,
    ) -> Result<Token> {
        let request = guard(&env, NOT_SENT, || {
            refresh_request(&env, request, "refreshSync(request)")
        })?;
        guard(&env, SENT, || {
            self.0
                .refresh(&request)
                .map(Token)
                .map_err(|e| to_js_error(&env, &e))
        })
    }

    /// This client's handle for client_fast.js (`raw` functions take it).
    #[napi(js_name = "__handle", skip_typescript)]
    pub fn handle(&self) -> u32 {
        CLIENTS.with(|t| t.borrow_mut().insert(self.0.clone()))
    }

    /// Gusto's `system_access` grant, on a worker thread.
    #[napi(ts_return_type = "Promise<Token>", catch_unwind)]
    pub fn system_access(
        &self,
        env: Env,
        #[napi(ts_arg_type = "SystemAccessTokenRequest")] request: Unknown<'_>,
    ) -> Result<PromiseRaw<'static, Token>> {
        guard(&env, NOT_SENT, || {
            let request = system_request(&env, request, "systemAccess(request)")?;
            let client = self.0.clone();
            let task = Exchange::new(move || client.system_access(&request));
            background::spawn(&env, task, None)
        })
    }

    /// `systemAccess`, blocking the calling thread.
    #[napi(catch_unwind)]
    pub fn system_access_sync(
        &self,
        env: Env,
        #[napi(ts_arg_type = "SystemAccessTokenRequest")] request: Unknown<'_>,
    ) -> Result<Token> {
        let request = guard(&env, NOT_SENT, || {
            system_request(&env, request, "systemAccessSync(request)")
        })?;
        guard(&env, SENT, || {
            self.0
                .system_access(&request)
                .map(Token)
                .map_err(|e| to_js_error(&env, &e))
        })
    }
}

/// napi only hears aborts that happen after the call; one that already happened stops here.
fn already_aborted(options: Unknown<'_>) -> Result<bool> {
    if options.get_type()? != ValueType::Object {
        return Ok(false);
    }
    // SAFETY: checked to be an object just above.
    let options = unsafe { options.cast::<Object>() }?;
    let Some(signal) = options
        .get_named_property::<Option<Object>>("signal")
        .ok()
        .flatten()
    else {
        return Ok(false);
    };
    Ok(signal
        .get_named_property::<Option<bool>>("aborted")?
        .unwrap_or(false))
}

/// The same `AbortError` napi rejects with when it cancels a queued task.
fn abort_error(env: &Env) -> Result<Error> {
    let mut error = env.create_error(Error::new(Status::Cancelled, "AbortError".to_owned()))?;
    error.set_named_property("name", "AbortError")?;
    Ok(Error::from(error.to_unknown()))
}

fn refresh_request(
    env: &Env,
    value: Unknown<'_>,
    what: &str,
) -> Result<oauth_refresh::RefreshTokenRequest> {
    let request: RefreshTokenRequest = convert(env, value, what)?;
    let extra = extra_params(env, value, what)?;
    request.into_core(extra).map_err(|e| to_js_error(env, &e))
}

/// The request `refresh_request` makes of an object holding just these three strings.
fn plain_request(
    env: &Env,
    client_id: String,
    client_secret: String,
    refresh_token: String,
) -> Result<oauth_refresh::RefreshTokenRequest> {
    let request = RefreshTokenRequest {
        client_id,
        client_secret,
        grant_type: None,
        refresh_token,
        redirect_uri: None,
        scope: None,
    };
    request
        .into_core(Default::default())
        .map_err(|e| to_js_error(env, &e))
}

fn system_request(
    env: &Env,
    value: Unknown<'_>,
    what: &str,
) -> Result<oauth_refresh::SystemAccessTokenRequest> {
    let request: SystemAccessTokenRequest = convert(env, value, what)?;
    Ok(oauth_refresh::SystemAccessTokenRequest::new(
        request.client_id,
        request.client_secret,
    ))
}

/// What a job on the pool ended with: the core's answer, or `None` after a caught panic.
pub type Outcome = Option<std::result::Result<oauth_refresh::Token, oauth_refresh::Error>>;

/// One blocking call to the core, run on a worker thread; the same call a `*Sync` twin makes.
/// A panic in it is caught and rejects with `INTERNAL`, refresh token state `unknown` (the
/// request may have left).
pub struct Exchange(
    Box<dyn FnMut() -> std::result::Result<oauth_refresh::Token, oauth_refresh::Error> + Send>,
);

impl Exchange {
    pub fn new(
        job: impl FnMut() -> std::result::Result<oauth_refresh::Token, oauth_refresh::Error>
            + Send
            + 'static,
    ) -> Self {
        Exchange(Box::new(job))
    }

    /// Runs the job, catching a panic: it must not unwind through the worker's thread.
    pub fn run(&mut self) -> Outcome {
        std::panic::catch_unwind(AssertUnwindSafe(|| (self.0)()))
            .map_err(std::mem::forget)
            .ok()
    }
}

/// Settles a finished job: `ok` converts the token; errors and caught panics become
/// `OAuthRefreshError`s.
pub fn settle<T>(
    env: &Env,
    outcome: Outcome,
    ok: impl FnOnce(oauth_refresh::Token) -> T,
) -> Result<T> {
    guard(env, SENT, || match outcome {
        Some(Ok(token)) => Ok(ok(token)),
        Some(Err(e)) => Err(to_js_error(env, &e)),
        None => Err(internal_error(env, SENT)),
    })
}

impl Task for Exchange {
    type Output = Outcome;
    type JsValue = Token;

    fn compute(&mut self) -> Result<Outcome> {
        Ok(self.run())
    }

    fn resolve(&mut self, env: Env, output: Outcome) -> Result<Token> {
        settle(&env, output, Token)
    }
}

thread_local! {
    // The clients client_fast.js has handles for, on this JavaScript thread.
    static CLIENTS: RefCell<Table<Arc<oauth_refresh::Client>>> = RefCell::default();
}

/// The client behind a handle, and the request of a plain `{ clientId, clientSecret,
/// refreshToken }` given as `(handle, clientId, clientSecret, refreshToken)`.
unsafe fn plain_call(
    env: sys::napi_env,
    info: sys::napi_callback_info,
) -> Result<(
    Arc<oauth_refresh::Client>,
    oauth_refresh::RefreshTokenRequest,
)> {
    let [handle, client_id, client_secret, refresh_token] = args::<4>(env, info)?;
    let handle = u32::from_napi_value(env, handle)?;
    let client = CLIENTS.with(|t| t.borrow().get(handle).cloned());
    let client = client.ok_or_else(|| Error::from_reason("not a live Client"))?;
    let request = plain_request(
        &Env::from_raw(env),
        String::from_napi_value(env, client_id)?,
        String::from_napi_value(env, client_secret)?,
        String::from_napi_value(env, refresh_token)?,
    )?;
    Ok((client, request))
}

/// `refreshSync(handle, clientId, clientSecret, refreshToken)`: the `Token`'s handle.
unsafe extern "C" fn refresh_sync_raw(
    env: sys::napi_env,
    info: sys::napi_callback_info,
) -> sys::napi_value {
    call(env, SENT, |wrapped| {
        let (client, request) = plain_call(env, info)?;
        let token = client
            .refresh(&request)
            .map_err(|e| to_js_error(wrapped, &e))?;
        ToNapiValue::to_napi_value(env, token::handle(token))
    })
}

/// `refresh(handle, clientId, clientSecret, refreshToken)`: the promise of a `Token`.
unsafe extern "C" fn refresh_raw(
    env: sys::napi_env,
    info: sys::napi_callback_info,
) -> sys::napi_value {
    call(env, NOT_SENT, |wrapped| {
        let (client, request) = plain_call(env, info)?;
        let task = Exchange::new(move || client.refresh(&request));
        ToNapiValue::to_napi_value(env, background::spawn(wrapped, task, None)?)
    })
}

/// `release(handle)`: the `Client` was collected.
unsafe extern "C" fn release_raw(
    env: sys::napi_env,
    info: sys::napi_callback_info,
) -> sys::napi_value {
    call(env, NOT_SENT, |_| {
        let [handle] = args::<1>(env, info)?;
        let handle = u32::from_napi_value(env, handle)?;
        drop(CLIENTS.with(|t| t.borrow_mut().remove(handle)));
        ToNapiValue::to_napi_value(env, ())
    })
}

/// Installs client_fast.js, which routes plain requests to the `raw` functions above.
pub fn install_fast(env: &Env, exports: &Object) -> Result<()> {
    type Natives<'e> = (
        Unknown<'e>,
        Function<'e, u32, Unknown<'e>>,
        Function<'e, (), Unknown<'e>>,
        Function<'e, (), Unknown<'e>>,
        Function<'e, (), Unknown<'e>>,
    );
    let class: Unknown = exports.get_named_property("Client")?;
    let install: Function<FnArgs<Natives>, ()> = env.run_script(include_str!("client_fast.js"))?;
    install.call(FnArgs::from((
        class,
        token::factory(env)?,
        env.create_function::<(), Unknown>("refreshSync", refresh_sync_raw)?,
        env.create_function::<(), Unknown>("refresh", refresh_raw)?,
        env.create_function::<(), Unknown>("release", release_raw)?,
    )))
}
