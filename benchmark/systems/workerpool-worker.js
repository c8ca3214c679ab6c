'use strict'
// workerpool's worker entry: registers the shared JS tasks under their names.
const workerpool = require('workerpool')
workerpool.worker(require('./js-tasks'))
