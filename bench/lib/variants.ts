/** One endpoint on one transport: what a round of the endpoints suite (and the latency table) runs. */
import type { Endpoint } from './endpoints';

export type Transport = 'http' | 'websocket';
export type WorkerName = Endpoint['worker'] | 'appWs';

/** API endpoints and the db floor run on both transports, the runtime floor once. */
export interface Variant {
  endpoint: Endpoint;
  worker: WorkerName;
  transport?: Transport;
}

export function variantsOf(e: Endpoint): Variant[] {
  if (e.floor === 'runtime') return [{ endpoint: e, worker: e.worker }];
  if (e.worker === 'floor') return [{ endpoint: e, worker: 'floor', transport: 'http' }, { endpoint: e, worker: 'floor', transport: 'websocket' }];
  return [{ endpoint: e, worker: 'app', transport: 'http' }, { endpoint: e, worker: 'appWs', transport: 'websocket' }];
}

/** The floor Worker picks its transport per request (bench-only code); the API has one Worker per transport. */
export const withTransport = (path: string, v: Variant) =>
  v.worker === 'floor' && v.transport ? `${path}${path.includes('?') ? '&' : '?'}transport=${v.transport}` : path;

export const label = (r: { name: string; transport?: Transport }) => (r.transport ? `${r.name} [${r.transport === 'http' ? 'http' : 'ws'}]` : r.name);
