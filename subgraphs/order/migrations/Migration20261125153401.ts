import { Migration } from '@mikro-orm/migrations';
import { statusHistoryTriggerSql } from '../../../lib/status-history';

export class Migration20261125153401 extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "order_status_history" ("id" bigserial primary key, "order_id" uuid not null, "from_status" varchar(40) null, "to_status" varchar(40) not null, "changed_at" timestamptz not null default clock_timestamp());`,
    );
    this.addSql(`create index "order_status_history_order_id_index" on "order_status_history" ("order_id");`);
    for (const sql of statusHistoryTriggerSql('orders', 'order_status_history', 'order_id')) this.addSql(sql);
  }

  override async down(): Promise<void> {
    this.addSql(`drop function if exists "record_orders_status"() cascade;`);
    this.addSql(`drop table if exists "order_status_history" cascade;`);
  }
}
