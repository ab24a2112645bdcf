/**
 * `strata.serving.serve(model, {port})` and `strata serve MODEL`: a model
 * server speaking TensorFlow Serving's REST API, so clients written for TF
 * Serving work unchanged:
 *
 *   GET  /v1/models/NAME                   version status
 *   GET  /v1/models/NAME/metadata          the serving_default signature
 *   POST /v1/models/NAME:predict           {"instances": [...]} or {"inputs": ...}
 *   (each also under /v1/models/NAME/versions/N)
 *
 * The model runs as one compiled inference function (weights frozen into
 * the graph), on ONNX Runtime's worker thread; requests that arrive while it
 * runs are batched into the next call (batcher.ts).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Tensor, TensorSpec } from '../tensor/tensor.ts';
import { zeros } from '../tensor/create.ts';
import { fn } from '../graph/function.ts';
import type { Layer } from '../layers/layer.ts';
import { signatureOf } from '../saving/onnx-export.ts';
import { Batcher } from './batcher.ts';
import { BadRequestError, decodePredictRequest, encodePredictResponse, parseJson, signatureMetadata, stringifyJson, uniqueNames, type ServingSignature } from './codec.ts';

export interface ServeOptions {
  /** Default 8501 (TF Serving's REST port); 0 picks a free port. */
  port?: number;
  /** Default '127.0.0.1'; '0.0.0.0' to accept other machines. */
  host?: string;
  /** The NAME in the URLs. Default: the model's name. */
  modelName?: string;
  /** The version reported and accepted under /versions/N. Default 1. */
  version?: number;
  /** The most rows one compiled call takes when batching requests. Default 64. */
  maxBatchSize?: number;
  /** Larger request bodies get HTTP 413. Default 64 MiB. */
  maxBodyBytes?: number;
  /** Input signature for models without a known input shape (subclassed). */
  inputSignature?: TensorSpec[];
}

/** A running server. (An interface, so that declaration files do not need Node's types.) */
export interface ModelServer {
  /** The NAME in the URLs. */
  readonly modelName: string;
  /** The port it listens on (the chosen one when asked for port 0). */
  readonly port: number;
  /** e.g. http://127.0.0.1:8501/v1/models/mnist */
  readonly url: string;
  /** Compiled calls made, and the requests and rows they served (batching shows as requests > batches). */
  readonly stats: { batches: number; requests: number; rows: number };
  /**
   * Stops accepting connections, answers the requests already received (up to
   * `closeTimeoutMs`, default 10 s; then their connections are closed), and
   * closes idle connections.
   */
  close(options?: { closeTimeoutMs?: number }): Promise<void>;
}

class RunningServer implements ModelServer {
  #closing: Promise<void> | null = null;

  constructor(
    private readonly server: Server,
    readonly modelName: string,
    private readonly batcher: Batcher,
    private readonly inFlight: Set<ServerResponse>,
  ) {
    this.#address = server.address() as AddressInfo;
  }

  /** True once close() was called: responses then end their connections. */
  get closing(): boolean {
    return this.#closing !== null;
  }

  // Read once while listening: server.address() is null after close.
  readonly #address: AddressInfo;

  get port(): number {
    return this.#address.port;
  }

  get url(): string {
    const { address, family } = this.#address;
    const host = family === 'IPv6' ? `[${address}]` : address;
    return `http://${host}:${this.port}/v1/models/${this.modelName}`;
  }

  get stats(): { batches: number; requests: number; rows: number } {
    return { ...this.batcher.stats };
  }

  close(options: { closeTimeoutMs?: number } = {}): Promise<void> {
    this.#closing ??= new Promise<void>((resolve, reject) => {
      // Requests in flight (reading their body, waiting for a batch, running) are
      // still answered, with 'connection: close'; idle keep-alive connections close now.
      const force = setTimeout(() => this.server.closeAllConnections(), options.closeTimeoutMs ?? 10_000);
      force.unref();
      this.server.close((e) => {
        clearTimeout(force);
        if (e) reject(e);
        else resolve();
      });
      this.server.closeIdleConnections();
      if (this.inFlight.size === 0) this.server.closeAllConnections();
    });
    return this.#closing;
  }
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function outputList(result: unknown, where: string): Tensor[] {
  if (result instanceof Tensor) return [result];
  if (Array.isArray(result) && result.every((t) => t instanceof Tensor)) return result;
  if (result && typeof result === 'object' && Object.values(result).every((t) => t instanceof Tensor)) return Object.values(result) as Tensor[];
  throw new Error(`${where}: the model returned ${String(result)}; expected tensors.`);
}

