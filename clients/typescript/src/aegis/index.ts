// @acpstore/client/aegis: Aegis's ACP local-storage profile over acpstore.
export { createAcpstoreProfile } from './profile.js';
export type { AcpstoreProfileOptions } from './profile.js';
export type * from './types.js';
