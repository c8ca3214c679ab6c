// Registers the test-only tasks (__panic, __fail, __flood, __spin) before the addon loads.
process.env.NATIVE_POOL_TEST_TASKS = '1'
