import type { Resolvers } from './generated/graphql';
import { AuthService } from './service';
import type { AuthContext } from './loaders';
import type { User } from './entities/user.entity';
import { requireCaller } from '../../lib/context';
import type { Caller } from '../../lib/internal-auth';
import { DateTime } from '../../lib/scalars';
import { isId } from '../../lib/ids';
import { maskPhone } from './phone';

const service = ({ em, config, client }: AuthContext) => new AuthService(em, config, client);

/** Users who signed in within this request: verifyOtp's anonymous caller may read their own phone. */
const signedInNow = new WeakSet<User>();

/** Other subgraphs reference users (a factory's owner): a phone number is personal data. */
export function phoneFor(user: Pick<User, 'id' | 'phone'>, caller: Caller | null, signedInHere = false): string {
  if (signedInHere || caller?.role === 'ADMIN' || caller?.userId === user.id) return user.phone;
  return maskPhone(user.phone);
}

export const resolvers: Resolvers = {
  DateTime,
  Query: {
    me: (_root, _args, { caller, loaders }) => (caller ? loaders.user.load(caller.userId) : null),
  },
  Mutation: {
    requestOtp: (_root, { phone }, ctx) => service(ctx).requestOtp(phone, ctx.clientAddress),
    verifyOtp: async (_root, { phone, code }, ctx) => {
      const payload = await service(ctx).verifyOtp(phone, code);
      signedInNow.add(payload.user);
      return payload;
    },
    logout: (_root, _args, ctx) => service(ctx).logout(requireCaller(ctx.caller)),
    updateMe: (_root, { input }, ctx) => service(ctx).updateMe(requireCaller(ctx.caller), input),
  },
  User: {
    __resolveReference: (ref, { loaders }) => (isId(ref.id) ? loaders.user.load(ref.id) : null),
    phone: (user, _args, { caller }) =>
      phoneFor({ id: user.id!, phone: user.phone! }, caller, signedInNow.has(user as User)),
  },
};
