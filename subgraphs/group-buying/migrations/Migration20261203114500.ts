import { Migration } from '@mikro-orm/migrations';

/**
 * Settlement backs off a failing session (attempts, next try, last error); a place whose unpaid hold ran
 * out (EXPIRED) no longer blocks the buyer from joining the same session again.
 */
export class Migration20261203114500 extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `alter table "group_buying_sessions" add column "settlement_attempts" int not null default 0, add column "settlement_retry_at" timestamptz null, add column "settlement_error" text null;`,
    );
    this.addSql(`alter table "group_participants" drop constraint "group_participants_session_id_user_id_unique";`);
    this.addSql(
      `create unique index "group_participants_session_id_user_id_unique" on "group_participants" ("session_id", "user_id") where "status" <> 'EXPIRED';`,
    );
    this.addSql(`create index "group_participants_session_id_id_index" on "group_participants" ("session_id", "id");`);
    this.addSql(
      `create index "group_participants_unpaid_created_at_index" on "group_participants" ("created_at") where "status" = 'PENDING_PAYMENT';`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop index if exists "group_participants_unpaid_created_at_index";`);
    this.addSql(`drop index if exists "group_participants_session_id_id_index";`);
    this.addSql(`drop index if exists "group_participants_session_id_user_id_unique";`);
    this.addSql(
      `alter table "group_participants" add constraint "group_participants_session_id_user_id_unique" unique ("session_id", "user_id");`,
    );
    this.addSql(
      `alter table "group_buying_sessions" drop column "settlement_attempts", drop column "settlement_retry_at", drop column "settlement_error";`,
    );
  }
}
