import { Global, Module } from '@nestjs/common';
import { Checkpoints } from './checkpoints.js';
import { UniqueViolations } from './unique-violations.js';

/**
 * What common code shares with every feature as providers: global, so a feature module can
 * inject these without importing a module (and common never has to import a feature).
 */
@Global()
@Module({
  providers: [UniqueViolations, Checkpoints],
  exports: [UniqueViolations, Checkpoints],
})
export class CommonModule {}
