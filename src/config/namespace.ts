import { getConfigToken, registerAs } from '@nestjs/config';
import type { Env } from './env.validation.js';

/**
 * One module's configuration: a typed slice of the validated environment, registered with Nest's
 * `registerAs` and injected with `@Inject(ns.KEY)`. The slice is taken from the environment
 * validated for this application, not from process.env, so that tests can run applications with
 * different settings in one process.
 */
export function namespace<T extends object>(name: string, settings: (env: Env) => T) {
  return {
    KEY: getConfigToken(name),
    settings,
    /** The registerAs factory for ConfigModule's `load`, reading the env once it is validated. */
    register: (validated: () => Env) => registerAs(name, () => settings(validated())),
  };
}

/** The settings type of a namespace: `constructor(@Inject(sessionConfig.KEY) config: ConfigOf<typeof sessionConfig>)`. */
export type ConfigOf<N> = N extends { settings: (env: Env) => infer T } ? T : never;
