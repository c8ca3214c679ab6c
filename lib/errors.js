'use strict'
// Every error the pool gives a caller, made in one place with a stable `code`.

/** The stable `err.code` values. */
const codes = Object.freeze({
  ERR_INVALID_ARG: 'ERR_INVALID_ARG',
  ERR_UNKNOWN_TASK: 'ERR_UNKNOWN_TASK',
  ERR_POOL_CLOSED: 'ERR_POOL_CLOSED',
  ERR_QUEUE_FULL: 'ERR_QUEUE_FULL',
  ERR_TASK_FAILED: 'ERR_TASK_FAILED',
  ERR_TASK_PANICKED: 'ERR_TASK_PANICKED',
  ERR_TASK_TIMEOUT: 'ERR_TASK_TIMEOUT',
  ABORT_ERR: 'ABORT_ERR',
})

/**
 * Builds an error: a TypeError for bad arguments and unknown tasks, an Error otherwise, with `code`
 * and, for a bad argument, `field` naming it. `cause` (when `hasCause`) is what the caller's own code
 * threw while the addon read the value. The addon calls this for every rejection, so errors belong to
 * the caller's realm (under jest too).
 */
function makeError(code, message, isTypeError, field, hasCause, cause) {
  const options = hasCause ? { cause } : undefined
  const err = isTypeError ? new TypeError(message, options) : new Error(message, options)
  err.code = code
  if (field !== undefined) err.field = field
  return err
}

/** A bad argument or option, named by `field`. */
function invalidArg(field, message, Ctor = TypeError) {
  const err = new Ctor(`invalid "${field}": ${message}`)
  err.code = codes.ERR_INVALID_ARG
  err.field = field
  return err
}

/**
 * What a value of the caller's threw when read (a getter, a Proxy trap, a revoked Proxy): an
 * ERR_INVALID_ARG TypeError naming `field`, with what was thrown as its `cause`.
 */
function unreadable(field, thrown) {
  const err = new TypeError(`invalid "${field}": could not be read: reading it threw (see the error's cause)`, { cause: thrown })
  err.code = codes.ERR_INVALID_ARG
  err.field = field
  return err
}

/**
 * Calls `read()`, which touches a value of the caller's; if the caller's own code throws from it (a
 * getter, a Proxy trap, a revoked Proxy), throws `unreadable(field)` instead. `read` must not throw
 * errors of ours.
 */
function guarded(field, read) {
  try {
    return read()
  } catch (err) {
    throw unreadable(field, err)
  }
}

/** The error an aborted task rejects with, like Node's own AbortError. */
function abortError(reason) {
  const err = new Error('The operation was aborted', reason === undefined ? undefined : { cause: reason })
  err.name = 'AbortError'
  err.code = codes.ABORT_ERR
  return err
}

/** `typeof`, but `null` and arrays named as such, for messages. Never throws (a revoked Proxy's
 * `Array.isArray` does: it is named by its `typeof`). */
function describe(value) {
  if (value === null) return 'null'
  try {
    if (Array.isArray(value)) return 'array'
  } catch {
    // a revoked Proxy
  }
  return typeof value
}

module.exports = { codes, makeError, invalidArg, unreadable, guarded, abortError, describe }
