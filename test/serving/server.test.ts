import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as strata from '../../src/index.ts';
import { Batcher, type BatchRequest } from '../../src/serving/batcher.ts';
import { decodePredictRequest, parseJson, stringifyJson, type ServingSignature } from '../../src/serving/codec.ts';
import { request as httpRequest } from 'node:http';

const { layers } = strata;
type Tensor = strata.Tensor;

function twoInTwoOut() {
  strata.random.setRandomSeed(3);
  const a = strata.Input({ shape: [3], name: 'a' });
  const b = strata.Input({ shape: [2], name: 'b' });
  const h = new layers.Dense(4, { activation: 'tanh' }).apply(new layers.Concatenate().apply([a, b]) as never) as never;
  const logits = new layers.Dense(2, { name: 'logits' }).apply(h);
  const score = new layers.Dense(1, { activation: 'sigmoid', name: 'score' }).apply(h);
  return new strata.Model({ inputs: [a, b], outputs: [logits, score] as never, name: 'two_heads' });
}

const close = (actual: unknown, expected: unknown, what: string) => {
  const a = (actual as number[]).flat(4) as number[];
  const e = (expected as number[]).flat(4) as number[];
  assert.equal(a.length, e.length, what);
  a.forEach((v, i) => assert.ok(Math.abs(v - e[i]) < 1e-5, `${what}: ${v} vs ${e[i]} at ${i}`));
};

