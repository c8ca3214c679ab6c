'use strict'
// The task piscina's workers run for benchmark/server-app.js: npm bcrypt's synchronous compare (its
// C code, on the worker's own thread), so the JS pool does the same work as the other back-ends.

const bcrypt = require('bcrypt')

module.exports = ({ password, hash }) => bcrypt.compareSync(password, hash)
