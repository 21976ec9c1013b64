import { Migration } from '@mikro-orm/migrations';

/**
 * The seller side's money (DESIGN.md §5): payout reservations, ledger rows that name a payout instead of a
 * payment, and a regular payment's earnings status. `factory_payable:<f>` goes away. Existing rows (dev data
 * only) are renamed in place: a captured regular payment's credit becomes `factory_pending:<f>` (earnings
 * PENDING, as if not yet delivered), an escrow release's becomes `factory_available:<f>` without commission
 * (none was taken then), so every ledger group stays balanced and the per-factory invariant holds.
 */
export class Migration20261203143408 extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "payout_reservations" ("id" uuid not null, "factory_id" uuid not null, "amount" bigint not null, "status" varchar(20) not null default 'RESERVED', "available_after" bigint not null, "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), constraint "payout_reservations_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "payout_reservations_factory_id_index" on "payout_reservations" ("factory_id");`);

    this.addSql(`alter table "transaction_ledger" add column "payout_id" uuid null;`);
    this.addSql(
      `alter table "transaction_ledger" add constraint "transaction_ledger_payout_id_kind_account_unique" unique ("payout_id", "kind", "account");`,
    );
    // Every movement names what moved it.
    this.addSql(
      `alter table "transaction_ledger" add constraint "transaction_ledger_reference_present" check ("payment_id" is not null or "payout_id" is not null);`,
    );

    this.addSql(`alter table "payments" add column "earnings_status" varchar(20) null;`);

    this.addSql(
      `update "transaction_ledger" set "account" = 'factory_pending:' || substr("account", length('factory_payable:') + 1) where "account" like 'factory_payable:%' and "kind" = 'PAYMENT_CAPTURED';`,
    );
    this.addSql(
      `update "transaction_ledger" set "account" = 'factory_available:' || substr("account", length('factory_payable:') + 1) where "account" like 'factory_payable:%' and "kind" = 'ESCROW_RELEASED';`,
    );
    this.addSql(
      `update "payments" set "earnings_status" = 'PENDING' where not "is_in_escrow" and "status" = 'PAID' and "factory_id" is not null;`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(
      `update "transaction_ledger" set "account" = 'factory_payable:' || substr("account", length('factory_pending:') + 1) where "account" like 'factory_pending:%' and "kind" = 'PAYMENT_CAPTURED';`,
    );
    this.addSql(`drop table if exists "payout_reservations" cascade;`);
    this.addSql(`alter table "payments" drop column "earnings_status";`);
    this.addSql(`alter table "transaction_ledger" drop constraint "transaction_ledger_reference_present";`);
    this.addSql(`alter table "transaction_ledger" drop constraint "transaction_ledger_payout_id_kind_account_unique";`);
    this.addSql(`alter table "transaction_ledger" drop column "payout_id";`);
  }
}
