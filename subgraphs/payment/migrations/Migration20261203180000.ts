import { Migration } from '@mikro-orm/migrations';
import { outboxTraceContextSql } from '../../../lib/outbox';

/**
 * The outbox message keeps the request id and trace context it was written under (lib/outbox.ts); a payment
 * the trace context of its creation, which its callbacks' spans link to.
 */
export class Migration20261203180000 extends Migration {
  override async up(): Promise<void> {
    for (const sql of outboxTraceContextSql.up) this.addSql(sql);
    this.addSql(`alter table "payments" add column "trace_context" jsonb null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "payments" drop column "trace_context";`);
    for (const sql of outboxTraceContextSql.down) this.addSql(sql);
  }
}
