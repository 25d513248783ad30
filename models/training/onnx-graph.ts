// The ONNX graphs of a trained model, built from its ModelParams with standard ONNX operators (default domain and
// ai.onnx.ml), and read back into ModelParams (for the parity scorer). `model.onnx` computes `probabilities`,
// `explain.onnx` computes `contributions`. Both share a front end whose cost grows with the tokens of a row, not
// with the vocabulary V:
//   tokens [N,T] ─LabelEncoder→ token ids (unknown tokens and padding get M+1) → the term id (0..V−1, V = none) of
//   the unigram, bigram and trigram starting at each position (unigrams through a token→term table; longer n-grams
//   by the integer key id₁·B + id₂ [·B + id₃], B = M+2, through LabelEncoder) → keep positions holding a term
//   (Compress) → sort row·(V+1) + term (TopK): each (row, term) is one run, its length the count c →
//   value = (1 + ln c)·idf (sublinear tf-idf) → per (row, block) Σ value² by ScatterND-add → norm = max(√·, 1).
// model.onnx:   decision_f = Σ_b Σ value·coef_f / norm_b + intercept_f (double precision) → per fold isotonic
//               P_f = y0_f + Σ_k slope_fk·(min(max(decision, x_fk), x_f,k+1) − x_fk) → [1 − mean P, mean P].
// explain.onnx: contributions[n, term] = value · mean_f coef_f / norm_block, scattered into [N,V].
// A block norm is 0 or ≥ 1 (tf ≥ 1 and idf ≥ 1 for a present term), so max(norm, 1) is exactly scikit-learn's
// "leave an all-zero row alone". A sentinel key N·(V+1) (row N, dropped at the end) keeps the sort input
// non-empty. The graphs contain no timestamps or random ids: the same params give the same bytes.
import { AttributeType, DataType, decodeModel, encodeModel, type OnnxAttribute, type OnnxModel, type OnnxNode, type OnnxTensor, type OnnxValueInfo } from './onnx-proto.js';
import { meanCoefficients, type ModelParams } from '../scorer.js';
import { compareCodePoints } from './tfidf.js';

export const OPSET = 17;
/** LabelEncoder (string/int64 → int64 lookup, keys as tensors since opset 4) is an ONNX-ML operator in every ONNX Runtime build. */
export const ML_DOMAIN = 'ai.onnx.ml';
export const ML_OPSET = 4;
export const IR_VERSION = 8;
export const PRODUCER = 'gym-sentiment-guard';
/** Bumped when the graph layout changes. */
export const GRAPH_FORMAT = '2';

export interface GraphInfo {
  modelName: string;
  version: string;
}

function doubleTensor(name: string, dims: number[], values: ArrayLike<number>): OnnxTensor {
  const buf = new Uint8Array(values.length * 8);
  const view = new DataView(buf.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat64(i * 8, values[i]!, true);
  return { name, dims, data_type: DataType.DOUBLE, raw_data: buf };
}

function int64Tensor(name: string, values: ArrayLike<number>, dims = [values.length]): OnnxTensor {
  const buf = new Uint8Array(values.length * 8);
  const view = new DataView(buf.buffer);
  for (let i = 0; i < values.length; i++) view.setBigInt64(i * 8, BigInt(values[i]!), true);
  return { name, dims, data_type: DataType.INT64, raw_data: buf };
}

function boolTensor(name: string, values: boolean[]): OnnxTensor {
  return { name, dims: [values.length], data_type: DataType.BOOL, raw_data: Uint8Array.from(values, (v) => (v ? 1 : 0)) };
}

function readInt64(t: OnnxTensor): number[] {
  const raw = t.raw_data!;
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  return Array.from({ length: raw.byteLength / 8 }, (_, i) => Number(view.getBigInt64(i * 8, true)));
}

function readDouble(t: OnnxTensor): Float64Array {
  const raw = t.raw_data!;
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const out = new Float64Array(raw.byteLength / 8);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat64(i * 8, true);
  return out;
}

const int = (name: string, value: number): OnnxAttribute => ({ name, type: AttributeType.INT, i: value });
const ints = (name: string, values: number[]): OnnxAttribute => ({ name, type: AttributeType.INTS, ints: values });
const str = (name: string, value: string): OnnxAttribute => ({ name, type: AttributeType.STRING, s: value });
const tensorAttr = (name: string, t: OnnxTensor): OnnxAttribute => ({ name, type: AttributeType.TENSOR, t });

function tensorInfo(name: string, elemType: number, dims: (number | string)[]): OnnxValueInfo {
  return { name, type: { tensor_type: { elem_type: elemType, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) } } } };
}

