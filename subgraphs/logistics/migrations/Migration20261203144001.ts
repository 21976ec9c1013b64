import { Migration } from '@mikro-orm/migrations';

export class Migration20261203144001 extends Migration {
  override async up(): Promise<void> {
    // A shipment whose order was cancelled before pick-up.
    this.addSql(`alter table "shipments" drop constraint if exists "shipments_status_check";`);
    this.addSql(
      `alter table "shipments" add constraint shipments_status_check check(status in ('PENDING', 'PICKED_UP', 'IN_TRANSIT', 'DELIVERED', 'CANCELLED'));`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "shipments" drop constraint shipments_status_check;`);

    this.addSql(
      `alter table "shipments" add constraint "shipments_status_check" check("status" in ('PENDING', 'PICKED_UP', 'IN_TRANSIT', 'DELIVERED'));`,
    );
  }
}
