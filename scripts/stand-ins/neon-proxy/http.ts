/**
 * Neon's SQL-over-HTTP endpoint (`POST /sql`) as @neondatabase/serverless 1.x sends it (its `neon()` function):
 * headers `Neon-Connection-String`, `Neon-Raw-Text-Output`, `Neon-Array-Mode` and, for batches, `Neon-Batch-
 * Isolation-Level`, `Neon-Batch-Read-Only`, `Neon-Batch-Deferrable`; body `{query, params}` or `{queries: [...]}`
 * (a batch runs as one transaction). Answers `{command, rowCount, rows, fields, rowAsArray}` (or `{results: [...]}`)
 * with values as PostgreSQL's text; a PostgreSQL error is a 400 whose JSON carries the fields the driver copies onto
 * its NeonDbError (code = SQLSTATE, detail, constraint…). Statements run on warm pooled `pg` connections.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import pg from 'pg';

/** The error fields the driver copies from a 400 answer onto NeonDbError (its `hi` list), in its order. */
const ERROR_FIELDS = [
  'severity', 'code', 'detail', 'hint', 'position', 'internalPosition', 'internalQuery', 'where', 'schema', 'table',
  'column', 'dataType', 'constraint', 'file', 'line', 'routine',
] as const;

const ISOLATION: Record<string, string> = {
  Serializable: 'serializable',
  RepeatableRead: 'repeatable read',
  ReadCommitted: 'read committed',
  ReadUncommitted: 'read uncommitted',
};

/** Neon refuses request bodies over 10 MB. */
const MAX_BODY = 10 * 1024 * 1024;
const rawText = { getTypeParser: () => (value: string) => value };

export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

interface Statement {
  query: string;
  params: unknown[];
}

export interface SqlRequest {
  connectionString: string;
  statements: Statement[];
  batch: boolean;
  arrayMode: boolean;
  begin: string;
}

/** The request body, from its 'data' events (an async iterator costs more per request than the statement). */
export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        req.removeAllListeners('data').pause();
        return reject(new HttpProblem(413, 'request body too large'));
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve((chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)).toString('utf8')));
    req.on('error', reject);
  });
}

function statementOf(value: unknown): Statement {
  const { query, params = [] } = (value ?? {}) as { query?: unknown; params?: unknown };
  if (typeof query !== 'string' || !Array.isArray(params)) throw new HttpProblem(400, 'body must be {query: string, params: array}');
  for (const p of params) {
    if (p !== null && typeof p !== 'string' && typeof p !== 'number' && typeof p !== 'boolean') {
      throw new HttpProblem(400, 'params must be strings, numbers, booleans or null');
    }
  }
  return { query, params };
}

/** Validates the request as the driver builds it; anything else is a 400 without a SQLSTATE. */
export function parseSqlRequest(req: IncomingMessage, body: string): SqlRequest {
  const connectionString = req.headers['neon-connection-string'];
  if (typeof connectionString !== 'string') throw new HttpProblem(400, 'missing Neon-Connection-String header');
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new HttpProblem(400, 'body is not JSON');
  }
  const queries = (parsed as { queries?: unknown }).queries;
  const batch = queries !== undefined;
  if (batch && !Array.isArray(queries)) throw new HttpProblem(400, 'queries must be an array');
  const statements = batch ? (queries as unknown[]).map(statementOf) : [statementOf(parsed)];

  const header = (name: string) => (typeof req.headers[name] === 'string' ? (req.headers[name] as string) : undefined);
  const level = header('neon-batch-isolation-level');
  if (level !== undefined && !ISOLATION[level]) throw new HttpProblem(400, `unknown isolation level ${level}`);
  const modes = [level && `isolation level ${ISOLATION[level]}`];
  if (header('neon-batch-read-only') === 'true') modes.push('read only');
  if (header('neon-batch-deferrable') === 'true') modes.push('deferrable');
  return {
    connectionString,
    statements,
    batch,
    arrayMode: header('neon-array-mode') === 'true',
    begin: ['begin', ...modes.filter(Boolean)].join(' '),
  };
}

/** One statement on the extended protocol (as Neon runs them: one statement per query, parameters as text). */
async function run(client: pg.PoolClient, { query, params }: Statement, arrayMode: boolean) {
  const result = await client.query({ text: query, values: params, rowMode: arrayMode ? 'array' : undefined, types: rawText, queryMode: 'extended' } as pg.QueryConfig);
  return {
    command: result.command,
    rowCount: result.rowCount,
    rows: result.rows,
    fields: result.fields.map((f) => ({
      name: f.name,
      dataTypeID: f.dataTypeID,
      tableID: f.tableID,
      columnID: f.columnID,
      dataTypeSize: f.dataTypeSize,
      dataTypeModifier: f.dataTypeModifier,
      format: f.format,
    })),
    rowAsArray: arrayMode,
  };
}

/** Runs the request on `client`; a batch is one transaction, rolled back on the first error. */
export async function execute(client: pg.PoolClient, request: SqlRequest): Promise<unknown> {
  if (!request.batch) return run(client, request.statements[0]!, request.arrayMode);
  await client.query(request.begin);
  try {
    const results = [];
    for (const statement of request.statements) results.push(await run(client, statement, request.arrayMode));
    await client.query('commit');
    return { results };
  } catch (error) {
    await client.query('rollback').catch(() => {});
    throw error;
  }
}

export function isPostgresError(error: unknown): error is pg.DatabaseError {
  return error instanceof pg.DatabaseError;
}

/** A PostgreSQL error as Neon answers it: 400 with `message` and the protocol's error fields. */
export function postgresErrorBody(error: pg.DatabaseError): Record<string, unknown> {
  const body: Record<string, unknown> = { message: error.message };
  for (const field of ERROR_FIELDS) if (error[field] !== undefined) body[field] = error[field];
  return body;
}

export function send(res: ServerResponse, status: number, body: unknown) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
