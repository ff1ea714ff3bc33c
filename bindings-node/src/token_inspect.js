// Evaluated once when the addon loads (see token.rs): what util.inspect shows for a Token.
(Token) => {
  Token.prototype[Symbol.for('nodejs.util.inspect.custom')] = function (depth, options, inspect) {
    const { expiresAt, ...fields } = this.toJSON()
    const shown = { ...fields, expiresAt: expiresAt === null ? null : new Date(expiresAt) }
    return `Token ${inspect(shown, { ...options, depth: options.depth === null ? null : options.depth - 1 })}`
  }
}
