import { Migration } from '@mikro-orm/migrations';
import { statusHistoryTriggerSql } from '../../../lib/status-history';

export class Migration20261203143830 extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "outbox" ("id" uuid not null, "dedupe_key" varchar(200) not null, "service" varchar(40) not null, "path" varchar(200) not null, "body" jsonb not null, "attempts" int not null default 0, "next_attempt_at" timestamptz not null, "claimed_until" timestamptz null, "delivered_at" timestamptz null, "dead_at" timestamptz null, "last_status" int null, "last_error" text null, "created_at" timestamptz not null, constraint "outbox_pkey" primary key ("id"));`,
    );
    this.addSql(`alter table "outbox" add constraint "outbox_dedupe_key_unique" unique ("dedupe_key");`);
    this.addSql(`create index "outbox_dead_index" on "outbox" ("dead_at") where "dead_at" is not null;`);
    this.addSql(
      `create index "outbox_due_index" on "outbox" ("service", "next_attempt_at") where "delivered_at" is null and "dead_at" is null;`,
    );
    this.addSql(
      `create index "outbox_delivered_at_next_attempt_at_index" on "outbox" ("delivered_at", "next_attempt_at");`,
    );

    this.addSql(
      `create table "payouts" ("id" uuid not null, "factory_id" uuid not null, "idempotency_key" varchar(200) null, "requested_by" uuid not null, "amount" bigint not null, "currency" varchar(3) not null default 'IDR', "channel_code" varchar(40) not null, "account_number" varchar(40) not null, "account_holder_name" varchar(200) not null, "status" varchar(20) not null default 'REQUESTED', "xendit_payout_id" varchar(100) null, "failure_code" varchar(100) null, "reserved_at" timestamptz null, "accepted_at" timestamptz null, "completed_at" timestamptz null, "attempts" int not null default 0, "next_attempt_at" timestamptz not null default now(), "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), constraint "payouts_pkey" primary key ("id"), constraint payouts_amount_check check (amount > 0), constraint payouts_status_check check (status in ('REQUESTED', 'ACCEPTED', 'SUCCEEDED', 'FAILED', 'CANCELLED', 'REVERSED')));`,
    );
    this.addSql(`create index "payouts_factory_id_index" on "payouts" ("factory_id");`);
    this.addSql(`alter table "payouts" add constraint "payouts_xendit_payout_id_unique" unique ("xendit_payout_id");`);
    this.addSql(`create index "payouts_accepted_index" on "payouts" ("accepted_at") where "status" = 'ACCEPTED';`);
    this.addSql(
      `create index "payouts_requested_index" on "payouts" ("next_attempt_at") where "status" = 'REQUESTED';`,
    );
    this.addSql(
      `alter table "payouts" add constraint "payouts_factory_idempotency_key_unique" unique ("factory_id", "idempotency_key");`,
    );

    this.addSql(
      `create table "payout_accounts" ("factory_id" uuid not null, "channel_code" varchar(40) not null, "account_number" varchar(40) not null, "account_holder_name" varchar(200) not null, "updated_by" uuid not null, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), constraint "payout_accounts_pkey" primary key ("factory_id"));`,
    );

    this.addSql(
      `create table "payout_status_changes" ("id" bigserial primary key, "payout_id" uuid not null, "from_status" varchar(40) null, "to_status" varchar(40) not null, "changed_at" timestamptz not null default clock_timestamp());`,
    );
    this.addSql(`create index "payout_status_changes_payout_id_index" on "payout_status_changes" ("payout_id");`);
    for (const sql of statusHistoryTriggerSql('payouts', 'payout_status_changes', 'payout_id')) this.addSql(sql);

    this.addSql(
      `create table "webhook_events" ("id" uuid not null, "dedupe_key" varchar(200) not null, "external_id" varchar(100) not null, "status" varchar(40) not null, "payout_id" uuid null, "outcome" varchar(20) not null, "payload" jsonb not null, "received_at" timestamptz not null default now(), constraint "webhook_events_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "webhook_events_dedupe_key_index" on "webhook_events" ("dedupe_key");`);
    this.addSql(
      `create unique index "webhook_events_dedupe_key_settled_unique" on "webhook_events" ("dedupe_key") where "outcome" in ('RECEIVED', 'APPLIED');`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop function if exists "record_payouts_status" cascade;`);
    this.addSql(`drop table if exists "outbox" cascade;`);

    this.addSql(`drop table if exists "payouts" cascade;`);

    this.addSql(`drop table if exists "payout_accounts" cascade;`);

    this.addSql(`drop table if exists "payout_status_changes" cascade;`);

    this.addSql(`drop table if exists "webhook_events" cascade;`);
  }
}
