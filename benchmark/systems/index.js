'use strict'
// Every system under test, in the order the tables show them.

module.exports = [
  require('./native-pool'),
  require('./piscina'),
  require('./tinypool'),
  require('./workerpool'),
  require('./plain'),
  require('./inline'),
]
