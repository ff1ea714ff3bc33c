// Evaluated once when the addon loads (see client.rs). Reading a request's properties from
// native code (a lookup by name, the own keys for extra parameters) cost more than the rest
// of a refresh outside the network. So a request that is a plain object holding exactly
// `clientId`, `clientSecret` and `refreshToken` as strings reaches the native side as three
// string arguments; any other request (more keys, other types, options) takes the full
// conversion, which gives every other case its answer.
(Client, makeToken) => {
  const proto = Client.prototype
  const native = { refresh: proto.refresh, refreshSync: proto.refreshSync }
  const { __refresh, __refreshSync } = proto
  delete proto.__refresh // reachable only from here
  delete proto.__refreshSync

  /** True when `request`'s enumerable keys (own and inherited) are at most the three. */
  const plain = (request) => {
    if (typeof request !== 'object' || request === null) return false
    for (const key in request) {
      if (key !== 'clientId' && key !== 'clientSecret' && key !== 'refreshToken') return false
    }
    return true
  }

  Object.defineProperties(proto, {
    refresh: {
      value: function refresh (request, options) {
        if (options === undefined && plain(request)) {
          const { clientId, clientSecret, refreshToken } = request
          if (typeof clientId === 'string' && typeof clientSecret === 'string' && typeof refreshToken === 'string') {
            return __refresh.call(this, clientId, clientSecret, refreshToken)
          }
        }
        return arguments.length > 1 ? native.refresh.call(this, request, options) : native.refresh.call(this, request)
      },
    },
    refreshSync: {
      value: function refreshSync (request) {
        if (plain(request)) {
          const { clientId, clientSecret, refreshToken } = request
          if (typeof clientId === 'string' && typeof clientSecret === 'string' && typeof refreshToken === 'string') {
            return makeToken(__refreshSync.call(this, clientId, clientSecret, refreshToken))
          }
        }
        return native.refreshSync.call(this, request)
      },
    },
  })
}
