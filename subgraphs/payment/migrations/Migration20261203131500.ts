import { Migration } from '@mikro-orm/migrations';

export class Migration20261203131500 extends Migration {
  override async up(): Promise<void> {
    // Only an applied (or in-progress) callback holds its dedupe key; refused and ignored ones are kept but leave it free.
    this.addSql(`alter table "webhook_events" drop constraint "webhook_events_dedupe_key_unique";`);
    this.addSql(
      `create unique index "webhook_events_dedupe_key_settled_unique" on "webhook_events" ("dedupe_key") where "outcome" in ('RECEIVED', 'APPLIED');`,
    );
    this.addSql(`create index "webhook_events_dedupe_key_index" on "webhook_events" ("dedupe_key");`);
    // Every new payment names its factory; rows from before are left as they are (not validated).
    this.addSql(
      `alter table "payments" add constraint "payments_factory_id_present" check ("factory_id" is not null) not valid;`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "payments" drop constraint if exists "payments_factory_id_present";`);
    this.addSql(`drop index if exists "webhook_events_dedupe_key_index";`);
    this.addSql(`drop index if exists "webhook_events_dedupe_key_settled_unique";`);
    this.addSql(
      `alter table "webhook_events" add constraint "webhook_events_dedupe_key_unique" unique ("dedupe_key");`,
    );
  }
}
