// Registers the test-only tasks (__panic, __fail, __flood, __spin) before the addon loads.
//
// Under jest, `process.env` is a sandboxed copy: assigning to it never reaches the real environment
// that the addon reads (std::env). `vm.runInThisContext` evaluates in Node's main context, where
// `process` is the real one; its `env` setter calls setenv. Child processes spawned by tests inherit
// it too.
const vm = require('node:vm')

const realProcess = vm.runInThisContext('process')
realProcess.env.NATIVE_POOL_TEST_TASKS = '1'
process.env.NATIVE_POOL_TEST_TASKS = '1'
