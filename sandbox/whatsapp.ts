import { randomBytes } from 'node:crypto';
import express, { Router, type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import { secretsEqual } from '../lib/internal-auth';
import { FaultPlan, faultRequestSchema } from './faults';

/** Numbers starting like this are "not on WhatsApp", so tests can reach the undeliverable path. */
const NOT_ON_WHATSAPP_PREFIX = '62899';

const GRAPH_API_VERSION = /^v\d+\.\d+$/;

export interface SentMessage {
  id: string;
  /** The recipient's number, digits only (the WhatsApp id). */
  to: string;
  type: 'template' | 'text';
  /** What the recipient reads on the phone. */
  text: string;
  template: string | null;
  /** A template's body parameters, in order (empty for a text message). */
  parameters: string[];
  sentAt: string;
}

/** Messages the business number sent, and the failures tests asked for. */
export class WhatsAppCloud {
  readonly faults = new FaultPlan();
  private messages: SentMessage[] = [];

  record(message: SentMessage): void {
    this.messages.push(message);
  }

  /** Newest first; `to` in any form (`+62…`, `62…`). */
  messagesTo(to: string | undefined): SentMessage[] {
    const digits = to === undefined ? undefined : onlyDigits(to);
    return this.messages.filter((m) => digits === undefined || m.to === digits).reverse();
  }

  reset(): void {
    this.messages = [];
    this.faults.clear();
  }
}

const textParameter = z.object({ type: z.literal('text'), text: z.string().min(1) });
const otherParameter = z
  .object({ type: z.enum(['currency', 'date_time', 'image', 'document', 'video', 'payload']) })
  .passthrough();

const templateComponent = z
  .object({
    type: z.enum(['header', 'body', 'button']),
    sub_type: z.enum(['url', 'quick_reply', 'copy_code']).optional(),
    index: z.union([z.string().regex(/^\d$/), z.number().int().min(0).max(9)]).optional(),
    parameters: z.array(z.union([textParameter, otherParameter])).default([]),
  })
  .refine((c) => c.type !== 'button' || (c.sub_type !== undefined && c.index !== undefined), {
    message: 'a button component needs sub_type and index',
  });

const recipient = {
  messaging_product: z.literal('whatsapp'),
  recipient_type: z.literal('individual').optional(),
  to: z.string().regex(/^\+?\d{8,15}$/, 'must be a phone number in international format'),
};

const messageSchema = z.discriminatedUnion('type', [
  z.object({
    ...recipient,
    type: z.literal('template'),
    template: z.object({
      name: z.string().min(1).max(512),
      language: z.object({ code: z.string().min(2) }),
      components: z.array(templateComponent).default([]),
    }),
  }),
  z.object({
    ...recipient,
    type: z.literal('text'),
    text: z.object({ body: z.string().min(1).max(4096), preview_url: z.boolean().optional() }),
  }),
]);

type OutgoingMessage = z.infer<typeof messageSchema>;

interface GraphError {
  message: string;
  type: string;
  code: number;
  details: string;
  subcode?: number;
}

/** The Cloud API `messages` endpoint and the `/__sandbox/whatsapp` hooks. */
export function whatsappRouter(cloud: WhatsAppCloud, options: { token: string; phoneNumberId: string }): Router {
  const router = Router();
  const json = express.json({ limit: '1mb' });

  const authorizeSender = (
    req: Request<{ version: string; phoneNumberId: string }>,
    res: Response,
    next: NextFunction,
  ) => {
    // Any other two-segment path ending in /messages is not the Graph API.
    if (!GRAPH_API_VERSION.test(req.params.version)) return next('route');
    const [scheme, token] = (req.header('authorization') ?? '').split(' ');
    if (scheme !== 'Bearer' || !secretsEqual(token, options.token)) {
      return sendGraphError(res, 401, {
        message: 'Error validating access token: The access token could not be decrypted',
        type: 'OAuthException',
        code: 190,
        details: 'Invalid OAuth access token',
      });
    }
    if (req.params.phoneNumberId !== options.phoneNumberId) {
      return sendGraphError(res, 400, {
        message: `Unsupported post request. Object with ID '${req.params.phoneNumberId}' does not exist, cannot be loaded due to missing permissions, or does not support this operation.`,
        type: 'GraphMethodException',
        code: 100,
        subcode: 33,
        details: 'Unknown phone number id',
      });
    }
    const injected = cloud.faults.take('messages');
    if (injected !== undefined) return sendGraphError(res, injected, faultError(injected));
    next();
  };

  router.post('/:version/:phoneNumberId/messages', authorizeSender, json, (req, res) => {
    const parsed = messageSchema.safeParse(req.body ?? {});
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return sendGraphError(res, 400, {
        message: '(#100) Invalid parameter',
        type: 'OAuthException',
        code: 100,
        details: `${issue.path.join('.') || 'body'}: ${issue.message}`,
      });
    }
    const message = parsed.data;
    const badParameter = message.type === 'template' ? unsendableParameter(message) : undefined;
    if (badParameter !== undefined) {
      return sendGraphError(res, 400, {
        message: '(#132018) There was an issue with the parameters in your template.',
        type: 'OAuthException',
        code: 132018,
        details: `Param text cannot have new-line/tab characters or more than 4 consecutive spaces: "${badParameter}"`,
      });
    }
    const waId = onlyDigits(message.to);
    if (waId.startsWith(NOT_ON_WHATSAPP_PREFIX)) {
      return sendGraphError(res, 400, {
        message: 'Message Undeliverable.',
        type: 'OAuthException',
        code: 131026,
        details: 'Message Undeliverable: the recipient is not a WhatsApp user',
      });
    }
    const id = `wamid.${randomBytes(24).toString('base64url')}`;
    cloud.record({
      id,
      to: waId,
      type: message.type,
      text: readableText(message),
      template: message.type === 'template' ? message.template.name : null,
      parameters: message.type === 'template' ? bodyTexts(message) : [],
      sentAt: new Date().toISOString(),
    });
    res.json({ messaging_product: 'whatsapp', contacts: [{ input: message.to, wa_id: waId }], messages: [{ id }] });
  });

  router.get('/__sandbox/whatsapp/messages', (req, res) => {
    const to = typeof req.query.to === 'string' ? req.query.to : undefined;
    res.json({ messages: cloud.messagesTo(to) });
  });
  router.post('/__sandbox/whatsapp/faults', json, (req, res) => {
    const parsed = faultRequestSchema.safeParse(req.body ?? {});
    if (!parsed.success) {
      res.status(400).json({ error: parsed.error.issues[0].message });
      return;
    }
    cloud.faults.add(parsed.data.status, parsed.data.count);
    res.status(204).end();
  });
  router.delete('/__sandbox/whatsapp/faults', (_req, res) => {
    cloud.faults.clear();
    res.status(204).end();
  });

  router.use((error: unknown, _req: Request, res: Response, next: NextFunction) => {
    if ((error as { type?: string }).type !== 'entity.parse.failed') return next(error);
    sendGraphError(res, 400, {
      message: '(#100) Invalid parameter',
      type: 'OAuthException',
      code: 100,
      details: 'The request body is not valid JSON',
    });
  });
  return router;
}

