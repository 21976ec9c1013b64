import { Migration } from '@mikro-orm/migrations';

export class Migration20261125124622 extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "otp_codes" ("phone" varchar(16) not null, "challenge_id" uuid not null, "code_hash" varchar(64) not null, "attempts" int not null default 0, "expires_at" timestamptz not null, "sent_at" timestamptz not null, "consumed_at" timestamptz null, constraint "otp_codes_pkey" primary key ("phone"));`,
    );

    this.addSql(
      `create table "otp_rate_limits" ("key" varchar(120) not null, "window_start" timestamptz not null, "hits" int not null, constraint "otp_rate_limits_pkey" primary key ("key"));`,
    );

    this.addSql(
      `create table "sessions" ("id" uuid not null, "user_id" uuid not null, "created_at" timestamptz not null default now(), "expires_at" timestamptz not null, "revoked_at" timestamptz null, constraint "sessions_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "sessions_user_id_index" on "sessions" ("user_id");`);

    this.addSql(
      `create table "session_changes" ("seq" bigserial primary key, "kind" text check ("kind" in ('SESSION_REVOKED', 'ROLE_CHANGED')) not null, "user_id" uuid not null, "session_id" uuid null, "role" varchar(20) null, "created_at" timestamptz not null default now());`,
    );

    this.addSql(
      `create table "users" ("id" uuid not null, "phone" varchar(16) not null, "name" varchar(100) null, "role" varchar(20) not null default 'BUYER', "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), constraint "users_pkey" primary key ("id"));`,
    );
    this.addSql(`alter table "users" add constraint "users_phone_unique" unique ("phone");`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "otp_codes" cascade;`);

    this.addSql(`drop table if exists "otp_rate_limits" cascade;`);

    this.addSql(`drop table if exists "sessions" cascade;`);

    this.addSql(`drop table if exists "session_changes" cascade;`);

    this.addSql(`drop table if exists "users" cascade;`);
  }
}
