/**
 * Every ONNX op the project knows about, once. The pair loader, the gradient engine's static
 * passes, parameter counting and the receptive-field walk all read this table; the gradient rules
 * themselves stay in autodiff/rules.ts, one per op marked grad 'vjp'.
 */
export interface OpInfo {
  /**
   * A pair may use it: the gradient engine differentiates it and onnxruntime-web runs it on both
   * WebGPU and WASM, so HCD and the player can take any pair built from these.
   */
  pair?: true;
  /**
   * 'vjp': autodiff/rules.ts has its rule. 'none': its outputs never carry a gradient (shape
   * arithmetic, comparisons, index ops, constants). Absent: autodiff refuses it on a
   * differentiated path.
   */
  grad?: 'vjp' | 'none';
  /** Its inputs after the first are parameters (what modelStats counts). */
  weights?: true;
  /**
   * What static shape inference may assume, for every input size:
   * 'same': the output has input 0's shape (elementwise on one tensor; extra inputs broadcast into it);
   * 'broadcast': the output is the broadcast of all inputs (elementwise arithmetic);
   * 'broadcastRank': only its rank is the broadcast's (comparisons, logic, Where);
   * 'sameRank': only its rank is input 0's (spatial and channel rearrangements, pooling);
   * 'reduce': a reduction over `axes` (rank drops unless keepdims).
   * Absent: op-specific code, or unknown.
   */
  shape?: 'same' | 'broadcast' | 'broadcastRank' | 'sameRank' | 'reduce';
  /** Keeps input 0's channel count although its shape rule does not say so (the project resizes H and W only). */
  keepsChannels?: true;
  /**
   * How it moves pixels, for the receptive field: 'window' slides a kernel (Conv, ConvTranspose),
   * 'resize' interpolates, 'toSpace'/'toDepth' rearrange blocks between channels and space.
   * Absent: each output pixel depends on the same pixel of its inputs only.
   */
  spatial?: 'window' | 'resize' | 'toSpace' | 'toDepth';
}

