// ESM entry point: the same objects as the CommonJS one.
import cjs from './index.js'

export const { Pool, TaskHandle, codes, withAddon } = cjs
export default cjs
