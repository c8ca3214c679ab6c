#!/usr/bin/env node
'use strict'
// native-pool-types <addon.node> [out.d.ts]: writes the TypeScript declaration of an addon's own tasks
// (those listed in its `native_pool::addon!`), merged into native-pool's `TaskMap`. The addon makes
// it from the same Rust declarations it validates with, so the types cannot drift from the schema.

const fs = require('node:fs')
const path = require('node:path')

const [file, out] = process.argv.slice(2)
if (file === undefined || file === '--help' || file === '-h') {
  console.error('usage: native-pool-types <addon.node> [out.d.ts]   (prints to stdout without out.d.ts)')
  process.exit(file === undefined ? 2 : 0)
}

const addon = require(path.resolve(file))
if (typeof addon.taskDeclarations !== 'function') {
  console.error(`native-pool-types: ${file} is not an addon built with native_pool::addon!`)
  process.exit(1)
}
const dts = addon.taskDeclarations()
if (out === undefined) process.stdout.write(dts)
else fs.writeFileSync(out, dts)
