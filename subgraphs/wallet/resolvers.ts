import type { Resolvers } from './generated/graphql';
import { WalletService } from './service';
import { requireCaller } from '../../lib/context';
import { DateTime } from '../../lib/scalars';

export const resolvers: Resolvers = {
  DateTime,
  Query: {
    myWallet: (_root, _args, { em, caller }) => new WalletService(em).walletOf(requireCaller(caller).userId),
  },
  Wallet: {
    transactions: (wallet, args, { em }) =>
      new WalletService(em).transactions(wallet.id!, { first: args.first, after: args.after }),
  },
};
