import { Migration } from '@mikro-orm/migrations';

export class Migration20261125124733 extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "outbox" ("id" uuid not null, "dedupe_key" varchar(200) not null, "service" varchar(40) not null, "path" varchar(200) not null, "body" jsonb not null, "attempts" int not null default 0, "next_attempt_at" timestamptz not null, "delivered_at" timestamptz null, "failed_at" timestamptz null, "last_error" text null, "created_at" timestamptz not null, constraint "outbox_pkey" primary key ("id"));`,
    );
    this.addSql(`alter table "outbox" add constraint "outbox_dedupe_key_unique" unique ("dedupe_key");`);
    this.addSql(
      `create index "outbox_delivered_at_next_attempt_at_index" on "outbox" ("delivered_at", "next_attempt_at");`,
    );

    this.addSql(
      `create table "shipments" ("id" uuid not null, "order_id" uuid not null, "user_id" uuid not null, "factory_id" uuid not null, "address_id" uuid not null, "status" varchar(16) not null default 'PENDING', "tracking_number" varchar(32) not null, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), constraint "shipments_pkey" primary key ("id"), constraint shipments_status_check check (status in ('PENDING', 'PICKED_UP', 'IN_TRANSIT', 'DELIVERED')));`,
    );
    this.addSql(`alter table "shipments" add constraint "shipments_order_id_unique" unique ("order_id");`);
    this.addSql(`create index "shipments_user_id_index" on "shipments" ("user_id");`);
    this.addSql(`create index "shipments_factory_id_index" on "shipments" ("factory_id");`);
    this.addSql(
      `alter table "shipments" add constraint "shipments_tracking_number_unique" unique ("tracking_number");`,
    );

    this.addSql(
      `create table "tracking" ("id" uuid not null, "shipment_id" uuid not null, "status" varchar(16) not null, "description" varchar(500) null, "occurred_at" timestamptz not null default now(), constraint "tracking_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "tracking_shipment_id_index" on "tracking" ("shipment_id");`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "outbox" cascade;`);

    this.addSql(`drop table if exists "shipments" cascade;`);

    this.addSql(`drop table if exists "tracking" cascade;`);
  }
}
