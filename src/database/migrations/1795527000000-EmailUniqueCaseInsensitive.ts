import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The app stores emails lower-cased, but uniqueness should not depend on every writer doing so:
 * the unique index is now on lower(email). Its name is unchanged, so a violation is still 409.
 */
export class EmailUniqueCaseInsensitive1795527000000 implements MigrationInterface {
  name = 'EmailUniqueCaseInsensitive1795527000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "public"."UQ_users_email"`);
    await queryRunner.query(`CREATE UNIQUE INDEX "UQ_users_email" ON "users" (lower("email"))`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "public"."UQ_users_email"`);
    await queryRunner.query(`CREATE UNIQUE INDEX "UQ_users_email" ON "users" ("email")`);
  }
}
