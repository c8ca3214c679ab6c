'use strict'
// Run by `npm version` (the package's `version` script, after `napi version` has set every
// npm/<platform>/package.json to the new version): pins each per-platform optional dependency of the
// main package to that same exact version, so a release never pairs the JS with another version's
// binary.

const fs = require('node:fs')
const path = require('node:path')

const file = path.join(__dirname, '..', 'package.json')
const pkg = JSON.parse(fs.readFileSync(file, 'utf8'))
for (const name of Object.keys(pkg.optionalDependencies)) pkg.optionalDependencies[name] = pkg.version
fs.writeFileSync(file, `${JSON.stringify(pkg, null, 2)}\n`)
