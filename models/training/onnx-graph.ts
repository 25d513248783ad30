// The ONNX graphs of a trained model, built from its ModelParams with standard ai.onnx operators only, and read back
// into ModelParams (for the parity scorer). `model.onnx` computes `probabilities`; `explain.onnx` computes
// `contributions`. Both start the same way:
//   tokens [N,T] string ─TfIdfVectorizer(TF, 1..3-grams)→ counts [N,V] ─Log(Max(c,1))+Min(c,1)→ tf (sublinear)
// model.onnx:  norms² = (tf·tf) × (indicator·idf²) [N,B];  raw = tf × (indicator ⊗ coef·idf) [N,B·F]
//              decision[n,f] = Σ_b raw[n,b,f] / max(‖·‖_b, 1) + intercept_f   (double from here on)
//              P_f = y0_f + Σ_k slope_fk · (min(max(decision, x_fk), x_f,k+1) − x_fk)   (isotonic, clipped)
//              probabilities = [1 − mean_f P_f, mean_f P_f]
// explain.onnx: contributions = tf · idf · mean_f coef / max(‖·‖_block, 1)
// A block norm is 0 or ≥ 1 (tf ≥ 1 and idf ≥ 1 for a present term), so max(norm, 1) is exactly scikit-learn's
// "leave an all-zero row alone". The graphs contain no timestamps or random ids: same params, same bytes.
import { DataType, AttributeType, decodeModel, encodeModel, type OnnxAttribute, type OnnxModel, type OnnxNode, type OnnxTensor, type OnnxValueInfo } from './onnx-proto.js';
import type { ModelParams } from '../scorer.js';
import { compareCodePoints } from './tfidf.js';

export const OPSET = 17;
/** LabelEncoder (string/int64 → int64 lookup) is an ONNX-ML operator; every ONNX Runtime build has it. */
export const ML_DOMAIN = 'ai.onnx.ml';
export const ML_OPSET = 2;
export const IR_VERSION = 8;
export const PRODUCER = 'gym-sentiment-guard';
/** Bumped when the graph layout changes. */
export const GRAPH_FORMAT = '1';

export interface GraphInfo {
  modelName: string;
  version: string;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

function floatTensor(name: string, dims: number[], values: ArrayLike<number>): OnnxTensor {
  const buf = new Uint8Array(values.length * 4);
  const view = new DataView(buf.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i]!, true);
  return { name, dims, data_type: DataType.FLOAT, raw_data: buf };
}

function doubleTensor(name: string, dims: number[], values: ArrayLike<number>): OnnxTensor {
  const buf = new Uint8Array(values.length * 8);
  const view = new DataView(buf.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat64(i * 8, values[i]!, true);
  return { name, dims, data_type: DataType.DOUBLE, raw_data: buf };
}

function int64Tensor(name: string, values: number[]): OnnxTensor {
  const buf = new Uint8Array(values.length * 8);
  const view = new DataView(buf.buffer);
  values.forEach((v, i) => view.setBigInt64(i * 8, BigInt(v), true));
  return { name, dims: [values.length], data_type: DataType.INT64, raw_data: buf };
}

function readInt64(t: OnnxTensor): number[] {
  const raw = t.raw_data!;
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  return Array.from({ length: raw.byteLength / 8 }, (_, i) => Number(view.getBigInt64(i * 8, true)));
}

function readTensor(t: OnnxTensor): Float64Array {
  const raw = t.raw_data!;
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const size = t.data_type === DataType.DOUBLE ? 8 : 4;
  const out = new Float64Array(raw.byteLength / size);
  for (let i = 0; i < out.length; i++) out[i] = size === 8 ? view.getFloat64(i * 8, true) : view.getFloat32(i * 4, true);
  return out;
}

const ints = (name: string, values: number[]): OnnxAttribute => ({ name, type: AttributeType.INTS, ints: values });
const int = (name: string, value: number): OnnxAttribute => ({ name, type: AttributeType.INT, i: value });
const str = (name: string, value: string): OnnxAttribute => ({ name, type: AttributeType.STRING, s: enc.encode(value) });

function tensorInfo(name: string, elemType: number, dims: (number | string)[]): OnnxValueInfo {
  return { name, type: { tensor_type: { elem_type: elemType, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) } } } };
}

