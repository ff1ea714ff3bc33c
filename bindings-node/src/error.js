// Evaluated once when the addon loads (see error.rs): the error class every failure is an
// instance of, and the factory the native code calls to build one.
(() => {
  class OAuthRefreshError extends Error {
    constructor(message, fields) {
      super(message)
      this.name = 'OAuthRefreshError'
      const { salvagedRefreshToken, token, ...visible } = fields
      Object.assign(this, visible)
      // A salvaged refresh token, or the new token a store could not keep, is readable but
      // never shown by util.inspect or JSON.stringify.
      Object.defineProperty(this, 'salvagedRefreshToken', { value: salvagedRefreshToken, enumerable: false })
      Object.defineProperty(this, 'token', { value: token, enumerable: false })
    }
  }
  const make = (message, fields) => new OAuthRefreshError(message, fields)
  return [OAuthRefreshError, make]
})()
