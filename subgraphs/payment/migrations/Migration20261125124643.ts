import { Migration } from '@mikro-orm/migrations';

export class Migration20261125124643 extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "transaction_ledger" ("id" uuid not null, "group_id" uuid not null, "account" varchar(120) not null, "amount" bigint not null, "payment_id" uuid null, "refund_id" uuid null, "kind" varchar(40) not null, "created_at" timestamptz not null default now(), constraint "transaction_ledger_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "transaction_ledger_group_id_index" on "transaction_ledger" ("group_id");`);
    this.addSql(`create index "transaction_ledger_account_index" on "transaction_ledger" ("account");`);
    this.addSql(
      `alter table "transaction_ledger" add constraint "transaction_ledger_payment_id_kind_account_unique" unique ("payment_id", "kind", "account");`,
    );

    this.addSql(
      `create table "outbox" ("id" uuid not null, "dedupe_key" varchar(200) not null, "service" varchar(40) not null, "path" varchar(200) not null, "body" jsonb not null, "attempts" int not null default 0, "next_attempt_at" timestamptz not null, "delivered_at" timestamptz null, "failed_at" timestamptz null, "last_error" text null, "created_at" timestamptz not null, constraint "outbox_pkey" primary key ("id"));`,
    );
    this.addSql(`alter table "outbox" add constraint "outbox_dedupe_key_unique" unique ("dedupe_key");`);
    this.addSql(
      `create index "outbox_delivered_at_next_attempt_at_index" on "outbox" ("delivered_at", "next_attempt_at");`,
    );

    this.addSql(
      `create table "payments" ("id" uuid not null, "user_id" uuid not null, "order_id" uuid null, "session_id" uuid null, "participant_id" uuid null, "factory_id" uuid null, "is_in_escrow" boolean not null, "amount" bigint not null, "currency" varchar(3) not null default 'IDR', "description" varchar(500) not null, "status" varchar(20) not null default 'PENDING', "escrow_status" varchar(20) null, "refund_to" varchar(20) not null default 'ORIGINAL_METHOD', "invoice_id" varchar(100) null, "invoice_url" text null, "expires_at" timestamptz null, "paid_at" timestamptz null, "released_at" timestamptz null, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), constraint "payments_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "payments_user_id_index" on "payments" ("user_id");`);
    this.addSql(`alter table "payments" add constraint "payments_order_id_unique" unique ("order_id");`);
    this.addSql(`create index "payments_session_id_index" on "payments" ("session_id");`);
    this.addSql(`alter table "payments" add constraint "payments_participant_id_unique" unique ("participant_id");`);
    this.addSql(`alter table "payments" add constraint "payments_invoice_id_unique" unique ("invoice_id");`);

    this.addSql(
      `create table "refunds" ("id" uuid not null, "payment_id" uuid not null, "session_id" uuid null, "user_id" uuid not null, "amount" bigint not null, "currency" varchar(3) not null default 'IDR', "destination" varchar(20) not null, "status" varchar(20) not null default 'PENDING', "reason" varchar(200) not null, "xendit_refund_id" varchar(100) null, "failure_code" varchar(100) null, "completed_at" timestamptz null, "created_at" timestamptz not null default now(), constraint "refunds_pkey" primary key ("id"));`,
    );
    this.addSql(`alter table "refunds" add constraint "refunds_payment_id_unique" unique ("payment_id");`);
    this.addSql(`create index "refunds_session_id_index" on "refunds" ("session_id");`);
    this.addSql(`alter table "refunds" add constraint "refunds_xendit_refund_id_unique" unique ("xendit_refund_id");`);

    this.addSql(
      `create table "webhook_events" ("id" uuid not null, "dedupe_key" varchar(200) not null, "source" varchar(20) not null, "external_id" varchar(100) not null, "status" varchar(40) not null, "payment_id" uuid null, "outcome" varchar(20) not null, "payload" jsonb not null, "received_at" timestamptz not null default now(), constraint "webhook_events_pkey" primary key ("id"));`,
    );
    this.addSql(
      `alter table "webhook_events" add constraint "webhook_events_dedupe_key_unique" unique ("dedupe_key");`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "transaction_ledger" cascade;`);

    this.addSql(`drop table if exists "outbox" cascade;`);

    this.addSql(`drop table if exists "payments" cascade;`);

    this.addSql(`drop table if exists "refunds" cascade;`);

    this.addSql(`drop table if exists "webhook_events" cascade;`);
  }
}