type TemplateMessage = Extract<OutgoingMessage, { type: 'template' }>;

/** The body's text parameters, in order. */
function bodyTexts(message: TemplateMessage): string[] {
  const body = message.template.components.find((c) => c.type === 'body');
  return (body?.parameters ?? [])
    .filter((p): p is z.infer<typeof textParameter> => p.type === 'text')
    .map((p) => p.text);
}

/** A text parameter the Cloud API would refuse (error 132018), if any. */
function unsendableParameter(message: TemplateMessage): string | undefined {
  return message.template.components
    .flatMap((c) => c.parameters)
    .filter((p): p is z.infer<typeof textParameter> => p.type === 'text')
    .map((p) => p.text)
    .find((text) => /[\n\t]| {5,}/.test(text));
}

/**
 * The text the recipient sees. An authentication template (the one with a URL button) is the one-time
 * code; any other template is a notice, shown as its body parameters one per line.
 */
function readableText(message: OutgoingMessage): string {
  if (message.type === 'text') return message.text.body;
  const [first, ...rest] = bodyTexts(message);
  if (first === undefined) return `Template "${message.template.name}"`;
  const isAuthentication = message.template.components.some((c) => c.type === 'button' && c.sub_type === 'url');
  if (isAuthentication) return `${first} is your verification code. For your security, do not share this code.`;
  return [first, ...rest].join('\n');
}

function faultError(status: number): GraphError {
  if (status === 429) {
    return {
      message: '(#130429) Rate limit hit',
      type: 'OAuthException',
      code: 130429,
      details: 'Cloud API message throughput has been reached.',
    };
  }
  if (status === 401) {
    return {
      message: 'Error validating access token: Session has expired',
      type: 'OAuthException',
      code: 190,
      details: 'Token expired',
    };
  }
  if (status >= 500) {
    return { message: 'Something went wrong', type: 'OAuthException', code: 131000, details: 'Unknown error' };
  }
  return { message: '(#100) Invalid parameter', type: 'OAuthException', code: 100, details: 'Sandbox fault injected' };
}

function sendGraphError(res: Response, status: number, error: GraphError): void {
  res.status(status).json({
    error: {
      message: error.message,
      type: error.type,
      code: error.code,
      ...(error.subcode === undefined ? {} : { error_subcode: error.subcode }),
      error_data: { messaging_product: 'whatsapp', details: error.details },
      fbtrace_id: randomBytes(12).toString('base64url'),
    },
  });
}

function onlyDigits(phone: string): string {
  return phone.replace(/\D/g, '');
}