/** Graph construction: nodes get sequential names, so the output is deterministic. */
class GraphBuilder {
  nodes: OnnxNode[] = [];
  initializers: OnnxTensor[] = [];
  private consts = new Map<string, string>();

  op(opType: string, inputs: string[], output: string, attribute?: OnnxAttribute[], domain?: string): string {
    this.nodes.push({ input: inputs, output: [output], name: `${opType}_${this.nodes.length}`, op_type: opType, ...(attribute ? { attribute } : {}), ...(domain ? { domain } : {}) });
    return output;
  }

  init(t: OnnxTensor): string {
    this.initializers.push(t);
    return t.name;
  }

  /** A shared int64 vector constant (axes, shapes, slice bounds). */
  i64(values: number[]): string {
    const key = values.join('_').replace(/-/g, 'm');
    const name = `i64_${key}`;
    if (!this.consts.has(name)) this.consts.set(name, this.init(int64Tensor(name, values)));
    return name;
  }

  /** A shared int64 scalar constant. */
  i64Scalar(value: number): string {
    const name = `i64_scalar_${String(value).replace(/-/g, 'm')}`;
    if (!this.consts.has(name)) this.consts.set(name, this.init({ ...int64Tensor(name, [value]), dims: [] }));
    return name;
  }
}

/** Pool layout of the TfIdfVectorizer: n-grams grouped by n, each group in column order. */
function ngramPool(params: ModelParams): { pool: string[]; counts: number[]; indexes: number[]; maxN: number } {
  const byN = new Map<number, { column: number; tokens: string[] }[]>();
  let column = 0;
  for (const block of params.blocks) {
    for (const term of block.terms) {
      const tokens = term.split(' ');
      if (!byN.has(tokens.length)) byN.set(tokens.length, []);
      byN.get(tokens.length)!.push({ column: column++, tokens });
    }
  }
  const maxN = Math.max(1, ...byN.keys());
  const pool: string[] = [];
  const counts: number[] = [];
  const indexes: number[] = [];
  for (let n = 1; n <= maxN; n++) {
    counts.push(pool.length);
    for (const g of byN.get(n) ?? []) {
      pool.push(...g.tokens);
      indexes.push(g.column);
    }
  }
  return { pool, counts, indexes, maxN };
}

function vocabularySize(params: ModelParams): number {
  return params.blocks.reduce((s, b) => s + b.terms.length, 0);
}

/** counts → sublinear tf, shared by both graphs. Returns the tf tensor name. */
function tfNodes(g: GraphBuilder, params: ModelParams): string {
  const { pool, counts, indexes, maxN } = ngramPool(params);
  g.op('TfIdfVectorizer', ['tokens'], 'counts', [
    str('mode', 'TF'),
    int('min_gram_length', 1),
    int('max_gram_length', maxN),
    int('max_skip_count', 0),
    ints('ngram_counts', counts),
    ints('ngram_indexes', indexes),
    { name: 'pool_strings', type: AttributeType.STRINGS, strings: pool.map((s) => enc.encode(s)) },
  ]);
  const one = g.init(floatTensor('one_f', [], [1]));
  const lg = g.op('Log', [g.op('Max', ['counts', one], 'counts_max1')], 'log_counts');
  return g.op('Add', [lg, g.op('Min', ['counts', one], 'counts_min1')], 'tf');
}

function blockIndicator(params: ModelParams): Float64Array {
  const B = params.blocks.length;
  const ind = new Float64Array(vocabularySize(params) * B);
  let j = 0;
  params.blocks.forEach((block, b) => {
    for (let k = 0; k < block.terms.length; k++) ind[j++ * B + b] = 1;
  });
  return ind;
}

/** Common initializers: idf [V], block indicator [V,B], per-fold coefficients [V,F]. */
function parameterInits(g: GraphBuilder, params: ModelParams): void {
  const V = vocabularySize(params);
  g.init(floatTensor('idf', [V], params.idf));
  g.init(floatTensor('block_indicator', [V, params.blocks.length], blockIndicator(params)));
  g.init(floatTensor('coef', [V, params.intercept.length], params.coef));
}