/** Graph construction: nodes get sequential names, so the output is deterministic. */
class GraphBuilder {
  nodes: OnnxNode[] = [];
  initializers: OnnxTensor[] = [];
  private consts = new Set<string>();

  op(opType: string, inputs: string[], output: string | string[], attribute?: OnnxAttribute[], domain?: string): string {
    const outputs = typeof output === 'string' ? [output] : output;
    this.nodes.push({ input: inputs, output: outputs, name: `${opType}_${this.nodes.length}`, op_type: opType, ...(attribute ? { attribute } : {}), ...(domain ? { domain } : {}) });
    return outputs[0]!;
  }

  init(t: OnnxTensor): string {
    this.initializers.push(t);
    return t.name;
  }

  /** A shared int64 constant: a vector, or a scalar when `scalar`. */
  i64(values: number[], scalar = false): string {
    const name = `i64${scalar ? 's' : ''}_${values.join('_').replace(/-/g, 'm')}`;
    if (!this.consts.has(name)) {
      this.consts.add(name);
      this.init(int64Tensor(name, values, scalar ? [] : [values.length]));
    }
    return name;
  }
}

/** Column layout of the params: tokens of every term, its block, the token vocabulary and the key base. */
interface Layout {
  V: number;
  B: number;
  F: number;
  maxN: number;
  termTokens: string[][];
  blockOf: number[];
  /** Sorted token vocabulary; token id = index + 1. */
  tokens: string[];
  tokenId: Map<string, number>;
  /** Id of unknown tokens and padding (M+1); the key base is M+2, so no digit of a key is 0. */
  unknown: number;
  base: number;
}

function layout(params: ModelParams): Layout {
  const termTokens: string[][] = [];
  const blockOf: number[] = [];
  const set = new Set<string>();
  let maxN = 1;
  params.blocks.forEach((block, b) => {
    for (const term of block.terms) {
      const tokens = term.split(' ');
      termTokens.push(tokens);
      blockOf.push(b);
      for (const t of tokens) set.add(t);
      if (tokens.length > maxN) maxN = tokens.length;
    }
  });
  const tokens = [...set].sort(compareCodePoints);
  const base = tokens.length + 2;
  if (base ** maxN > Number.MAX_SAFE_INTEGER) throw new Error(`token vocabulary too large for int64 ${maxN}-gram keys (${tokens.length} tokens)`);
  return { V: termTokens.length, B: params.blocks.length, F: params.intercept.length, maxN, termTokens, blockOf, tokens, tokenId: new Map(tokens.map((t, i) => [t, i + 1])), unknown: tokens.length + 1, base };
}

interface FrontEnd {
  /** [1] batch size N. */
  n: string;
  /** [U] row (0..N, N = sentinel), term and block of each (row, term) pair; [U,2] (row, block) index. */
  row: string;
  term: string;
  rowBlock: string;
  /** [U] sublinear tf-idf value of each pair (double). */
  value: string;
  /** [N,B] guarded block norms (double). */
  norm: string;
  oneD: string;
  /** Zeros [N+1, ...dims] of a type, and dropping the sentinel row. */
  zeros(dims: number[], out: string, type?: 'double' | 'float'): string;
  dropSentinel(x: string, out: string): string;
}

