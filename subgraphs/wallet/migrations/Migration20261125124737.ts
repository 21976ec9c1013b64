import { Migration } from '@mikro-orm/migrations';

export class Migration20261125124737 extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "wallets" ("id" uuid not null, "user_id" uuid not null, "balance" bigint not null default 0, "currency" varchar(3) not null default 'IDR', "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), constraint "wallets_pkey" primary key ("id"), constraint wallets_balance_check check (balance >= 0));`,
    );
    this.addSql(`alter table "wallets" add constraint "wallets_user_id_unique" unique ("user_id");`);

    this.addSql(
      `create table "wallet_transactions" ("id" uuid not null, "wallet_id" uuid not null, "amount" bigint not null, "type" varchar(24) not null, "balance_after" bigint not null, "reference" varchar(200) not null, "description" varchar(500) null, "created_at" timestamptz not null default now(), constraint "wallet_transactions_pkey" primary key ("id"), constraint wallet_transactions_type_check check (type in ('REFUND_CREDIT', 'PURCHASE_DEBIT', 'ADJUSTMENT')), constraint wallet_transactions_balance_after_check check (balance_after >= 0), constraint wallet_transactions_amount_check check (amount <> 0));`,
    );
    this.addSql(`create index "wallet_transactions_wallet_id_index" on "wallet_transactions" ("wallet_id");`);
    this.addSql(
      `alter table "wallet_transactions" add constraint "wallet_transactions_reference_unique" unique ("reference");`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "wallets" cascade;`);

    this.addSql(`drop table if exists "wallet_transactions" cascade;`);
  }
}
