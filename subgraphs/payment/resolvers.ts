import type { Resolvers } from './generated/graphql';
import { PaymentService, canSee } from './service';
import { requireCaller } from '../../lib/context';
import { DateTime } from '../../lib/scalars';
import { isId } from '../../lib/ids';

export const resolvers: Resolvers = {
  DateTime,
  Query: {
    myPayments: (_root, args, { em, caller, services }) =>
      new PaymentService(em, services).myPayments(requireCaller(caller), { first: args.first, after: args.after }),
    payment: (_root, { id }, { em, caller, services }) =>
      new PaymentService(em, services).payment(requireCaller(caller), id),
  },
  Payment: {
    // References come from other subgraphs' fields (e.g. a join's payment); only the buyer or an admin sees one.
    __resolveReference: async (ref, { loaders, caller }) => {
      const payment = isId(ref.id) ? await loaders.payment.load(ref.id) : null;
      return payment && canSee(caller, payment) ? payment : null;
    },
    refunds: (payment, _args, { loaders }) => loaders.refundsByPayment.load(payment.id!),
  },
  Order: {
    __resolveReference: (ref) => ({ id: ref.id }),
    payment: async (order, _args, { loaders, caller }) => {
      const payment = isId(order.id) ? await loaders.paymentByOrder.load(order.id) : null;
      return payment && canSee(caller, payment) ? payment : null;
    },
  },
};