describe('strata.serving: TensorFlow Serving REST API', () => {
  let server: strata.serving.ModelServer;
  let model: strata.Model;
  const post = async (path: string, body: unknown) => {
    const r = await fetch(`${server.url}${path}`, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body) });
    return { status: r.status, json: (await r.json()) as Record<string, unknown> };
  };

  before(async () => {
    model = twoInTwoOut();
    server = await strata.serving.serve(model, { port: 0 });
  });
  after(async () => {
    await server.close();
  });

  it('reports the version status and the signature (names, dtypes, -1 for the batch)', async () => {
    const status = (await (await fetch(server.url)).json()) as { model_version_status: { version: string; state: string }[] };
    assert.deepEqual(status.model_version_status.map((s) => [s.version, s.state]), [['1', 'AVAILABLE']]);
    const meta = (await (await fetch(`${server.url}/metadata`)).json()) as {
      metadata: { signature_def: { signature_def: { serving_default: { inputs: Record<string, { dtype: string; tensor_shape: { dim: { size: string }[] } }>; outputs: Record<string, unknown> } } } };
    };
    const sig = meta.metadata.signature_def.signature_def.serving_default;
    assert.deepEqual(Object.keys(sig.inputs), ['a', 'b']);
    assert.deepEqual(Object.keys(sig.outputs), ['logits', 'score']);
    assert.equal(sig.inputs.a.dtype, 'DT_FLOAT');
    assert.deepEqual(sig.inputs.a.tensor_shape.dim.map((d) => d.size), ['-1', '3']);
  });

  it('predicts in the row format (instances) and the columnar format (inputs), as model.predict does', async () => {
    const xa = [[1, 2, 3], [0, -1, 0.5], [2, 2, 2]];
    const xb = [[4, 5], [1, 1], [-3, 0]];
    const [logits, score] = (await model.predict([strata.tensor(xa), strata.tensor(xb)], { verbose: 0 })) as Tensor[];
    const rows = await post(':predict', { instances: xa.map((a, i) => ({ a, b: xb[i] })) });
    assert.equal(rows.status, 200, JSON.stringify(rows.json));
    const predictions = rows.json.predictions as { logits: number[]; score: number[] }[];
    assert.equal(predictions.length, 3);
    close(predictions.map((p) => p.logits), logits.arraySync(), 'row-format logits');
    close(predictions.map((p) => p.score), score.arraySync(), 'row-format score');
    const cols = await post('/versions/1:predict', { signature_name: 'serving_default', inputs: { a: xa, b: xb } });
    assert.equal(cols.status, 200, JSON.stringify(cols.json));
    const outputs = cols.json.outputs as { logits: number[][]; score: number[][] };
    close(outputs.logits, logits.arraySync(), 'columnar logits');
    close(outputs.score, score.arraySync(), 'columnar score');
  });

  it('answers bad requests with 400/404/405/413 and an error naming what was wrong', async () => {
    const cases: [string, unknown, number, RegExp][] = [
      [':predict', '{"instances": [', 400, /not valid JSON/],
      [':predict', { instances: [{ a: [1, 2], b: [1, 2] }] }, 400, /instances\[0\]\.a: expected an example of shape \(3,\), got \(2,\)/],
      [':predict', { instances: [{ a: [1, 2, 3] }] }, 400, /missing 'b'/],
      [':predict', { instances: [[1, 2, 3]] }, 400, /has 2 inputs/],
      [':predict', { inputs: { a: [[1, 2, 3]], b: [[1, 2], [3, 4]] } }, 400, /2 examples, but the other inputs have 1/],
      [':predict', { instances: [], inputs: {} }, 400, /exactly one of "instances"/],
      [':predict', { signature_name: 'classify', instances: [{ a: [1, 2, 3], b: [1, 2] }] }, 400, /unknown signature_name 'classify'/],
      ['/versions/7:predict', { instances: [] }, 404, /Specific\(two_heads, 7\)/],
      [':classify', {}, 400, /not supported/],
    ];
    for (const [path, body, status, message] of cases) {
      const r = await post(path, body);
      assert.equal(r.status, status, `${path} ${JSON.stringify(body)} -> ${JSON.stringify(r.json)}`);
      assert.match(String(r.json.error), message);
    }
    const other = await fetch(server.url.replace('two_heads', 'nope'));
    assert.equal(other.status, 404);
    assert.match(((await other.json()) as { error: string }).error, /Servable not found for request: Latest\(nope\)/);
    assert.equal((await fetch(`${server.url}:predict`)).status, 405);
    // The server is still healthy after all that.
    assert.equal((await post(':predict', { instances: [{ a: [1, 2, 3], b: [1, 2] }] })).status, 200);
  });

  it('refuses bodies over maxBodyBytes with 413', async () => {
    const small = await strata.serving.serve(model, { port: 0, maxBodyBytes: 100, modelName: 'small' });
    try {
      const r = await fetch(`${small.url}:predict`, { method: 'POST', body: JSON.stringify({ instances: Array(50).fill({ a: [1, 2, 3], b: [1, 2] }) }) });
      assert.equal(r.status, 413);
      assert.match(((await r.json()) as { error: string }).error, /larger than 100 bytes/);
    } finally {
      await small.close();
    }
  });

  it('concurrent requests each get their own rows back', async () => {
    const inputs = Array.from({ length: 12 }, (_, i) => ({ a: [i, -i, i / 2], b: [1, i % 3] }));
    const responses = await Promise.all(inputs.map((x) => post(':predict', { instances: [x] })));
    const [logits] = (await model.predict([strata.tensor(inputs.map((x) => x.a)), strata.tensor(inputs.map((x) => x.b))], { verbose: 0 })) as Tensor[];
    const expected = logits.arraySync() as number[][];
    responses.forEach((r, i) => close((r.json.predictions as { logits: number[] }[])[0].logits, expected[i], `request ${i}`));
    const stats = server.stats;
    assert.ok(stats.requests >= 12 && stats.batches <= stats.requests, JSON.stringify(stats));
  });

  it('an empty signature_name means serving_default, as in TF Serving', async () => {
    const r = await post(':predict', { signature_name: '', instances: [{ a: [1, 2, 3], b: [1, 2] }] });
    assert.equal(r.status, 200, JSON.stringify(r.json));
  });
});

