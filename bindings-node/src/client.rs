//! `Client`: options in, refreshes on the libuv pool (`refresh`) or inline (`refreshSync`).

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::str::FromStr;
use std::sync::Arc;

use napi::bindgen_prelude::*;
use napi::Task;
use napi_derive::napi;
use oauth_refresh::limits::duration_from_millis;
use oauth_refresh::{BodyEncoding, ClientAuth, ClientBuilder, GustoEnvironment};

use crate::error::{convert, guard, internal_error, invalid_input, to_js_error, NOT_SENT, SENT};
use crate::request::{extra_params, RefreshTokenRequest, SystemAccessTokenRequest};
use crate::token::Token;

/// Options for `new Client(...)`.
#[napi(object)]
pub struct ClientOptions {
    /// The token endpoint, e.g. `https://auth.example.com/token`.
    pub token_url: String,
    /// `'form'` (default) or `'json'`.
    pub body_encoding: Option<String>,
    /// `'basic'` (default, HTTP Basic) or `'post'` (credentials in the body).
    pub client_auth: Option<String>,
    /// Deadline for a whole refresh, retries included (default 30000; more than 0, at most
    /// a year, else `INVALID_INPUT`).
    pub timeout_ms: Option<f64>,
    /// Deadline for opening a connection (default 10000; more than 0, at most a year).
    pub connect_timeout_ms: Option<f64>,
    /// Retries after the first attempt, only where safe (default 2).
    pub max_retries: Option<u32>,
    /// Extra headers for every request.
    pub headers: Option<HashMap<String, String>>,
    /// Allow plain `http://` to non-loopback hosts (default false).
    pub allow_insecure_http: Option<bool>,
    /// A PEM file of extra CA certificates.
    pub ca_file: Option<String>,
    /// Replaces the default `oauth-refresh/<version> (node)`.
    pub user_agent: Option<String>,
}

/// Options for `Client.gusto(...)`.
#[napi(object)]
pub struct GustoOptions {
    /// `'demo'` (default), `'production'`, or a base URL.
    pub environment: Option<String>,
    /// `X-Gusto-API-Version`; omit to use the application's minimum version.
    pub api_version: Option<String>,
    /// Deadline for a whole refresh, retries included (default 30000; more than 0, at most
    /// a year, else `INVALID_INPUT`).
    pub timeout_ms: Option<f64>,
    /// Deadline for opening a connection (default 10000; more than 0, at most a year).
    pub connect_timeout_ms: Option<f64>,
    /// Retries after the first attempt (default 2).
    pub max_retries: Option<u32>,
    /// Extra headers for every request.
    pub headers: Option<HashMap<String, String>>,
    /// Allow plain `http://` to non-loopback hosts (default false).
    pub allow_insecure_http: Option<bool>,
    /// A PEM file of extra CA certificates.
    pub ca_file: Option<String>,
    /// Replaces the default `oauth-refresh/<version> (node)`.
    pub user_agent: Option<String>,
}

/// Options for one `refresh` call.
#[napi(object, object_to_js = false)]
pub struct RefreshOptions {
    /// Aborts the refresh while it waits for a thread. Once the request is on the wire it
    /// completes, so a rotated refresh token is never lost.
    pub signal: Option<AbortSignal>,
}

/// The options both constructors share.
struct Common {
    timeout_ms: Option<f64>,
    connect_timeout_ms: Option<f64>,
    max_retries: Option<u32>,
    headers: Option<HashMap<String, String>>,
    allow_insecure_http: Option<bool>,
    ca_file: Option<String>,
    user_agent: Option<String>,
}

