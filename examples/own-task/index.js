'use strict'
// The app's own pool: native-pool's Pool class, running on this package's addon (its `mandelbrot`
// task beside the built-in ones).

const { withAddon } = require('native-pool')

module.exports = withAddon(require.resolve('./own-task.node'))
