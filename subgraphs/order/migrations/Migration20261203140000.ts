import { Migration } from '@mikro-orm/migrations';

/** The unpaid hold sweep and the per-buyer unpaid count read only unpaid orders. */
export class Migration20261203140000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create index "orders_unpaid_created_at_index" on "orders" ("created_at") where "status" = 'PENDING_PAYMENT';`,
    );
    this.addSql(
      `create index "orders_unpaid_user_id_index" on "orders" ("user_id") where "status" = 'PENDING_PAYMENT';`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop index if exists "orders_unpaid_user_id_index";`);
    this.addSql(`drop index if exists "orders_unpaid_created_at_index";`);
  }
}
