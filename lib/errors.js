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
 * and, for a bad argument, `field` naming it. The addon calls this for every rejection, so errors
 * belong to the caller's realm (under jest too).
 */
function makeError(code, message, isTypeError, field) {
  const err = isTypeError ? new TypeError(message) : new Error(message)
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

/** The error an aborted task rejects with, like Node's own AbortError. */
function abortError(reason) {
  const err = new Error('The operation was aborted', reason === undefined ? undefined : { cause: reason })
  err.name = 'AbortError'
  err.code = codes.ABORT_ERR
  return err
}

/** `typeof`, but `null` and arrays named as such, for messages. */
function describe(value) {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'array'
  return typeof value
}

module.exports = { codes, makeError, invalidArg, abortError, describe }