impl Common {
    fn apply(self, env: &Env, mut builder: ClientBuilder) -> Result<Client> {
        // NaN, negative or over a year is INVALID_INPUT here; zero, when the core builds.
        let millis = |name: &str, value: f64| {
            duration_from_millis(name, value).map_err(|e| to_js_error(env, &e))
        };
        builder = builder.surface("node");
        if let Some(ms) = self.timeout_ms {
            builder = builder.timeout(millis("timeoutMs", ms)?);
        }
        if let Some(ms) = self.connect_timeout_ms {
            builder = builder.connect_timeout(millis("connectTimeoutMs", ms)?);
        }
        if let Some(n) = self.max_retries {
            builder = builder.max_retries(n);
        }
        for (name, value) in self.headers.unwrap_or_default() {
            builder = builder.header(name, value);
        }
        if let Some(allow) = self.allow_insecure_http {
            builder = builder.allow_insecure_http(allow);
        }
        if let Some(path) = self.ca_file {
            builder = builder.ca_file(path);
        }
        if let Some(agent) = self.user_agent {
            builder = builder.user_agent(agent);
        }
        let client = builder.build().map_err(|e| to_js_error(env, &e))?;
        Ok(Client(Arc::new(client)))
    }
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
        let options: ClientOptions = convert(&env, options, "new Client(options)")?;
        let encoding = match options.body_encoding.as_deref() {
            None => BodyEncoding::Form,
            Some(v) => BodyEncoding::parse(v)
                .ok_or_else(|| invalid_input(&env, "bodyEncoding must be 'form' or 'json'"))?,
        };
        let auth = match options.client_auth.as_deref() {
            None => ClientAuth::Basic,
            Some(v) => ClientAuth::parse(v)
                .ok_or_else(|| invalid_input(&env, "clientAuth must be 'basic' or 'post'"))?,
        };
        let builder = oauth_refresh::Client::builder(options.token_url)
            .body_encoding(encoding)
            .client_auth(auth);
        Common {
            timeout_ms: options.timeout_ms,
            connect_timeout_ms: options.connect_timeout_ms,
            max_retries: options.max_retries,
            headers: options.headers,
            allow_insecure_http: options.allow_insecure_http,
            ca_file: options.ca_file,
            user_agent: options.user_agent,
        }
        .apply(&env, builder)
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
        let options: Option<GustoOptions> = match options {
            Some(o) => convert(&env, o, "Client.gusto(options)")?,
            None => None,
        };
        let o = options.unwrap_or(GustoOptions {
            environment: None,
            api_version: None,
            timeout_ms: None,
            connect_timeout_ms: None,
            max_retries: None,
            headers: None,
            allow_insecure_http: None,
            ca_file: None,
            user_agent: None,
        });
        let environment = GustoEnvironment::from_str(o.environment.as_deref().unwrap_or("demo"))
            .map_err(|e| to_js_error(&env, &e))?;
        let mut builder = oauth_refresh::Client::gusto(environment);
        if let Some(version) = o.api_version {
            builder = builder.gusto_api_version(version);
        }
        Common {
            timeout_ms: o.timeout_ms,
            connect_timeout_ms: o.connect_timeout_ms,
            max_retries: o.max_retries,
            headers: o.headers,
            allow_insecure_http: o.allow_insecure_http,
            ca_file: o.ca_file,
            user_agent: o.user_agent,
        }
        .apply(&env, builder)
    }

    /// Exchanges a refresh token on the libuv thread pool. `options.signal` aborts it while
    /// it waits for a thread; once the request is on the wire it completes, so a rotated
    /// refresh token is never lost.
    #[napi(ts_return_type = "Promise<Token>", catch_unwind)]
    pub fn refresh(
        &self,
        env: Env,
        #[napi(ts_arg_type = "RefreshTokenRequest")] request: Unknown<'_>,
        #[napi(ts_arg_type = "RefreshOptions")] options: Option<Unknown<'_>>,
    ) -> Result<AsyncTask<Exchange>> {
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
            Ok(AsyncTask::with_optional_signal(task, signal))
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

    /// Gusto's `system_access` grant, on the libuv thread pool.
    #[napi(ts_return_type = "Promise<Token>", catch_unwind)]
    pub fn system_access(
        &self,
        env: Env,
        #[napi(ts_arg_type = "SystemAccessTokenRequest")] request: Unknown<'_>,
    ) -> Result<AsyncTask<Exchange>> {
        guard(&env, NOT_SENT, || {
            let request = system_request(&env, request, "systemAccess(request)")?;
            let client = self.0.clone();
            Ok(AsyncTask::new(Exchange::new(move || {
                client.system_access(&request)
            })))
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

/// One blocking call to the core, run on the libuv pool; the same call a `*Sync` twin makes.
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

    /// Runs the job, catching a panic: it must not unwind through libuv's thread.
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
