// Registers the test-only tasks (__panic, __fail, __flood, __spin) before the pool's module loads.
// (Setting NATIVE_POOL_TEST_TASKS here would not reach the addon: jest gives tests a copy of process.env.)
require('../binding.js').enableTestTasks()