function finishModel(g: GraphBuilder, name: string, info: GraphInfo, outputs: OnnxValueInfo[], doc: string): Uint8Array {
  const model: OnnxModel = {
    ir_version: IR_VERSION,
    producer_name: PRODUCER,
    producer_version: GRAPH_FORMAT,
    doc_string: doc,
    graph: {
      node: g.nodes,
      name,
      initializer: g.initializers,
      input: [tensorInfo('tokens', DataType.STRING, ['N', 'T'])],
      output: outputs,
    },
    opset_import: [{ domain: '', version: OPSET }, { domain: ML_DOMAIN, version: ML_OPSET }],
    metadata_props: [
      { key: 'model_name', value: info.modelName },
      { key: 'version', value: info.version },
    ],
  };
  return encodeModel(model);
}

/** Token vocabulary (every token of every term, sorted) and, per block, the lookup keys of its terms. */
function tokenIds(params: ModelParams): { tokens: string[]; id: Map<string, number>; unknown: number; base: number } {
  const set = new Set<string>();
  for (const block of params.blocks) for (const term of block.terms) for (const t of term.split(' ')) set.add(t);
  const tokens = [...set].sort(compareCodePoints);
  const id = new Map(tokens.map((t, i) => [t, i + 1]));
  return { tokens, id, unknown: tokens.length + 1, base: tokens.length + 2 };
}

/**
 * The int64 key of a term: its token ids as digits in base M+2. Known tokens are 1..M and unknown tokens (and
 * padding) M+1, so no digit is 0: a key has one length, and any key with an unknown token matches no term.
 */
function termKey(term: string, id: Map<string, number>, base: number): number {
  let key = 0;
  for (const t of term.split(' ')) key = key * base + id.get(t)!;
  return key;
}

/**
 * `model.onnx`: tokens → probabilities [N,2] (P(negative), P(positive)). The per-row work is proportional to the
 * tokens of the row, not to the vocabulary:
 *   token ids (LabelEncoder; unknown tokens and padding get M+1) → the term id (0..V−1, V = none) of the unigram,
 *   bigram and trigram starting at every position (unigrams through a token→term table; longer n-grams by integer
 *   key id₁·B + id₂ [·B + id₃] through LabelEncoder) → keep the positions holding a term (Compress) → Unique over
 *   row·(V+1) + term gives each (row, term) once with its count c → value = (1 + ln c)·idf (sublinear tf-idf) →
 *   ScatterND-add per (row, block): Σ value² and Σ value·coef_f → decision_f = Σ_b raw_bf / max(√Σ value², 1)
 *   + intercept_f (double precision throughout) → isotonic per fold → mean.
 */
