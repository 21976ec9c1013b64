import { Migration } from '@mikro-orm/migrations';
import { statusHistoryTriggerSql } from '../../../lib/status-history';

export class Migration20261125153403 extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "payment_status_history" ("id" bigserial primary key, "payment_id" uuid not null, "from_status" varchar(40) null, "to_status" varchar(40) not null, "changed_at" timestamptz not null default clock_timestamp());`,
    );
    this.addSql(`create index "payment_status_history_payment_id_index" on "payment_status_history" ("payment_id");`);

    this.addSql(
      `create table "refund_status_history" ("id" bigserial primary key, "refund_id" uuid not null, "from_status" varchar(40) null, "to_status" varchar(40) not null, "changed_at" timestamptz not null default clock_timestamp());`,
    );
    this.addSql(`create index "refund_status_history_refund_id_index" on "refund_status_history" ("refund_id");`);
    for (const sql of statusHistoryTriggerSql('payments', 'payment_status_history', 'payment_id')) this.addSql(sql);
    for (const sql of statusHistoryTriggerSql('refunds', 'refund_status_history', 'refund_id')) this.addSql(sql);
  }

  override async down(): Promise<void> {
    this.addSql(`drop function if exists "record_payments_status"() cascade;`);
    this.addSql(`drop function if exists "record_refunds_status"() cascade;`);
    this.addSql(`drop table if exists "payment_status_history" cascade;`);

    this.addSql(`drop table if exists "refund_status_history" cascade;`);
  }
}
