import { type ConfigOf, namespace } from './namespace.js';

/** The audit log: how long its rows are kept. */
export const auditConfig = namespace('audit', (env) => ({
  retentionDays: env.AUDIT_RETENTION_DAYS,
}));
export type AuditConfig = ConfigOf<typeof auditConfig>;
