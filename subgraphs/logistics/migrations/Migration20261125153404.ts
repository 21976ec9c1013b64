import { Migration } from '@mikro-orm/migrations';
import { statusHistoryTriggerSql } from '../../../lib/status-history';

export class Migration20261125153404 extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "shipment_status_history" ("id" bigserial primary key, "shipment_id" uuid not null, "from_status" varchar(40) null, "to_status" varchar(40) not null, "changed_at" timestamptz not null default clock_timestamp());`,
    );
    this.addSql(
      `create index "shipment_status_history_shipment_id_index" on "shipment_status_history" ("shipment_id");`,
    );

    this.addSql(`alter table "shipments" drop constraint if exists "shipments_status_check";`);

    this.addSql(`alter table "shipments" alter column "status" type varchar(16) using ("status"::varchar(16));`);
    this.addSql(
      `alter table "shipments" add constraint shipments_status_check check(status in ('PENDING', 'PICKED_UP', 'IN_TRANSIT', 'DELIVERED'));`,
    );
    for (const sql of statusHistoryTriggerSql('shipments', 'shipment_status_history', 'shipment_id')) this.addSql(sql);
  }

  override async down(): Promise<void> {
    this.addSql(`drop function if exists "record_shipments_status"() cascade;`);
    this.addSql(`drop table if exists "shipment_status_history" cascade;`);

    this.addSql(`alter table "shipments" drop constraint shipments_status_check;`);

    this.addSql(
      `alter table "shipments" add constraint "shipments_status_check" check("status" in ('PENDING', 'PICKED_UP', 'IN_TRANSIT', 'DELIVERED'));`,
    );
  }
}
