// Prometheus side of the public services' call counter (src/api/unary-handler.ts
// ApiRequestCounter): `qkv_api_requests_total{method,code}`, with its children found
// once (resolved-children.ts), since every public call is counted.
import type { Registry } from 'prom-client';
import type { ApiRequestCounter } from '../api/unary-handler.js';
import { ResolvedCounter } from './resolved-children.js';

export function apiRequestCounter(registry: Registry): ApiRequestCounter {
  return new ResolvedCounter({
    name: 'qkv_api_requests_total',
    help: 'Public gRPC calls by method and resulting gRPC status.',
    labelNames: ['method', 'code'],
    registry,
  });
}
