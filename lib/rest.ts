import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { isAppError } from './errors';
import type { Logger } from './logger';

type RestHandler = (req: Request, res: Response) => Promise<unknown>;

/** Wraps an async handler: its result is the JSON answer (201 for POST), its AppError a 4xx. */
export function route(handler: RestHandler, successStatus?: number) {
  return (req: Request, res: Response, next: NextFunction) => {
    handler(req, res).then(
      (result) => {
        if (res.headersSent) return;
        res.status(successStatus ?? 200).json(result ?? {});
      },
      (error) => next(error),
    );
  };
}

export function sendError(res: Response, status: number, code: string, message: string) {
  res.status(status).json({ error: { code, message } });
}

/** The last middleware: `{ error: { code, message } }`, never internals for unexpected failures. */
export function restErrorHandler(logger: Logger) {
  return (error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (isAppError(error)) return sendError(res, error.httpStatus, error.code, error.message);
    const e = error as { type?: string; status?: number; message?: string };
    if (e?.type === 'entity.parse.failed') return sendError(res, 400, 'BAD_USER_INPUT', 'Malformed JSON body');
    if (e?.type === 'entity.too.large') return sendError(res, 413, 'BAD_USER_INPUT', 'Body too large');
    logger.error({ err: error }, 'unexpected REST failure');
    return sendError(res, 500, 'INTERNAL_SERVER_ERROR', 'Internal server error');
  };
}

export function jsonRouter(): Router {
  const router = express.Router();
  router.use(express.json({ limit: '1mb' }));
  return router;
}
