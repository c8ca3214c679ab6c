// The app's pool classes; its tasks' types come from tasks.d.ts, generated from the Rust declarations.
import type { AddonClasses } from 'native-pool'
import './tasks'

declare const classes: AddonClasses
export = classes
