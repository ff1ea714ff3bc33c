//! Error behaviour beyond the conformance table: retry bounds, deadlines, HTTP-date waits.

use std::time::{Duration, Instant};

use oauth_refresh::{Client, ErrorCode, RefreshTokenRequest, RefreshTokenState, RetryPolicy};
use token_server::TokenServer;

fn request(scope: &str) -> RefreshTokenRequest {
    RefreshTokenRequest::new("app", "secret-app", format!("seed-{scope}"))
}

#[test]
fn retries_stop_after_max_retries() {
    let server = TokenServer::start();
    let client = Client::builder(format!(
        "{}/r429/fault=429,retry-after=0/token",
        server.url()
    ))
    .max_retries(3)
    .build()
    .unwrap();
    let err = client.refresh(&request("r429")).unwrap_err();
    assert_eq!(err.code(), ErrorCode::RateLimited);
    assert!(err.is_retryable());
    assert_eq!(
        server.token_requests("r429"),
        4,
        "one attempt and three retries"
    );
}

#[test]
fn zero_retries_means_one_attempt() {
    let server = TokenServer::start();
    let client = Client::builder(format!(
        "{}/r0/fault=temporarily-unavailable/token",
        server.url()
    ))
    .max_retries(0)
    .build()
    .unwrap();
    let err = client.refresh(&request("r0")).unwrap_err();
    assert_eq!(err.code(), ErrorCode::ServerError);
    assert_eq!(err.refresh_token_state(), RefreshTokenState::Unused);
    assert_eq!(server.token_requests("r0"), 1);
}

#[test]
fn a_retry_after_past_the_deadline_is_returned_not_slept_on() {
    let server = TokenServer::start();
    let client = Client::builder(format!(
        "{}/late/fault=429,retry-after=5/token",
        server.url()
    ))
    .timeout(Duration::from_secs(2))
    .build()
    .unwrap();
    let started = Instant::now();
    let err = client.refresh(&request("late")).unwrap_err();
    assert_eq!(err.code(), ErrorCode::RateLimited);
    assert_eq!(err.retry_after(), Some(Duration::from_secs(5)));
    assert_eq!(server.token_requests("late"), 1);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "it did not wait for Retry-After"
    );
}

#[test]
fn unknown_outcomes_are_retried_only_when_the_policy_says_so() {
    let server = TokenServer::start();
    let url = format!("{}/unknown/fault=500,times=1/token", server.url());
    let generic = Client::new(url.clone()).unwrap();
    let err = generic.refresh(&request("unknown")).unwrap_err();
    assert_eq!(err.refresh_token_state(), RefreshTokenState::Unknown);
    assert!(!err.is_retryable());

    let url = format!("{}/unknown2/fault=500,times=1/token", server.url());
    let forgiving = Client::builder(url)
        .retry_policy(RetryPolicy {
            retry_unknown_outcome: true,
            ..RetryPolicy::default()
        })
        .build()
        .unwrap();
    assert!(forgiving.refresh(&request("unknown2")).is_ok());
    assert_eq!(server.token_requests("unknown2"), 2);
}

#[test]
fn a_connect_timeout_is_retried_because_nothing_was_sent() {
    let server = TokenServer::start();
    let client = Client::builder(format!("{}/token", server.blackhole_url()))
        .connect_timeout(Duration::from_millis(150))
        .timeout(Duration::from_secs(5))
        .max_retries(1)
        .build()
        .unwrap();
    let started = Instant::now();
    let err = client.refresh(&request("blackhole")).unwrap_err();
    assert_eq!(err.code(), ErrorCode::Timeout);
    assert_eq!(err.refresh_token_state(), RefreshTokenState::Unused);
    // Two connect timeouts and a backoff in between, far from the 5 s deadline.
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert!(started.elapsed() < Duration::from_secs(4));
}

#[test]
fn http_date_retry_after_is_understood() {
    let server = TokenServer::start();
    // An HTTP-date in the past means "now": the retry happens at once.
    let date = "Sun%2C%2006%20Nov%201994%2008:49:37%20GMT";
    let client = Client::new(format!(
        "{}/date/fault=429,times=1,retry-after={date}/token",
        server.url()
    ))
    .unwrap();
    assert!(client.refresh(&request("date")).is_ok());
    assert_eq!(server.token_requests("date"), 2);
}
