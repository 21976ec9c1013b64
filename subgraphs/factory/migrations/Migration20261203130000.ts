import { Migration } from '@mikro-orm/migrations';
import { outboxDeadLettersSql } from '../../../lib/outbox';

/** Outbox dead letters and per-destination claims (lib/outbox.ts). */
export class Migration20261203130000 extends Migration {
  override async up(): Promise<void> {
    for (const sql of outboxDeadLettersSql.up) this.addSql(sql);
  }

  override async down(): Promise<void> {
    for (const sql of outboxDeadLettersSql.down) this.addSql(sql);
  }
}
