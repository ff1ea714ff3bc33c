// Evaluated once when the addon loads (see token.rs): the Token class, and the two
// functions the native side uses, to make a Token for a handle and to find a Token's handle.
// A token's fields stay in native memory, read one at a time by the getters; the object
// holds only a handle to them, released when the object is collected. (A native object's
// weak reference cost about 1.4 µs per token, most of a refresh's cost in the binding; a
// FinalizationRegistry entry costs a fifth of it.)
(read, expired, release) => {
  const KEY = Symbol('oauth-refresh Token')
  const registry = new FinalizationRegistry(release)
  // The fields `read` returns, by number (token.rs).
  const ACCESS_TOKEN = 0
  const TOKEN_TYPE = 1
  const EXPIRES_IN = 2
  const EXPIRES_AT_MS = 3
  const REFRESH_TOKEN = 4
  const REFRESH_TOKEN_ROTATED = 5
  const SCOPE = 6
  const CREATED_AT = 7
  const ID_TOKEN = 8
  const EXTRA = 9
  let handleOf

  class Token {
    #handle

    constructor (key, handle) {
      if (key !== KEY) throw new TypeError('Token has no public constructor: tokens come from a refresh')
      this.#handle = handle
      registry.register(this, handle)
    }

    static {
      handleOf = (token) => token.#handle // a TypeError for anything but a Token
    }

    get accessToken () { return read(this.#handle, ACCESS_TOKEN) }
    get tokenType () { return read(this.#handle, TOKEN_TYPE) }
    get expiresIn () { return read(this.#handle, EXPIRES_IN) }
    get expiresAt () {
      const ms = read(this.#handle, EXPIRES_AT_MS)
      return ms === null ? null : new Date(ms)
    }

    get refreshToken () { return read(this.#handle, REFRESH_TOKEN) }
    get refreshTokenRotated () { return read(this.#handle, REFRESH_TOKEN_ROTATED) }
    get scope () { return read(this.#handle, SCOPE) }
    get createdAt () { return read(this.#handle, CREATED_AT) }
    get idToken () { return read(this.#handle, ID_TOKEN) }
    get extra () { return read(this.#handle, EXTRA) }
    isExpired (leewayMs) { return expired(this.#handle, leewayMs) }

    toJSON () {
      return {
        tokenType: this.tokenType,
        expiresIn: this.expiresIn,
        expiresAt: read(this.#handle, EXPIRES_AT_MS), // whole milliseconds, as the Date holds
        refreshTokenRotated: this.refreshTokenRotated,
        scope: this.scope,
        createdAt: this.createdAt,
      }
    }

    toString () {
      return `Token(tokenType=${this.tokenType}, expiresIn=${this.expiresIn}, refreshTokenRotated=${this.refreshTokenRotated})`
    }

    // What console.log and util.inspect show: the fields toJSON gives, expiresAt as a Date.
    [Symbol.for('nodejs.util.inspect.custom')] (depth, options, inspect) {
      const { expiresAt, ...fields } = this.toJSON()
      const shown = { ...fields, expiresAt: expiresAt === null ? null : new Date(expiresAt) }
      return `Token ${inspect(shown, { ...options, depth: options.depth === null ? null : options.depth - 1 })}`
    }
  }

  const make = (handle) => new Token(KEY, handle)
  return [Token, make, handleOf]
}
