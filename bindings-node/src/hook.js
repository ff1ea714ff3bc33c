// Evaluated once when the addon loads (see manager.rs): wraps a TokenManager's onRefresh
// hook. The token is returned whatever the hook does; what it throws (or a promise it
// returns rejects with) becomes a process warning, as Python reports it as unraisable.
// The warning's message never repeats the hook's, which may hold the token; the hook's
// error is its `cause`.
(hook) => {
  const report = (cause) => {
    const warning = new Error('the onRefresh hook threw; the token was returned regardless', { cause })
    warning.name = 'OAuthRefreshWarning'
    warning.code = 'ON_REFRESH_FAILED'
    process.emitWarning(warning)
  }
  return function onRefresh(token) {
    try {
      const result = hook(token)
      if (result !== null && typeof result === 'object' && typeof result.then === 'function') {
        result.then(undefined, report)
      }
    } catch (e) {
      report(e)
    }
  }
}
