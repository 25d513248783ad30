// The OpenAPI 3.1 document of the model server, generated from the same zod schemas that validate requests
// (zod 4 `z.toJSONSchema`). Built on first request to /openapi.json, never on the start path.
import { z } from 'zod';
import {
  ErrorResponse,
  ExplainRequest,
  ExplainResponse,
  HealthResponse,
  MAX_TEXT_BYTES,
  ModelInfoResponse,
  PredictRequest,
  PredictResponse,
  ReadyResponse,
} from './api-schemas.js';

type JsonObject = Record<string, unknown>;

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonObject {
  const out = z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any' }) as JsonObject;
  delete out.$schema;
  return out;
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (name: string, description: string) => ({ description, content: { 'application/json': { schema: ref(name) } } });
const error = (description: string) => json('Error', description);

const predictErrors = {
  '400': error(`Malformed JSON, or a text over ${MAX_TEXT_BYTES} UTF-8 bytes ("Text at index i exceeds maximum size of ${MAX_TEXT_BYTES} bytes (N bytes provided)")`),
  '413': error('Body over the size limit (GSG_BODY_LIMIT_BYTES), refused before it is read'),
  '415': error('Content-Type is not application/json'),
  '422': error('Body does not match the schema: missing texts, 0 or more than 100 texts, a non-string, or a blank text ("Text at index i cannot be empty or whitespace only")'),
  '500': error('Only with fault injection on (GSG_FAULT_ERROR_RATE): {"detail":"injected fault"}'),
  '503': error('Model not loaded yet'),
};

const requestId = { name: 'x-request-id', in: 'header', required: false, description: 'Echoed back; generated when absent. Appears in every log line of the request.', schema: { type: 'string', maxLength: 128 } };

/** A POST prediction operation: JSON body of `requestSchema`, the prediction errors. */
const prediction = (summary: string, operationId: string, requestSchema: string, ok: ReturnType<typeof json>) => ({
  summary,
  operationId,
  parameters: [requestId],
  requestBody: { required: true, content: { 'application/json': { schema: ref(requestSchema) } } },
  responses: { '200': ok, ...predictErrors },
});

/** The paths every server answers; tests check the document covers exactly these. */
export const DOCUMENTED_PATHS = ['/health', '/ready', '/model/info', '/predict', '/predict/explain', '/metrics', '/openapi.json', '/docs'] as const;

export function buildOpenApiDocument(info: { modelName?: string; modelVersion?: string } = {}): JsonObject {
  return {
    openapi: '3.1.0',
    info: {
      title: 'gym-sentiment-guard model server',
      version: info.modelVersion ?? 'unknown',
      description: `Sentiment of Spanish gym reviews${info.modelName ? ` (${info.modelName}@${info.modelVersion})` : ''}. Errors are JSON {"detail": ...}.`,
    },
    paths: {
      '/health': { get: { summary: 'Liveness: 200 while the process runs', operationId: 'health', responses: { '200': json('HealthResponse', 'Alive') } } },
      '/ready': {
        get: {
          summary: 'Readiness: 200 once the model has answered a warm-up prediction; 503 while loading or draining',
          operationId: 'ready',
          responses: { '200': json('ReadyResponse', 'Ready'), '503': error('Loading, failed or draining') },
        },
      },
      '/model/info': {
        get: { summary: 'The loaded model version', operationId: 'modelInfo', responses: { '200': json('ModelInfo', 'Model metadata'), '503': error('Model not loaded yet') } },
      },
      '/predict': { post: prediction('Classify 1 to 100 reviews', 'predict', 'PredictRequest', json('PredictResponse', 'One result per text, in order')) },
      '/predict/explain': {
        post: prediction('Classify and explain: the top_k features by absolute importance (signed)', 'predictExplain', 'ExplainRequest', json('ExplainResponse', 'One explained result per text, in order')),
      },
      '/metrics': {
        get: { summary: 'Prometheus metrics (gsg_server_* and process metrics)', operationId: 'metrics', responses: { '200': { description: 'Prometheus text format', content: { 'text/plain': { schema: { type: 'string' } } } } } },
      },
      '/openapi.json': {
        get: { summary: 'This document', operationId: 'openapi', responses: { '200': { description: 'OpenAPI 3.1', content: { 'application/json': { schema: { type: 'object' } } } } } },
      },
      '/docs': {
        get: { summary: 'Interactive API documentation (local assets, no CDN)', operationId: 'docs', responses: { '200': { description: 'HTML page', content: { 'text/html': { schema: { type: 'string' } } } } } },
      },
    },
    components: {
      schemas: {
        PredictRequest: jsonSchema(PredictRequest, 'input'),
        ExplainRequest: jsonSchema(ExplainRequest, 'input'),
        PredictResponse: jsonSchema(PredictResponse, 'output'),
        ExplainResponse: jsonSchema(ExplainResponse, 'output'),
        HealthResponse: jsonSchema(HealthResponse, 'output'),
        ReadyResponse: jsonSchema(ReadyResponse, 'output'),
        ModelInfo: jsonSchema(ModelInfoResponse, 'output'),
        Error: jsonSchema(ErrorResponse, 'output'),
      },
    },
  };
}