export function buildModelOnnx(params: ModelParams, info: GraphInfo): Uint8Array {
  const g = new GraphBuilder();
  const F = params.intercept.length;
  const B = params.blocks.length;
  const V = vocabularySize(params);
  const { tokens, id, unknown, base } = tokenIds(params);
  if (base ** 3 > Number.MAX_SAFE_INTEGER) throw new Error(`token vocabulary too large for int64 trigram keys (${tokens.length})`);
  g.op('LabelEncoder', ['tokens'], 'token_id', [
    { name: 'keys_strings', type: AttributeType.STRINGS, strings: tokens.map((t) => enc.encode(t)) },
    ints('values_int64s', tokens.map((_, i) => i + 1)),
    int('default_int64', unknown),
  ], ML_DOMAIN);
  const maxN = Math.max(...params.blocks.flatMap((b) => b.terms.map((t) => t.split(' ').length)), 1);
  const padded = g.op('Pad', ['token_id', g.i64([0, 0, 0, maxN - 1]), g.i64Scalar(unknown)], 'token_id_padded');
  // position[k] = id of the token k places after each start position ([N,T]).
  const position = Array.from({ length: maxN }, (_, k) =>
    g.op('Slice', [padded, g.i64([k]), g.i64([k === maxN - 1 ? Number.MAX_SAFE_INTEGER : k - (maxN - 1)]), g.i64([1])], `token_id_at_${k}`),
  );
  const keys: string[] = [position[0]!];
  const baseName = g.init(int64Tensor('key_base', [base]));
  for (let n = 2; n <= maxN; n++) keys.push(g.op('Add', [g.op('Mul', [keys[n - 2]!, baseName], `key_${n}_shifted`), position[n - 1]!], `key_${n}`));

  // Term ids per start position: unigrams through a table, longer n-grams through one LabelEncoder.
  const unigramTable = new Array<number>(base).fill(V);
  const longKeys: number[] = [];
  const longIds: number[] = [];
  const blockOf: number[] = [];
  let column = 0;
  params.blocks.forEach((block, b) => {
    for (const term of block.terms) {
      if (term.includes(' ')) {
        longKeys.push(termKey(term, id, base));
        longIds.push(column);
      } else {
        unigramTable[id.get(term)!] = column;
      }
      blockOf.push(b);
      column++;
    }
  });
  const termIds = [g.op('Gather', [g.init(int64Tensor('token_to_term', unigramTable)), position[0]!], 'unigram_term')];
  if (maxN > 1) {
    const k = g.op('Concat', keys.slice(1), 'ngram_keys', [int('axis', 1)]);
    termIds.push(g.op('LabelEncoder', [k], 'ngram_term', [ints('keys_int64s', longKeys), ints('values_int64s', longIds), int('default_int64', V)], ML_DOMAIN));
  }
  const ids = termIds.length === 1 ? termIds[0]! : g.op('Concat', termIds, 'term', [int('axis', 1)]);

  // Each (row, term) once, with its count.
  const stride = g.i64Scalar(V + 1);
  const n = g.op('Gather', [g.op('Shape', [ids], 'term_shape'), g.i64([0])], 'batch_size');
  const rows = g.op('Range', [g.i64Scalar(0), g.op('Squeeze', [n], 'batch_size_scalar'), g.i64Scalar(1)], 'rows');
  const rowTerm = g.op('Add', [ids, g.op('Mul', [g.op('Unsqueeze', [rows, g.i64([1])], 'rows_col'), stride], 'row_offset')], 'row_term');
  const present = g.op('Reshape', [g.op('Less', [ids, g.i64Scalar(V)], 'is_term'), g.i64([-1])], 'is_term_flat');
  const hits = g.op('Compress', [g.op('Reshape', [rowTerm, g.i64([-1])], 'row_term_flat'), present], 'row_term_hits', [int('axis', 0)]);
  g.nodes.push({ input: [hits], output: ['pair', 'pair_first', 'pair_inverse', 'pair_count'], name: `Unique_${g.nodes.length}`, op_type: 'Unique', attribute: [int('sorted', 1)] });
  const row = g.op('Div', ['pair', stride], 'pair_row');
  const term = g.op('Sub', ['pair', g.op('Mul', [row, stride], 'pair_row_offset')], 'pair_term');

  // Sublinear tf-idf value of each pair, and its per-fold score contribution.
  g.init(doubleTensor('idf', [V], params.idf));
  g.init(doubleTensor('coef', [V, F], params.coef));
  g.init(int64Tensor('term_block', blockOf));
  const oneD = g.init(doubleTensor('one_d', [], [1]));
  const tf = g.op('Add', [g.op('Log', [g.op('Cast', ['pair_count'], 'pair_count_d', [int('to', DataType.DOUBLE)])], 'pair_log_count'), oneD], 'pair_tf');
  const value = g.op('Mul', [tf, g.op('Gather', ['idf', term], 'pair_idf')], 'pair_value');
  const contribution = g.op('Mul', [g.op('Gather', ['coef', term], 'pair_coef'), g.op('Unsqueeze', [value, g.i64([1])], 'pair_value_col')], 'pair_score');
  const index = g.op('Concat', [g.op('Unsqueeze', [row, g.i64([1])], 'pair_row_col'), g.op('Unsqueeze', [g.op('Gather', ['term_block', term], 'pair_block'), g.i64([1])], 'pair_block_col')], 'pair_index', [int('axis', 1)]);
  const zeros = (dims: number[], out: string) =>
    g.op('ConstantOfShape', [g.op('Concat', [n, g.i64(dims)], `${out}_shape`, [int('axis', 0)])], out, [{ name: 'value', type: AttributeType.TENSOR, t: doubleTensor('', [1], [0]) }]);
  const add = [str('reduction', 'add')];
  const norm2 = g.op('ScatterND', [zeros([B], 'zeros_nb'), index, g.op('Mul', [value, value], 'pair_value_sq')], 'block_norm_sq', add);
  const raw = g.op('ScatterND', [zeros([B, F], 'zeros_nbf'), index, contribution], 'block_scores', add);
  const norm = g.op('Max', [g.op('Sqrt', [norm2], 'block_norm'), oneD], 'block_norm_guarded');
  const scaled = g.op('Div', [raw, g.op('Unsqueeze', [norm, g.i64([2])], 'block_norm_3d')], 'block_scores_scaled');
  g.init(doubleTensor('intercept', [F], params.intercept));
  const decision = g.op('Add', [g.op('ReduceSum', [scaled, g.i64([1])], 'decision_raw', [int('keepdims', 0)]), 'intercept'], 'decision');
  isotonicNodes(g, params, decision, oneD);
  return finishModel(g, 'sentiment_logreg', info, [tensorInfo('probabilities', DataType.FLOAT, ['N', 2])],
    'Calibrated TF-IDF + logistic regression (fold-averaged isotonic). Input: tokens [N,T] string, left-aligned, padded with "". Output: probabilities [N,2] = P(negative), P(positive).');
}