/** The served function and its signature. */
function servingFunction(model: Layer, options: ServeOptions) {
  const sig = signatureOf(model, { inputSignature: options.inputSignature });
  const predict = fn((...xs: Tensor[]) => model.apply((xs.length === 1 ? xs[0] : xs) as never, { training: false }) as unknown, {
    name: 'serving_default',
    inputSignature: sig.specs,
    freezeVariables: true,
  });
  // Trace once now: the output names and shapes for the metadata, and no tracing on the first request.
  const placeholders = sig.specs.map((s) => zeros(s.shape.map((d) => d ?? 1), s.dtype));
  const concrete = predict.getConcreteFunction(...placeholders);
  const outputSpecs = concrete.graph.outputs.map((v) => new TensorSpec([...v.type.shape], v.type.dtype));
  // A model returning a dict names its outputs by the keys (the traced result's structure says so).
  const structure = concrete.outputStructure;
  const signature: ServingSignature = {
    specs: sig.specs,
    inputNames: sig.inputNames,
    // Two outputs of one layer would share a name (and a key in the responses).
    outputNames: structure.kind === 'object' ? structure.keys : uniqueNames(sig.outputNames(outputSpecs.length)),
  };
  const run = async (inputs: Tensor[]): Promise<unknown[][]> => {
    const outputs = outputList(await predict(...inputs), `model '${model.name}'`);
    return outputs.map((t) => t.arraySync() as unknown[]);
  };
  return { signature, outputSpecs, run };
}

async function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new HttpError(413, `the request body is larger than ${limit} bytes (maxBodyBytes).`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function send(res: ServerResponse, status: number, body: unknown, closing: boolean): void {
  if (res.destroyed || res.writableEnded) return; // the client went away
  const text = stringifyJson(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...(closing ? { connection: 'close' } : {}) });
  res.end(text);
}

const ROUTE = /^\/v1\/models\/([^/:]+)(?:\/versions\/([^/:]+))?(?::(predict|classify|regress)|\/(metadata))?\/?$/;

/** Starts serving `model` over HTTP; resolves once it listens. */
export async function serve(model: Layer, options: ServeOptions = {}): Promise<ModelServer> {
  const modelName = options.modelName ?? model.name;
  const version = String(options.version ?? 1);
  const maxBodyBytes = options.maxBodyBytes ?? 64 * 1024 * 1024;
  const maxBatchSize = options.maxBatchSize ?? 64;
  if (!/^[A-Za-z0-9_.-]+$/.test(modelName)) throw new Error(`serve: the model name '${modelName}' must be letters, digits, '_', '.' or '-' (it goes in URLs).`);
  if (!Number.isInteger(maxBatchSize) || maxBatchSize < 1) throw new Error(`serve: maxBatchSize must be a positive integer. Received: ${maxBatchSize}`);
  const { signature, outputSpecs, run } = servingFunction(model, options);
  const batcher = new Batcher(run, maxBatchSize);

  const inFlight = new Set<ServerResponse>();
  let running: RunningServer | undefined;
  const reply = (res: ServerResponse, status: number, body: unknown) => send(res, status, body, running?.closing ?? false);

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const m = ROUTE.exec(path);
    if (!m) throw new HttpError(404, `no such endpoint: ${req.method} ${path}. Try GET /v1/models/${modelName} or POST /v1/models/${modelName}:predict.`);
    const [, name, askedVersion, verb, metadata] = m;
    // TF Serving's wording, so existing clients recognise it.
    if (name !== modelName) throw new HttpError(404, `Servable not found for request: Latest(${name})`);
    if (askedVersion !== undefined && askedVersion !== version) throw new HttpError(404, `Servable not found for request: Specific(${name}, ${askedVersion})`);
    if (verb !== undefined) {
      if (req.method !== 'POST') throw new HttpError(405, `:${verb} takes POST, not ${req.method}.`);
      if (verb !== 'predict') throw new HttpError(400, `:${verb} is not supported; use :predict.`);
      const text = await readBody(req, maxBodyBytes);
      let body: unknown;
      try {
        body = parseJson(text);
      } catch (e) {
        throw new HttpError(400, `the request body is not valid JSON (${(e as Error).message}).`);
      }
      const decoded = decodePredictRequest(body, signature);
      const outputs = await batcher.submit(decoded);
      reply(res, 200, encodePredictResponse(outputs, signature, decoded.format, 0, decoded.rows));
      return;
    }
    if (req.method !== 'GET') throw new HttpError(405, `${path} takes GET, not ${req.method}.`);
    if (metadata) {
      reply(res, 200, { model_spec: { name: modelName, signature_name: '', version }, metadata: { signature_def: { signature_def: signatureMetadata(signature, outputSpecs) } } });
      return;
    }
    reply(res, 200, { model_version_status: [{ version, state: 'AVAILABLE', status: { error_code: 'OK', error_message: '' } }] });
  };

  const server = createServer((req, res) => {
    inFlight.add(res);
    res.once('close', () => {
      inFlight.delete(res);
      // Closing: a connection whose response just finished is idle now; don't wait for its keep-alive timeout.
      if (running?.closing) setImmediate(() => server.closeIdleConnections());
    });
    handle(req, res).catch((e: unknown) => {
      const status = e instanceof HttpError ? e.status : e instanceof BadRequestError ? 400 : 500;
      const message = e instanceof Error ? e.message : String(e);
      if (!res.headersSent) reply(res, status, { error: message });
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8501, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  running = new RunningServer(server, modelName, batcher, inFlight);
  return running;
}
