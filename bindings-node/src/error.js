// Evaluated once when the addon loads (see error.rs): the error class every failure is an
// instance of, and the factory the native code calls to build one.
(() => {
  class OAuthRefreshError extends Error {
    constructor(message, fields) {
      super(message)
      this.name = 'OAuthRefreshError'
      const { refreshToken, ...visible } = fields
      Object.assign(this, visible)
      // A salvaged refresh token is readable, but never shown by util.inspect or JSON.stringify.
      Object.defineProperty(this, 'refreshToken', { value: refreshToken, enumerable: false })
    }
  }
  const make = (message, code, refreshTokenState, retryable, status, error, errorDescription, errorUri, retryAfterMs, refreshToken) =>
    new OAuthRefreshError(message, {
      code,
      refreshTokenState,
      retryable,
      status,
      error,
      errorDescription,
      errorUri,
      retryAfterMs,
      refreshToken,
    })
  return [OAuthRefreshError, make]
})()