/** The shared front end (see the file header). */
function frontEnd(g: GraphBuilder, params: ModelParams, L: Layout): FrontEnd {
  const { V } = L;
  g.op('LabelEncoder', ['tokens'], 'token_id', [
    { name: 'keys_strings', type: AttributeType.STRINGS, strings: L.tokens },
    tensorAttr('values_tensor', int64Tensor('', L.tokens.map((_, i) => i + 1))),
    tensorAttr('default_tensor', int64Tensor('', [L.unknown])),
  ], ML_DOMAIN);
  const padded = g.op('Pad', ['token_id', g.i64([0, 0, 0, L.maxN - 1]), g.i64([L.unknown], true)], 'token_id_padded');
  // position[k] = id of the token k places after each start position ([N,T]).
  const position = Array.from({ length: L.maxN }, (_, k) =>
    g.op('Slice', [padded, g.i64([k]), g.i64([k === L.maxN - 1 ? Number.MAX_SAFE_INTEGER : k - (L.maxN - 1)]), g.i64([1])], `token_id_at_${k}`),
  );
  const unigramTable = new Array<number>(L.base).fill(V);
  const longKeys: number[] = [];
  const longIds: number[] = [];
  L.termTokens.forEach((tokens, column) => {
    if (tokens.length === 1) {
      unigramTable[L.tokenId.get(tokens[0]!)!] = column;
    } else {
      let key = 0;
      for (const t of tokens) key = key * L.base + L.tokenId.get(t)!;
      longKeys.push(key);
      longIds.push(column);
    }
  });
  const termIds = [g.op('Gather', [g.init(int64Tensor('token_to_term', unigramTable)), position[0]!], 'unigram_term')];
  if (L.maxN > 1) {
    const keys: string[] = [];
    const base = g.i64([L.base], true);
    let key = position[0]!;
    for (let k = 1; k < L.maxN; k++) keys.push((key = g.op('Add', [g.op('Mul', [key, base], `key_${k + 1}_shifted`), position[k]!], `key_${k + 1}`)));
    const all = keys.length === 1 ? keys[0]! : g.op('Concat', keys, 'ngram_keys', [int('axis', 1)]);
    termIds.push(g.op('LabelEncoder', [all], 'ngram_term', [
      tensorAttr('keys_tensor', int64Tensor('', longKeys)),
      tensorAttr('values_tensor', int64Tensor('', longIds)),
      tensorAttr('default_tensor', int64Tensor('', [V])),
    ], ML_DOMAIN));
  }
  const ids = termIds.length === 1 ? termIds[0]! : g.op('Concat', termIds, 'term_at', [int('axis', 1)]);

  // Each (row, term) once with its count: the runs of the sorted row·(V+1) + term keys.
  const stride = g.i64([V + 1], true);
  const n = g.op('Gather', [g.op('Shape', [ids], 'term_at_shape'), g.i64([0])], 'batch_size');
  const rows = g.op('Range', [g.i64([0], true), g.op('Squeeze', [n], 'batch_size_scalar'), g.i64([1], true)], 'rows');
  const rowTerm = g.op('Add', [ids, g.op('Mul', [g.op('Unsqueeze', [rows, g.i64([1])], 'rows_col'), stride], 'row_offset')], 'row_term');
  const present = g.op('Reshape', [g.op('Less', [ids, g.i64([V], true)], 'is_term'), g.i64([-1])], 'is_term_flat');
  const hits = g.op('Compress', [g.op('Reshape', [rowTerm, g.i64([-1])], 'row_term_flat'), present], 'row_term_hits', [int('axis', 0)]);
  const keys = g.op('Concat', [hits, g.op('Mul', [n, stride], 'sentinel')], 'row_term_keys', [int('axis', 0)]);
  const total = g.op('Shape', [keys], 'key_count');
  const sorted = g.op('TopK', [keys, total], ['sorted_keys', 'sorted_order'], [int('largest', 0), int('sorted', 1), int('axis', 0)]);
  const tail = (x: string, out: string) => g.op('Slice', [x, g.i64([1]), g.i64([Number.MAX_SAFE_INTEGER]), g.i64([0])], out);
  const head = (x: string, out: string) => g.op('Slice', [x, g.i64([0]), g.i64([-1]), g.i64([0])], out);
  const changed = g.op('Not', [g.op('Equal', [tail(sorted, 'sorted_next'), head(sorted, 'sorted_prev')], 'same_as_prev')], 'run_changes');
  const starts = g.op('Squeeze', [g.op('NonZero', [g.op('Concat', [g.init(boolTensor('true_1', [true])), changed], 'run_start_mask', [int('axis', 0)])], 'run_start_nz'), g.i64([0])], 'run_start');
  const count = g.op('Sub', [g.op('Concat', [tail(starts, 'run_next_start'), total], 'run_end', [int('axis', 0)]), starts], 'pair_count');
  const pair = g.op('Gather', [sorted, starts], 'pair');
  const row = g.op('Div', [pair, stride], 'pair_row');
  const term = g.op('Sub', [pair, g.op('Mul', [row, stride], 'pair_row_offset')], 'pair_term');

  g.init(doubleTensor('idf', [V], params.idf));
  g.init(int64Tensor('term_block', L.blockOf));
  const oneD = g.init(doubleTensor('one_d', [], [1]));
  const tf = g.op('Add', [g.op('Log', [g.op('Cast', [count], 'pair_count_d', [int('to', DataType.DOUBLE)])], 'pair_log_count'), oneD], 'pair_tf');
  const value = g.op('Mul', [tf, g.op('Gather', ['idf', term], 'pair_idf')], 'pair_value');
  const rowBlock = g.op('Concat', [g.op('Unsqueeze', [row, g.i64([1])], 'pair_row_col'), g.op('Unsqueeze', [g.op('Gather', ['term_block', term], 'pair_block'), g.i64([1])], 'pair_block_col')], 'pair_row_block', [int('axis', 1)]);

  const rowsPlusOne = g.op('Add', [n, g.i64([1])], 'rows_plus_one');
  const zeros = (dims: number[], out: string, type: 'double' | 'float' = 'double') =>
    g.op('ConstantOfShape', [g.op('Concat', [rowsPlusOne, g.i64(dims)], `${out}_shape`, [int('axis', 0)])], out, [
      tensorAttr('value', type === 'double' ? doubleTensor('', [1], [0]) : { name: '', dims: [1], data_type: DataType.FLOAT, raw_data: new Uint8Array(4) }),
    ]);
  const dropSentinel = (x: string, out: string) => head(x, out);
  const norm2 = dropSentinel(g.op('ScatterND', [zeros([L.B], 'zeros_nb'), rowBlock, g.op('Mul', [value, value], 'pair_value_sq')], 'block_norm_sq_all', [str('reduction', 'add')]), 'block_norm_sq');
  const norm = g.op('Max', [g.op('Sqrt', [norm2], 'block_norm'), oneD], 'block_norm_guarded');
  return { n, row, term, rowBlock, value, norm, oneD, zeros, dropSentinel };
}