/** Isotonic calibration per fold as a clipped piecewise-linear sum over padded knots, mean over folds → probabilities. */
function isotonicNodes(g: GraphBuilder, params: ModelParams, decision: string, oneD: string): void {
  const F = params.intercept.length;
  const K = Math.max(2, ...params.isotonic.map((iso) => iso.x.length));
  const xs = new Float64Array(F * K);
  const ys = new Float64Array(F * K);
  params.isotonic.forEach((iso, f) => {
    for (let k = 0; k < K; k++) {
      const src = Math.min(k, iso.x.length - 1);
      xs[f * K + k] = iso.x[src]!;
      ys[f * K + k] = iso.y[src]!;
    }
  });
  g.init(doubleTensor('iso_x', [F, K], xs));
  g.init(doubleTensor('iso_y', [F, K], ys));
  const slice = (input: string, from: number, to: number, out: string) => g.op('Slice', [input, g.i64([from]), g.i64([to]), g.i64([1])], out);
  const lo = slice('iso_x', 0, K - 1, 'iso_lo');
  const hi = slice('iso_x', 1, K, 'iso_hi');
  const dy = g.op('Sub', [slice('iso_y', 1, K, 'iso_y_hi'), slice('iso_y', 0, K - 1, 'iso_y_lo')], 'iso_dy');
  const tiny = g.init(doubleTensor('tiny_d', [], [Number.MIN_VALUE]));
  const slope = g.op('Div', [dy, g.op('Max', [g.op('Sub', [hi, lo], 'iso_dx'), tiny], 'iso_dx_guarded')], 'iso_slope');
  const y0 = g.op('Reshape', [slice('iso_y', 0, 1, 'iso_y0_col'), g.i64([-1])], 'iso_y0');
  const d3 = g.op('Unsqueeze', [decision, g.i64([2])], 'decision_3d');
  const clipped = g.op('Min', [g.op('Max', [d3, lo], 'iso_max'), hi], 'iso_clipped');
  const rise = g.op('Mul', [g.op('Sub', [clipped, lo], 'iso_run'), slope], 'iso_rise');
  const pFold = g.op('Add', [g.op('ReduceSum', [rise, g.i64([2])], 'iso_sum', [int('keepdims', 0)]), y0], 'p_positive_fold');
  const pPos = g.op('ReduceMean', [pFold], 'p_positive', [ints('axes', [1]), int('keepdims', 1)]);
  const pNeg = g.op('Sub', [oneD, pPos], 'p_negative');
  const probs = g.op('Concat', [pNeg, pPos], 'probabilities_d', [int('axis', 1)]);
  g.op('Cast', [probs], 'probabilities', [int('to', DataType.FLOAT)]);
}

