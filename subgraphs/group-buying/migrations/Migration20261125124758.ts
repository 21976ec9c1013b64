import { Migration } from '@mikro-orm/migrations';

export class Migration20261125124758 extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "group_buying_sessions" ("id" uuid not null, "product_id" uuid not null, "variant_id" uuid not null, "factory_id" uuid not null, "created_by" uuid not null, "moq" int not null, "group_price" bigint not null, "max_quantity" int null, "ends_at" timestamptz not null, "status" text check ("status" in ('FORMING', 'MOQ_REACHED', 'IN_PRODUCTION', 'COMPLETED', 'FAILED', 'CANCELLED')) not null default 'FORMING', "joined_quantity" int not null default 0, "paid_quantity" int not null default 0, "participants_count" int not null default 0, "settlement_state" varchar(10) null, "settlement_round" int not null default 0, "settled_at" timestamptz null, "processing_claim" uuid null, "processing_claimed_at" timestamptz null, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), constraint "group_buying_sessions_pkey" primary key ("id"), constraint group_buying_sessions_quantities_check check (joined_quantity >= 0 and paid_quantity >= 0 and participants_count >= 0 and (max_quantity is null or joined_quantity <= max_quantity)));`,
    );
    this.addSql(`create index "group_buying_sessions_product_id_index" on "group_buying_sessions" ("product_id");`);
    this.addSql(`create index "group_buying_sessions_factory_id_index" on "group_buying_sessions" ("factory_id");`);
    this.addSql(
      `create index "group_buying_sessions_settlement_state_index" on "group_buying_sessions" ("settlement_state");`,
    );
    this.addSql(
      `create index "group_buying_sessions_status_ends_at_index" on "group_buying_sessions" ("status", "ends_at");`,
    );

    this.addSql(
      `create table "group_participants" ("id" uuid not null, "session_id" uuid not null, "user_id" uuid not null, "quantity" int not null, "unit_price" bigint not null, "amount" bigint not null, "address_id" uuid not null, "refund_to" varchar(20) not null default 'ORIGINAL_METHOD', "status" text check ("status" in ('PENDING_PAYMENT', 'PAID', 'ORDERED', 'EXPIRED', 'REFUNDED')) not null default 'PENDING_PAYMENT', "payment_id" uuid null, "payment_url" text null, "order_id" uuid null, "paid_at" timestamptz null, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), constraint "group_participants_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "group_participants_user_id_index" on "group_participants" ("user_id");`);
    this.addSql(
      `alter table "group_participants" add constraint "group_participants_session_id_user_id_unique" unique ("session_id", "user_id");`,
    );

    this.addSql(
      `create table "outbox" ("id" uuid not null, "dedupe_key" varchar(200) not null, "service" varchar(40) not null, "path" varchar(200) not null, "body" jsonb not null, "attempts" int not null default 0, "next_attempt_at" timestamptz not null, "delivered_at" timestamptz null, "failed_at" timestamptz null, "last_error" text null, "created_at" timestamptz not null, constraint "outbox_pkey" primary key ("id"));`,
    );
    this.addSql(`alter table "outbox" add constraint "outbox_dedupe_key_unique" unique ("dedupe_key");`);
    this.addSql(
      `create index "outbox_delivered_at_next_attempt_at_index" on "outbox" ("delivered_at", "next_attempt_at");`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "group_buying_sessions" cascade;`);

    this.addSql(`drop table if exists "group_participants" cascade;`);

    this.addSql(`drop table if exists "outbox" cascade;`);
  }
}