function finishModel(g: GraphBuilder, name: string, info: GraphInfo, outputs: OnnxValueInfo[], doc: string): Uint8Array {
  const model: OnnxModel = {
    ir_version: IR_VERSION,
    producer_name: PRODUCER,
    producer_version: GRAPH_FORMAT,
    doc_string: doc,
    graph: { node: g.nodes, name, initializer: g.initializers, input: [tensorInfo('tokens', DataType.STRING, ['N', 'T'])], output: outputs },
    opset_import: [{ domain: '', version: OPSET }, { domain: ML_DOMAIN, version: ML_OPSET }],
    metadata_props: [
      { key: 'model_name', value: info.modelName },
      { key: 'version', value: info.version },
    ],
  };
  return encodeModel(model);
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

/** `model.onnx`: tokens → probabilities [N,2] (P(negative), P(positive)). */
export function buildModelOnnx(params: ModelParams, info: GraphInfo): Uint8Array {
  const g = new GraphBuilder();
  const L = layout(params);
  const fe = frontEnd(g, params, L);
  // coef [V,F] and idf are kept apart (ONNX Runtime folds constant subgraphs at load), so they read back exactly.
  g.init(doubleTensor('coef', [L.V, L.F], params.coef));
  const score = g.op('Mul', [g.op('Gather', ['coef', fe.term], 'pair_coef'), g.op('Unsqueeze', [fe.value, g.i64([1])], 'pair_value_col')], 'pair_score');
  const raw = fe.dropSentinel(g.op('ScatterND', [fe.zeros([L.B, L.F], 'zeros_nbf'), fe.rowBlock, score], 'block_scores_all', [str('reduction', 'add')]), 'block_scores');
  const scaled = g.op('Div', [raw, g.op('Unsqueeze', [fe.norm, g.i64([2])], 'block_norm_3d')], 'block_scores_scaled');
  g.init(doubleTensor('intercept', [L.F], params.intercept));
  const decision = g.op('Add', [g.op('ReduceSum', [scaled, g.i64([1])], 'decision_raw', [int('keepdims', 0)]), 'intercept'], 'decision');
  isotonicNodes(g, params, decision, fe.oneD);
  return finishModel(g, 'sentiment_logreg', info, [tensorInfo('probabilities', DataType.FLOAT, ['N', 2])],
    'Calibrated TF-IDF + logistic regression (fold-averaged isotonic). Input: tokens [N,T] string, left-aligned, padded with "". Output: probabilities [N,2] = P(negative), P(positive).');
}

/** `explain.onnx`: tokens → contributions [N,V] (L2-normalised tf-idf value × fold-averaged coefficient). */
export function buildExplainOnnx(params: ModelParams, info: GraphInfo): Uint8Array {
  const g = new GraphBuilder();
  const L = layout(params);
  const fe = frontEnd(g, params, L);
  g.init(doubleTensor('coef_mean', [L.V], meanCoefficients(params)));
  const pairNorm = g.op('GatherND', [g.op('Concat', [fe.norm, g.op('ConstantOfShape', [g.i64([1, L.B])], 'sentinel_norm', [tensorAttr('value', doubleTensor('', [1], [1]))])], 'block_norm_with_sentinel', [int('axis', 0)]), fe.rowBlock], 'pair_norm');
  const contribution = g.op('Div', [g.op('Mul', [fe.value, g.op('Gather', ['coef_mean', fe.term], 'pair_coef_mean')], 'pair_contribution_raw'), pairNorm], 'pair_contribution');
  const index = g.op('Concat', [g.op('Unsqueeze', [fe.row, g.i64([1])], 'pair_row_idx'), g.op('Unsqueeze', [fe.term, g.i64([1])], 'pair_term_idx')], 'pair_row_term', [int('axis', 1)]);
  const dense = g.op('ScatterND', [fe.zeros([L.V], 'zeros_nv', 'float'), index, g.op('Cast', [contribution], 'pair_contribution_f', [int('to', DataType.FLOAT)])], 'contributions_all');
  fe.dropSentinel(dense, 'contributions');
  return finishModel(g, 'sentiment_logreg_explain', info, [tensorInfo('contributions', DataType.FLOAT, ['N', L.V])],
    'Explanations: contributions [N,V] = L2-normalised tf-idf value x fold-averaged coefficient (positive pushes towards "positive").');
}

/** Reads the parameters back from a `model.onnx` (the inverse of buildModelOnnx). */
export function readModelParams(bytes: Uint8Array): ModelParams {
  const model = decodeModel(bytes);
  const inits = new Map(model.graph.initializer.map((t) => [t.name, t]));
  const get = (name: string) => {
    const t = inits.get(name);
    if (!t) throw new Error(`model.onnx has no initializer "${name}"`);
    return t;
  };
  const attrOf = (output: string) => {
    const node = model.graph.node.find((n) => n.output.includes(output));
    if (!node) throw new Error(`model.onnx has no node producing "${output}"`);
    return (name: string) => node.attribute!.find((a) => a.name === name)!;
  };
  const tokenAttr = attrOf('token_id');
  const tokens = tokenAttr('keys_strings').strings!;
  const tokenOf = new Map(readInt64(tokenAttr('values_tensor').t!).map((v, i) => [v, tokens[i]!]));
  const base = tokens.length + 2;
  const idf = readDouble(get('idf'));
  const V = idf.length;
  const names: string[] = new Array(V);
  readInt64(get('token_to_term')).forEach((j, tid) => {
    if (j < V) names[j] = tokenOf.get(tid)!;
  });
  if (model.graph.node.some((n) => n.output.includes('ngram_term'))) {
    const attr = attrOf('ngram_term');
    const values = readInt64(attr('values_tensor').t!);
    readInt64(attr('keys_tensor').t!).forEach((key, i) => {
      const parts: string[] = [];
      for (let k = key; k > 0; k = Math.floor(k / base)) parts.unshift(tokenOf.get(k % base)!);
      names[values[i]!] = parts.join(' ');
    });
  }
  const blockOf = readInt64(get('term_block'));
  const blocks = Array.from({ length: Math.max(...blockOf) + 1 }, () => ({ terms: [] as string[] }));
  blockOf.forEach((b, j) => blocks[b]!.terms.push(names[j]!));
  const intercept = readDouble(get('intercept'));
  const F = intercept.length;
  const isoX = readDouble(get('iso_x'));
  const isoY = readDouble(get('iso_y'));
  const K = isoX.length / F;
  const isotonic = Array.from({ length: F }, (_, f) => {
    let len = 1;
    while (len < K && isoX[f * K + len]! > isoX[f * K + len - 1]!) len++;
    return { x: isoX.slice(f * K, f * K + len), y: isoY.slice(f * K, f * K + len) };
  });
  return { blocks, idf, coef: readDouble(get('coef')), intercept, isotonic };
}
