// Evaluated once when the addon loads (see manager.rs): wraps a user's hook (a
// TokenManager's onRefresh, an AccountTokens' onEvent) in a function that never throws.
// What the hook throws (or a promise it returns rejects with) becomes a process warning, as
// Python reports it as unraisable: the token is returned, and refreshing goes on, whatever
// the hook does. The warning's message never repeats the hook's, which may hold a token;
// the hook's error is its `cause`.
(hook, name) => {
  const [code, regardless] = name === 'onEvent'
    ? ['ON_EVENT_FAILED', 'refreshing goes on regardless']
    : ['ON_REFRESH_FAILED', 'the token was returned regardless']
  const report = (cause) => {
    const warning = new Error(`the ${name} hook threw; ${regardless}`, { cause })
    warning.name = 'OAuthRefreshWarning'
    warning.code = code
    process.emitWarning(warning)
  }
  return function (value) {
    try {
      const result = hook(value)
      if (result !== null && typeof result === 'object' && typeof result.then === 'function') {
        result.then(undefined, report)
      }
    } catch (e) {
      report(e)
    }
  }
}
