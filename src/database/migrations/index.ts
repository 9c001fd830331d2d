import { Init1795523676060 } from './1795523676060-Init.js';

/** Every migration, oldest first; listed explicitly so they load the same from src (tests) and dist. */
export const migrations = [Init1795523676060];
