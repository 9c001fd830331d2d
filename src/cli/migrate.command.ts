import { Command, CommandRunner } from 'nest-commander';
import { DataSource } from 'typeorm';
import { UniqueViolations } from '../common/unique-violations.js';
import { reporting } from './command-errors.js';

@Command({
  name: 'db:migrate',
  description: 'Apply the pending database migrations, each in its own transaction',
})
export class MigrateCommand extends CommandRunner {
  constructor(
    private readonly dataSource: DataSource,
    private readonly violations: UniqueViolations,
  ) {
    super();
  }

  run(): Promise<void> {
    return reporting(this.violations, async () => {
      const applied = await this.dataSource.runMigrations({ transaction: 'each' });
      return applied.length
        ? `Applied ${applied.map((migration) => migration.name).join(', ')}`
        : 'Nothing to apply';
    });
  }
}