/** `explain.onnx`: tokens → contributions [N,V] (L2-normalised tf-idf value × fold-averaged coefficient). */
export function buildExplainOnnx(params: ModelParams, info: GraphInfo): Uint8Array {
  const g = new GraphBuilder();
  const V = vocabularySize(params);
  const tf = tfNodes(g, params);
  parameterInits(g, params);
  const idfCol = g.op('Unsqueeze', ['idf', g.i64([1])], 'idf_col');
  const meanCoef = g.op('ReduceMean', ['coef'], 'coef_mean', [ints('axes', [1]), int('keepdims', 1)]);
  const A = g.op('Transpose', [g.op('Mul', ['block_indicator', g.op('Mul', [meanCoef, idfCol], 'coef_mean_idf')], 'block_weights')], 'block_weights_t');
  const D = g.op('Mul', ['block_indicator', g.op('Mul', [idfCol, idfCol], 'idf_sq')], 'norm_weights');
  const norm2 = g.op('MatMul', [g.op('Mul', [tf, tf], 'tf_sq'), D], 'block_norm_sq');
  const one = 'one_f';
  const norm = g.op('Max', [g.op('Sqrt', [norm2], 'block_norm'), one], 'block_norm_guarded');
  const scale = g.op('MatMul', [g.op('Div', [one, norm], 'inv_norm'), A], 'column_scale');
  g.op('Mul', [tf, scale], 'contributions');
  return finishModel(g, 'sentiment_logreg_explain', info, [tensorInfo('contributions', DataType.FLOAT, ['N', V])],
    'Explanations: contributions [N,V] = L2-normalised tf-idf value x fold-averaged coefficient (positive pushes towards "positive").');
}

/** Reads the parameters back from a `model.onnx` (the inverse of buildModelOnnx). */
export function readModelParams(bytes: Uint8Array): ModelParams {
  const model = decodeModel(bytes);
  const inits = new Map(model.graph.initializer.map((t) => [t.name, t]));
  const get = (name: string) => {
    const t = inits.get(name);
    if (!t) throw new Error(`model.onnx has no initializer "${name}"`);
    return { dims: t.dims.map(Number), values: readTensor(t) };
  };
  const producing = (output: string) => {
    const node = model.graph.node.find((n) => n.output.includes(output));
    if (!node) throw new Error(`model.onnx has no node producing "${output}"`);
    return (name: string) => node.attribute!.find((a) => a.name === name)!;
  };
  const tokenAttr = producing('token_id');
  const tokens = tokenAttr('keys_strings').strings!.map((s) => dec.decode(s));
  const tokenOf = new Map(tokenAttr('values_int64s').ints!.map((v, i) => [Number(v), tokens[i]!]));
  const base = tokens.length + 2;
  const idf = get('idf').values;
  const V = idf.length;
  const names: string[] = new Array(V);
  readInt64(inits.get('token_to_term')!).forEach((j, tid) => {
    if (j < V) names[j] = tokenOf.get(tid)!;
  });
  if (model.graph.node.some((n) => n.output.includes('ngram_term'))) {
    const attr = producing('ngram_term');
    const values = attr('values_int64s').ints!.map(Number);
    attr('keys_int64s').ints!.forEach((key, i) => {
      const parts: string[] = [];
      for (let k = Number(key); k > 0; k = Math.floor(k / base)) parts.unshift(tokenOf.get(k % base)!);
      names[values[i]!] = parts.join(' ');
    });
  }
  const blockOf = readInt64(inits.get('term_block')!);
  const blocks = Array.from({ length: Math.max(...blockOf) + 1 }, () => ({ terms: [] as string[] }));
  blockOf.forEach((b, j) => blocks[b]!.terms.push(names[j]!));
  const intercept = get('intercept').values;
  const F = intercept.length;
  const isoX = get('iso_x');
  const isoY = get('iso_y');
  const K = isoX.dims[1]!;
  const isotonic = Array.from({ length: F }, (_, f) => {
    let len = 1;
    while (len < K && isoX.values[f * K + len]! > isoX.values[f * K + len - 1]!) len++;
    return { x: isoX.values.slice(f * K, f * K + len), y: isoY.values.slice(f * K, f * K + len) };
  });
  return { blocks, idf, coef: get('coef').values, intercept, isotonic };
}