const TABLE = {
  // --- ops a pair may use ---
  Conv: { pair: true, grad: 'vjp', weights: true, shape: 'sameRank', spatial: 'window' },
  ConvTranspose: { pair: true, grad: 'vjp', weights: true, shape: 'sameRank', spatial: 'window' },
  Relu: { pair: true, grad: 'vjp', shape: 'same' },
  LeakyRelu: { pair: true, grad: 'vjp', shape: 'same' },
  PRelu: { pair: true, grad: 'vjp', weights: true, shape: 'same' },
  Sigmoid: { pair: true, grad: 'vjp', shape: 'same' },
  Tanh: { pair: true, grad: 'vjp', shape: 'same' },
  Clip: { pair: true, grad: 'vjp', shape: 'same' },
  Add: { pair: true, grad: 'vjp', shape: 'broadcast' },
  Sub: { pair: true, grad: 'vjp', shape: 'broadcast' },
  Mul: { pair: true, grad: 'vjp', shape: 'broadcast' },
  Div: { pair: true, grad: 'vjp', shape: 'broadcast' },
  Concat: { pair: true, grad: 'vjp', shape: 'sameRank' },
  Split: { pair: true, grad: 'vjp', shape: 'sameRank' },
  Slice: { pair: true, grad: 'vjp', shape: 'sameRank' },
  Reshape: { pair: true, grad: 'vjp' },
  Transpose: { pair: true, grad: 'vjp', shape: 'sameRank' },
  DepthToSpace: { pair: true, grad: 'vjp', shape: 'sameRank', spatial: 'toSpace' },
  SpaceToDepth: { pair: true, grad: 'vjp', shape: 'sameRank', spatial: 'toDepth' },
  Pad: { pair: true, grad: 'vjp', shape: 'sameRank' },
  Resize: { pair: true, grad: 'vjp', shape: 'sameRank', keepsChannels: true, spatial: 'resize' },
  Identity: { pair: true, grad: 'vjp', shape: 'same' },
  Constant: { pair: true, grad: 'none' },
  Round: { pair: true, grad: 'vjp', shape: 'same' },

  // --- differentiable, for training and loss graphs ---
  Exp: { grad: 'vjp', shape: 'same' },
  Log: { grad: 'vjp', shape: 'same' },
  Atan: { grad: 'vjp', shape: 'same' },
  Sqrt: { grad: 'vjp', shape: 'same' },
  Abs: { grad: 'vjp', shape: 'same' },
  Neg: { grad: 'vjp', shape: 'same' },
  Floor: { grad: 'vjp', shape: 'same' },
  Cast: { grad: 'vjp', shape: 'same' },
  Pow: { grad: 'vjp', shape: 'broadcast' },
  Expand: { grad: 'vjp' },
  Flatten: { grad: 'vjp' },
  Squeeze: { grad: 'vjp' },
  Unsqueeze: { grad: 'vjp' },
  ReduceSum: { grad: 'vjp', shape: 'reduce' },
  ReduceMean: { grad: 'vjp', shape: 'reduce' },
  MatMul: { grad: 'vjp', weights: true },
  Gemm: { grad: 'vjp', weights: true },

  // --- never carry a gradient ---
  Shape: { grad: 'none' },
  Size: { grad: 'none' },
  ConstantOfShape: { grad: 'none' },
  Equal: { grad: 'none', shape: 'broadcastRank' },
  Greater: { grad: 'none', shape: 'broadcastRank' },
  Less: { grad: 'none', shape: 'broadcastRank' },
  GreaterOrEqual: { grad: 'none', shape: 'broadcastRank' },
  LessOrEqual: { grad: 'none', shape: 'broadcastRank' },
  And: { grad: 'none', shape: 'broadcastRank' },
  Or: { grad: 'none', shape: 'broadcastRank' },
  Xor: { grad: 'none' },
  Not: { grad: 'none', shape: 'sameRank' },
  Sign: { grad: 'none', shape: 'same' },
  NonZero: { grad: 'none' },
  ArgMax: { grad: 'none' },
  ArgMin: { grad: 'none' },
  Range: { grad: 'none' },
  IsNaN: { grad: 'none' },
  IsInf: { grad: 'none' },
  RandomNormal: { grad: 'none' },
  RandomUniform: { grad: 'none' },
  RandomNormalLike: { grad: 'none' },
  RandomUniformLike: { grad: 'none' },
  EyeLike: { grad: 'none' },

  // --- shapes known, no gradient rule ---
  Ceil: { shape: 'same' },
  Reciprocal: { shape: 'same' },
  Elu: { shape: 'same' },
  Selu: { shape: 'same' },
  HardSigmoid: { shape: 'same' },
  Softplus: { shape: 'same' },
  Erf: { shape: 'same' },
  Sin: { shape: 'same' },
  Cos: { shape: 'same' },
  Sum: { shape: 'broadcast' },
  Max: { shape: 'broadcast' },
  Min: { shape: 'broadcast' },
  Where: { shape: 'broadcastRank' },
  Softmax: { shape: 'sameRank' },
  MaxPool: { shape: 'sameRank' },
  AveragePool: { shape: 'sameRank' },
  BatchNormalization: { shape: 'sameRank' },
  InstanceNormalization: { shape: 'sameRank' },
  Upsample: { shape: 'sameRank' },
  ReduceMax: { shape: 'reduce' },
  ReduceMin: { shape: 'reduce' },
  ReduceProd: { shape: 'reduce' },
  ReduceL2: { shape: 'reduce' },
  ReduceSumSquare: { shape: 'reduce' },
} satisfies Record<string, OpInfo>;

/** A Map, so that an op named like an Object property ('constructor') is simply unknown. */
const OPS: ReadonlyMap<string, OpInfo> = new Map(Object.entries(TABLE));

export function opInfo(op: string): OpInfo | undefined {
  return OPS.get(op);
}

/** The ops for which `test` holds. */
export function opsWhere(test: (info: OpInfo) => boolean): ReadonlySet<string> {
  return new Set([...OPS].filter(([, info]) => test(info)).map(([op]) => op));
}

/** Whether the output keeps input 0's channel count (axis 1). */
export function keepsChannels(info: OpInfo | undefined): boolean {
  return !!info && (info.shape === 'same' || info.shape === 'broadcast' || !!info.keepsChannels);
}
