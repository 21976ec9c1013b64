import type { Resolvers } from './generated/graphql';

export const resolvers: Resolvers = {
  Query: {
    otpDelivery: (_root, _args, { config }) => ({ channel: 'WHATSAPP', language: config.WHATSAPP_OTP_LANGUAGE }),
  },
};
