//! Bounds on numbers from outside: a caller's durations and a server's lifetimes. Every
//! number that reaches time arithmetic passes through here first, so no input can make
//! `Instant + Duration` overflow (a panic, which would lose a rotated token).

use std::time::Duration;

use crate::error::Error;

/// The longest duration a caller may configure (timeouts, backoff, lease and refresh
/// timing): one year. Anything longer is a mistake, refused at construction.
pub const MAX_DURATION: Duration = Duration::from_secs(365 * 24 * 3600);

/// The longest `expires_in` taken at face value: ten years. A server that sends more
/// (`1e308`, `2^64 - 1`) means "no expiry known", and the token is treated as such.
pub const MAX_LIFETIME_SECS: u64 = 10 * 365 * 24 * 3600;

/// A caller's duration, or `invalid_input` naming the option when it is above
/// [`MAX_DURATION`].
pub fn checked_duration(name: &str, value: Duration) -> Result<Duration, Error> {
    if value > MAX_DURATION {
        return Err(Error::invalid_input(format!(
            "{name} must be at most {} seconds",
            MAX_DURATION.as_secs()
        )));
    }
    Ok(value)
}

/// A timeout: [`checked_duration`], and more than zero (a zero timeout fails every call).
pub fn checked_timeout(name: &str, value: Duration) -> Result<Duration, Error> {
    if value.is_zero() {
        return Err(Error::invalid_input(format!(
            "{name} must be greater than zero"
        )));
    }
    checked_duration(name, value)
}

/// A duration given in seconds as a float (Python's convention): finite, not negative,
/// at most [`MAX_DURATION`].
pub fn duration_from_secs(name: &str, seconds: f64) -> Result<Duration, Error> {
    if !seconds.is_finite() || seconds < 0.0 || seconds > MAX_DURATION.as_secs_f64() {
        return Err(Error::invalid_input(format!(
            "{name} must be a number of seconds from 0 to {}",
            MAX_DURATION.as_secs()
        )));
    }
    Ok(Duration::from_secs_f64(seconds))
}

/// A duration given in milliseconds as a float (Node's and C's convention), with the same
/// bounds as [`duration_from_secs`].
pub fn duration_from_millis(name: &str, millis: f64) -> Result<Duration, Error> {
    if !millis.is_finite() || millis < 0.0 || millis > MAX_DURATION.as_secs_f64() * 1000.0 {
        return Err(Error::invalid_input(format!(
            "{name} must be a number of milliseconds from 0 to {}",
            MAX_DURATION.as_millis()
        )));
    }
    Ok(Duration::from_secs_f64(millis / 1000.0))
}

/// A fraction option (refresh fraction, jitter): finite, from 0 to 1.
pub fn checked_fraction(name: &str, value: f64) -> Result<f64, Error> {
    if !(0.0..=1.0).contains(&value) {
        return Err(Error::invalid_input(format!(
            "{name} must be a number from 0 to 1"
        )));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_out_of_range_are_refused_not_panics() {
        for bad in [f64::NAN, f64::INFINITY, -1.0, -0.0001, 1e22, 1e308] {
            assert!(duration_from_secs("timeout", bad).is_err(), "{bad}");
            assert!(duration_from_millis("timeoutMs", bad).is_err(), "{bad}");
        }
        assert_eq!(
            duration_from_secs("t", 1.5).unwrap(),
            Duration::from_millis(1500)
        );
        assert_eq!(
            duration_from_millis("t", 250.0).unwrap(),
            Duration::from_millis(250)
        );
        assert_eq!(duration_from_secs("t", 0.0).unwrap(), Duration::ZERO);
        assert!(duration_from_secs("t", MAX_DURATION.as_secs_f64()).is_ok());
        assert!(checked_duration("t", Duration::MAX).is_err());
        let err = duration_from_millis("timeoutMs", 1e22).unwrap_err();
        assert!(err.message().contains("timeoutMs"), "{err}");
        for bad in [f64::NAN, -0.1, 1.5, f64::INFINITY] {
            assert!(checked_fraction("jitter", bad).is_err(), "{bad}");
        }
    }
}
