import { Migration } from '@mikro-orm/migrations';

export class Migration20261125124706 extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "orders" ("id" uuid not null, "user_id" uuid not null, "factory_id" uuid not null, "address_id" uuid not null, "status" varchar(20) not null, "source" varchar(20) not null, "session_id" uuid null, "participant_id" uuid null, "payment_id" uuid null, "total" bigint not null, "currency" varchar(3) not null default 'IDR', "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), constraint "orders_pkey" primary key ("id"), constraint orders_total_check check (total >= 0));`,
    );
    this.addSql(`create index "orders_factory_id_index" on "orders" ("factory_id");`);
    this.addSql(`create index "orders_user_id_id_index" on "orders" ("user_id", "id");`);
    this.addSql(
      `alter table "orders" add constraint "orders_session_id_participant_id_unique" unique ("session_id", "participant_id");`,
    );

    this.addSql(
      `create table "order_items" ("id" uuid not null, "order_id" uuid not null, "product_id" uuid not null, "variant_id" uuid not null, "product_name" varchar(200) not null, "variant_name" varchar(200) not null, "sku" varchar(64) not null, "category_id" uuid null, "category_name" varchar(120) null, "unit_price" bigint not null, "quantity" int not null, "created_at" timestamptz not null default now(), constraint "order_items_pkey" primary key ("id"), constraint order_items_quantity_check check (quantity >= 1));`,
    );
    this.addSql(`create index "order_items_order_id_index" on "order_items" ("order_id");`);

    this.addSql(
      `create table "outbox" ("id" uuid not null, "dedupe_key" varchar(200) not null, "service" varchar(40) not null, "path" varchar(200) not null, "body" jsonb not null, "attempts" int not null default 0, "next_attempt_at" timestamptz not null, "delivered_at" timestamptz null, "failed_at" timestamptz null, "last_error" text null, "created_at" timestamptz not null, constraint "outbox_pkey" primary key ("id"));`,
    );
    this.addSql(`alter table "outbox" add constraint "outbox_dedupe_key_unique" unique ("dedupe_key");`);
    this.addSql(
      `create index "outbox_delivered_at_next_attempt_at_index" on "outbox" ("delivered_at", "next_attempt_at");`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "orders" cascade;`);

    this.addSql(`drop table if exists "order_items" cascade;`);

    this.addSql(`drop table if exists "outbox" cascade;`);
  }
}
