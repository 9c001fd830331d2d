import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Tokens sent by mail (email verification, password reset), stored only as SHA-256 digests. The
 * outbox's own tables are pg-boss's, in the `pgboss` schema, which pg-boss creates and migrates.
 */
export class EmailTokens1796200000000 implements MigrationInterface {
  name = 'EmailTokens1796200000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "email_tokens" ("digest" character(64) NOT NULL, "user_id" uuid NOT NULL, "kind" character varying(16) NOT NULL, "email" character varying(254) NOT NULL, "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "CHK_email_tokens_kind" CHECK ("kind" IN ('verify', 'reset')), CONSTRAINT "PK_email_tokens" PRIMARY KEY ("digest"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_email_tokens_user_kind" ON "email_tokens" ("user_id", "kind") `,
    );
    await queryRunner.query(
      `ALTER TABLE "email_tokens" ADD CONSTRAINT "FK_email_tokens_user" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "email_tokens" DROP CONSTRAINT "FK_email_tokens_user"`);
    await queryRunner.query(`DROP INDEX "public"."IDX_email_tokens_user_kind"`);
    await queryRunner.query(`DROP TABLE "email_tokens"`);
  }
}