describe('strata.serving: values and outputs', () => {
  const predictText = async (s: strata.serving.ModelServer, body: string) => {
    const r = await fetch(`${s.url}:predict`, { method: 'POST', body });
    return { status: r.status, text: await r.text() };
  };

  it('NaN, Infinity and -Infinity are tokens in requests and responses (TF Serving JSON conformance), not null', async () => {
    const x = strata.Input({ shape: [2], name: 'x' });
    const y = new layers.Lambda((t: Tensor) => strata.ops.log(t), { name: 'log' }).apply(x) as never;
    const s = await strata.serving.serve(new strata.Model({ inputs: x, outputs: y, name: 'logs' }), { port: 0 });
    try {
      const r = await predictText(s, '{"instances": [[-1, 0], [NaN, Infinity]]}');
      assert.equal(r.status, 200, r.text);
      assert.equal(r.text, '{"predictions":[[NaN,-Infinity],[NaN,Infinity]]}');
      const cols = await predictText(s, '{"inputs": [[1, -Infinity]]}');
      assert.equal(cols.text, '{"outputs":[[0,NaN]]}');
    } finally {
      await s.close();
    }
  });

  it('integer inputs refuse fractions (400) instead of truncating them', async () => {
    const ids = strata.Input({ shape: [2], name: 'ids', dtype: 'int32' });
    const e = new layers.Embedding(5, 2, { name: 'emb' }).apply(ids) as never;
    const s = await strata.serving.serve(new strata.Model({ inputs: ids, outputs: e, name: 'emb' }), { port: 0 });
    try {
      const r = await predictText(s, '{"instances": [[1.7, 2]]}');
      assert.equal(r.status, 400, r.text);
      assert.match(r.text, /instances\[0\]\[0\]: 1\.7 is not an int32/);
      assert.equal((await predictText(s, '{"instances": [[1, 2]]}')).status, 200);
    } finally {
      await s.close();
    }
  });

  it('two outputs of the same layer keep both (distinct names in the metadata and the predictions)', async () => {
    const x = strata.Input({ shape: [2], name: 'x' });
    const d = new layers.Dense(1, { name: 'd' }).apply(x) as never;
    const s = await strata.serving.serve(new strata.Model({ inputs: x, outputs: [d, d] as never, name: 'twice' }), { port: 0 });
    try {
      const meta = (await (await fetch(`${s.url}/metadata`)).json()) as { metadata: { signature_def: { signature_def: { serving_default: { outputs: object } } } } };
      assert.deepEqual(Object.keys(meta.metadata.signature_def.signature_def.serving_default.outputs), ['d', 'd_1']);
      const r = JSON.parse((await predictText(s, '{"instances": [[1, 2]]}')).text) as { predictions: Record<string, number[]>[] };
      assert.deepEqual(Object.keys(r.predictions[0]), ['d', 'd_1']);
      assert.deepEqual(r.predictions[0].d, r.predictions[0].d_1);
    } finally {
      await s.close();
    }
  });

  it('close() answers the requests already received (here: one still sending its body) before it resolves', async () => {
    const x = strata.Input({ shape: [2], name: 'x' });
    const s = await strata.serving.serve(new strata.Model({ inputs: x, outputs: new layers.Dense(1).apply(x) as never, name: 'closing' }), { port: 0 });
    const url = new URL(`${s.url}:predict`);
    const body = '{"instances": [[1, 2], [3, 4]]}';
    let sent!: () => void;
    const headersSent = new Promise<void>((r) => (sent = r));
    const response = new Promise<{ status: number | undefined; text: string }>((resolve, reject) => {
      const req = httpRequest({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { 'content-length': Buffer.byteLength(body) } }, (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode, text }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.write(body.slice(0, 10), () => sent());
      // The rest of the body comes after close() was called.
      void headersSent.then(() => setTimeout(() => req.end(body.slice(10)), 200));
    });
    await headersSent;
    await new Promise((r) => setTimeout(r, 50));
    const closed = s.close();
    const r = await response;
    assert.equal(r.status, 200, r.text);
    assert.equal((JSON.parse(r.text) as { predictions: unknown[] }).predictions.length, 2);
    await closed;
    await assert.rejects(fetch(s.url), 'no longer listening');
  });
});

describe('serving: request batching', () => {
  const req = (rows: number, width = 2): BatchRequest => ({ inputs: [strata.ones([rows, width])], rows });

  it('requests that wait while a call runs go together into the next call, and get their own rows', async () => {
    const calls: number[][] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const batcher = new Batcher(async ([x]) => {
      calls.push(x.shape as number[]);
      if (calls.length === 1) await gate;
      // One output: the row index within the batch, so each request can check which rows it got.
      return [Array.from({ length: x.shape[0] as number }, (_, i) => i)];
    }, 8);
    const first = batcher.submit(req(1));
    const waiting = [batcher.submit(req(2)), batcher.submit(req(3)), batcher.submit(req(1, 5)), batcher.submit(req(4))];
    release();
    const [r0, r1, r2, r3, r4] = await Promise.all([first, ...waiting]);
    // Call 1: the lone first request. Call 2: 2 + 3 rows (same example shape; the next 4 would exceed 8).
    // Call 3: the request with a different example shape. Call 4: the 4 rows left.
    assert.deepEqual(calls, [[1, 2], [5, 2], [1, 5], [4, 2]]);
    assert.deepEqual([r0, r1, r2, r3, r4], [[[0]], [[0, 1]], [[2, 3, 4]], [[0]], [[0, 1, 2, 3]]]);
    assert.deepEqual(batcher.stats, { batches: 4, requests: 5, rows: 11 });
  });

  it("a request that fails a shared call does not fail the others: each is retried on its own", async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let calls = 0;
    const batcher = new Batcher(async ([x]) => {
      if (calls++ === 0) await gate;
      const values = Array.from(x.dataSync());
      if (values.includes(99)) throw new Error('index 99 out of range');
      return [Array.from({ length: x.shape[0] as number }, (_, i) => values[i * 2])];
    }, 8);
    const row = (v: number): BatchRequest => ({ inputs: [strata.tensor([[v, v]])], rows: 1 });
    const first = batcher.submit(row(1));
    const [good, bad, alsoGood] = [batcher.submit(row(2)), batcher.submit(row(99)), batcher.submit(row(3))].map((p) => p.then((v) => ({ ok: v }), (e: Error) => ({ error: e.message })));
    release();
    assert.deepEqual(await first, [[1]]);
    assert.deepEqual(await good, { ok: [[2]] });
    assert.deepEqual(await bad, { error: 'index 99 out of range' });
    assert.deepEqual(await alsoGood, { ok: [[3]] });
  });

  it('a model output without the batch dimension is an error for its requests, not a crash', async () => {
    const batcher = new Batcher(async () => [5 as unknown as unknown[]], 8);
    await assert.rejects(batcher.submit(req(2)), /outputs must have the batch dimension first \(2 rows\); got a scalar/);
  });

  it('a failing call fails its own requests only', async () => {
    let n = 0;
    const batcher = new Batcher(async ([x]) => {
      if (n++ === 0) throw new Error('boom');
      return [Array.from({ length: x.shape[0] as number }, () => 1)];
    }, 8);
    await assert.rejects(batcher.submit(req(1)), /boom/);
    assert.deepEqual(await batcher.submit(req(2)), [[1, 1]]);
  });
});

