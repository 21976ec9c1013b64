import { Migration } from '@mikro-orm/migrations';

/** The session feed carries each change's expiry (the gateway drops it then); the OTP failure budget per phone. */
export class Migration20261203120000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "session_changes" add column "expires_at" timestamptz null;`);
    // A revocation matters until its session's token expires; a role change until every token of the user
    // from before it has expired. Revocations whose session is gone matter no longer.
    this.addSql(
      `update "session_changes" c set "expires_at" = s."expires_at" from "sessions" s where c."kind" = 'SESSION_REVOKED' and s."id" = c."session_id";`,
    );
    this.addSql(
      `update "session_changes" c set "expires_at" = (select max(s."expires_at") from "sessions" s where s."user_id" = c."user_id") where c."kind" = 'ROLE_CHANGED';`,
    );
    this.addSql(`update "session_changes" set "expires_at" = "created_at" where "expires_at" is null;`);
    this.addSql(`alter table "session_changes" alter column "expires_at" set not null;`);

    this.addSql(
      `create table "otp_failures" ("phone" varchar(16) not null, "window_start" timestamptz not null, "failures" int not null default 0, "retry_at" timestamptz null, constraint "otp_failures_pkey" primary key ("phone"));`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "otp_failures" cascade;`);
    this.addSql(`alter table "session_changes" drop column "expires_at";`);
  }
}
