/**
 * The Xendit payout channels a factory may be paid to (EXTERNAL.md "Xendit Payouts": `ID_` + bank or e-wallet):
 * the one list that setPayoutAccount validates against and payoutChannels shows.
 */
export const PAYOUT_CHANNELS = [
  { code: 'ID_BCA', name: 'Bank Central Asia (BCA)', kind: 'BANK' },
  { code: 'ID_MANDIRI', name: 'Bank Mandiri', kind: 'BANK' },
  { code: 'ID_BNI', name: 'Bank Negara Indonesia (BNI)', kind: 'BANK' },
  { code: 'ID_BRI', name: 'Bank Rakyat Indonesia (BRI)', kind: 'BANK' },
  { code: 'ID_PERMATA', name: 'Bank Permata', kind: 'BANK' },
  { code: 'ID_CIMB', name: 'CIMB Niaga', kind: 'BANK' },
  { code: 'ID_BSI', name: 'Bank Syariah Indonesia (BSI)', kind: 'BANK' },
  { code: 'ID_DANA', name: 'DANA', kind: 'EWALLET' },
  { code: 'ID_OVO', name: 'OVO', kind: 'EWALLET' },
  { code: 'ID_GOPAY', name: 'GoPay', kind: 'EWALLET' },
  { code: 'ID_SHOPEEPAY', name: 'ShopeePay', kind: 'EWALLET' },
  { code: 'ID_LINKAJA', name: 'LinkAja', kind: 'EWALLET' },
] as const;

export type PayoutChannelCode = (typeof PAYOUT_CHANNELS)[number]['code'];

export const PAYOUT_CHANNEL_CODES = PAYOUT_CHANNELS.map((channel) => channel.code) as [
  PayoutChannelCode,
  ...PayoutChannelCode[],
];

/** All but the last four digits hidden: what every read shows of an account number. */
export function maskAccountNumber(accountNumber: string): string {
  return '*'.repeat(Math.max(0, accountNumber.length - 4)) + accountNumber.slice(-4);
}
