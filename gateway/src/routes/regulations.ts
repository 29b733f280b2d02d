import { StoreError } from '@tidemark/store';
import type { FastifyPluginAsync } from 'fastify';
import { hasAdminToken } from '../auth.js';
import { GatewayError } from '../errors.js';
import type { Regulator } from '../people/regulator.js';
import { errorResponse } from './schemas.js';

export interface RegulationRoutesOptions {
  /** TIDEMARK_ADMIN_TOKEN; undefined: every route answers 404 `regulations_disabled`. */
  adminToken: string | undefined;
  /** Undefined: regulations are off (no writable ClickHouse on this gateway). */
  regulator: Regulator | undefined;
}

const errors = { '4xx': errorResponse, '5xx': errorResponse } as const;
const security = [{ adminToken: [] }];

const regulationBody = {
  type: 'object',
  required: ['regulationType', 'subjectType', 'subjectIds'],
  additionalProperties: false,
  properties: {
    regulationType: { enum: ['DELETE_ONLY', 'SUPPRESS_ONLY', 'SUPPRESS_WITH_DELETE', 'UNSUPPRESS'] },
    subjectType: { enum: ['USER_ID', 'ANONYMOUS_ID'] },
    // Segment takes up to 5 000 subjects per regulation.
    subjectIds: {
      type: 'array',
      minItems: 1,
      maxItems: 5000,
      items: { type: 'string', minLength: 1, maxLength: 1000 },
    },
    requestedBy: { type: 'string', maxLength: 200, description: 'Who asked, for the audit trail.' },
  },
} as const;

type RegulationBody = {
  regulationType: 'DELETE_ONLY' | 'SUPPRESS_ONLY' | 'SUPPRESS_WITH_DELETE' | 'UNSUPPRESS';
  subjectType: 'USER_ID' | 'ANONYMOUS_ID';
  subjectIds: string[];
  requestedBy?: string;
};

/**
 * The regulations API in the shape of Segment's (`POST /v1/regulations`, `GET /v1/regulations/{id}`) and the
 * right of access (`GET /v1/people/{id}/events`), behind the admin token as the read API is (DESIGN §5b).
 */
export const regulationRoutes: FastifyPluginAsync<RegulationRoutesOptions> = async (app, opts) => {
  const { adminToken, regulator } = opts;
  const need = (): Regulator => {
    if (regulator === undefined) throw new GatewayError('regulations_disabled');
    return regulator;
  };
  const notFound = (error: unknown): never => {
    if (error instanceof StoreError && error.code === 'regulation_not_found') {
      throw new GatewayError('regulation_not_found');
    }
    throw error;
  };

  app.addHook('onRequest', async (request, reply) => {
    if (adminToken === undefined) throw new GatewayError('regulations_disabled');
    if (!hasAdminToken(request, adminToken)) {
      reply.header('www-authenticate', 'Bearer realm="tidemark-read"');
      throw new GatewayError('invalid_admin_token');
    }
  });

  app.post<{ Body: RegulationBody }>(
    '/v1/regulations',
    {
      schema: {
        tags: ['regulations'],
        security,
        summary: 'Delete and/or suppress data subjects, or lift a suppression',
        body: regulationBody,
        response: { ...errors },
      },
      attachValidation: true,
    },
    async (request) => {
      if (request.validationError) {
        throw new GatewayError('invalid_regulation', { message: request.validationError.message });
      }
      const { regulationType, subjectType, subjectIds, requestedBy } = request.body;
      const reg = await need().create({
        regulationType,
        subjectType,
        subjectIds,
        requestedBy: requestedBy ?? `admin token from ${request.ip}`,
      });
      request.log.info(
        { regulation: reg.id, regulationType, subjectType, subjects: subjectIds.length },
        'regulation',
      );
      return { data: { regulateId: reg.id }, status: reg.status };
    },
  );

  app.get<{ Params: { id: string } }>(
    '/v1/regulations/:id',
    { schema: { tags: ['regulations'], security, summary: "A regulation's progress and audit trail" } },
    async (request) => need().get(request.params.id).catch(notFound),
  );

  app.get<{ Params: { id: string }; Querystring: { project?: string } }>(
    '/v1/people/:id/events',
    {
      schema: {
        tags: ['regulations'],
        security,
        summary: "A person's events across devices, as JSON lines (the right of access)",
        querystring: {
          type: 'object',
          required: ['project'],
          properties: { project: { type: 'string', minLength: 1 } },
        },
      },
      attachValidation: true,
    },
    async (request, reply) => {
      if (request.validationError) {
        throw new GatewayError('invalid_param', { message: 'Pass ?project=<project id>.' });
      }
      const lines = await need().exportPerson(request.query.project ?? '', request.params.id);
      reply.header('content-type', 'application/x-ndjson; charset=utf-8');
      return lines;
    },
  );
};
