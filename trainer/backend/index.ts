export { BACKEND_CHOICES, backendFromEnv, currentBackend, ensureBackend, selectBackend } from './select.js';
export type { BackendChoice, BackendInfo, SelectOptions } from './select.js';
