// ESM entry point: the same objects as the CommonJS one.
import cjs from './index.js'

export const { Pool, TaskHandle, codes } = cjs
export default cjs
