// Evaluated once when the addon loads (see client.rs). Reading a request's properties from
// native code (a lookup by name, the own keys for extra parameters) cost more than the rest
// of a refresh outside the network, and so did napi-rs's method call. So a request that is
// a plain object holding exactly `clientId`, `clientSecret` and `refreshToken` as strings
// goes to a plain native function as the client's handle and three strings; any other
// request (more keys, other types, options) takes the full conversion, which gives every
// other case its answer.
(Client, makeToken, rawRefreshSync, rawRefresh, release) => {
  const proto = Client.prototype
  const native = { refresh: proto.refresh, refreshSync: proto.refreshSync }
  const { __handle } = proto
  delete proto.__handle // reachable only from here

  // A client's handle, made on its first plain refresh, released when it is collected.
  const handles = new WeakMap()
  const registry = new FinalizationRegistry(release)
  const handleOf = (client) => {
    let handle = handles.get(client)
    if (handle === undefined) {
      handle = __handle.call(client) // a TypeError for anything but a Client
      handles.set(client, handle)
      registry.register(client, handle)
    }
    return handle
  }

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
            return rawRefresh(handleOf(this), clientId, clientSecret, refreshToken)
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
            return makeToken(rawRefreshSync(handleOf(this), clientId, clientSecret, refreshToken))
          }
        }
        return native.refreshSync.call(this, request)
      },
    },
  })
}
