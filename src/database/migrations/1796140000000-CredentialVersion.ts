import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A credential version on each user, moved by every change that must end sessions, and on each
 * session the version it was made under. Existing sessions belong to version 0, as their users do.
 */
export class CredentialVersion1796140000000 implements MigrationInterface {
  name = 'CredentialVersion1796140000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE "users" ADD "credential_version" integer NOT NULL DEFAULT 0`,
    );
    await queryRunner.query(
      `ALTER TABLE "sessions" ADD "credential_version" integer NOT NULL DEFAULT 0`,
    );
    await queryRunner.query(
      `ALTER TABLE "sessions" ALTER COLUMN "credential_version" DROP DEFAULT`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "sessions" DROP COLUMN "credential_version"`);
    await queryRunner.query(`ALTER TABLE "users" DROP COLUMN "credential_version"`);
  }
}