describe('serving: JSON with non-finite numbers', () => {
  it('parseJson reads NaN/Infinity/-Infinity tokens but leaves strings alone; stringifyJson writes them', () => {
    assert.deepEqual(parseJson('{"a": [NaN, -Infinity, 1e3], "s": "NaN and \\"Infinity\\"", "t": Infinity}'), { a: [Number.NaN, -Infinity, 1000], s: 'NaN and "Infinity"', t: Infinity });
    assert.throws(() => parseJson('{"a": [Nope]}'), SyntaxError);
    assert.throws(() => parseJson('{"a": NaN'), SyntaxError);
    assert.equal(stringifyJson({ p: [[Number.NaN, Infinity, -Infinity, 0.5, -0]], s: 'x"y', b: true, n: null }), '{"p":[[NaN,Infinity,-Infinity,0.5,0]],"s":"x\\"y","b":true,"n":null}');
  });
});

describe('serving: JSON request decoding', () => {
  const sig: ServingSignature = { specs: [new strata.TensorSpec([null, 2, null], 'int32', 'ids')], inputNames: ['ids'], outputNames: ['out'] };

  it('keeps the dtype, accepts null dims, and rejects ragged or mismatched examples with their index', () => {
    const ok = decodePredictRequest({ instances: [[[1, 2, 3], [4, 5, 6]], [[7, 8, 9], [1, 1, 1]]] }, sig);
    assert.equal(ok.inputs[0].dtype, 'int32');
    assert.deepEqual(ok.inputs[0].shape, [2, 2, 3]);
    assert.deepEqual(ok.inputs[0].arraySync(), [[[1, 2, 3], [4, 5, 6]], [[7, 8, 9], [1, 1, 1]]]);
    assert.throws(() => decodePredictRequest({ instances: [[[1, 2], [3]]] }, sig), /instances\[0\]: a ragged list/);
    assert.throws(() => decodePredictRequest({ instances: [[[1], [2]], [[1, 2], [3, 4]]] }, sig), /instances\[1\]: every instance must have the same shape/);
    assert.throws(() => decodePredictRequest({ instances: [[{ b64: 'AA==' }]] }, sig), /b64.*not supported/);
    assert.deepEqual(decodePredictRequest({ instances: [{ ids: [[1], [2]] }] }, sig).inputs[0].shape, [1, 2, 1], 'a named single input');
  });
});
