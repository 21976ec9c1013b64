import { Migration } from '@mikro-orm/migrations';
import { outboxTraceContextSql } from '../../../lib/outbox';

/** The outbox message keeps the request id and trace context it was written under (lib/outbox.ts). */
export class Migration20261203180000 extends Migration {
  override async up(): Promise<void> {
    for (const sql of outboxTraceContextSql.up) this.addSql(sql);
  }

  override async down(): Promise<void> {
    for (const sql of outboxTraceContextSql.down) this.addSql(sql);
  }
}
