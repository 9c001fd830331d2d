import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Disabled accounts, and the audit log. The log keeps no foreign keys: a row outlives the account
 * it names (a deletion is itself an event). A trigger refuses any UPDATE, so the app, or anyone on
 * its connection, can only append; rows leave only by the retention purge.
 */
export class Administration1796300000000 implements MigrationInterface {
  name = 'Administration1796300000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "users" ADD "disabled" boolean NOT NULL DEFAULT false`);
    await queryRunner.query(
      `CREATE INDEX "IDX_users_active_admins" ON "users" ("id") WHERE "role" = 'admin' AND NOT "disabled"`,
    );
    await queryRunner.query(
      `CREATE TABLE "audit_log" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT clock_timestamp(), "actor_id" uuid, "action" character varying(40) NOT NULL, "target_id" uuid, "ip" character varying(64), "request_id" character varying(128), "details" jsonb, CONSTRAINT "PK_audit_log" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE INDEX "IDX_audit_log_at" ON "audit_log" ("at", "id")`);
    await queryRunner.query(`CREATE INDEX "IDX_audit_log_actor" ON "audit_log" ("actor_id", "at")`);
    await queryRunner.query(
      `CREATE INDEX "IDX_audit_log_target" ON "audit_log" ("target_id", "at")`,
    );
    await queryRunner.query(`CREATE INDEX "IDX_audit_log_action" ON "audit_log" ("action", "at")`);
    await queryRunner.query(
      `CREATE FUNCTION "audit_log_append_only"() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$`,
    );
    await queryRunner.query(
      `CREATE TRIGGER "TRG_audit_log_append_only" BEFORE UPDATE ON "audit_log" FOR EACH ROW EXECUTE FUNCTION "audit_log_append_only"()`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "audit_log"`);
    await queryRunner.query(`DROP FUNCTION "audit_log_append_only"()`);
    await queryRunner.query(`DROP INDEX "public"."IDX_users_active_admins"`);
    await queryRunner.query(`ALTER TABLE "users" DROP COLUMN "disabled"`);
  }
}
