/** An op on the path from a wrt tensor to the loss that the gradient engine has no rule for. */
export class UnsupportedOpError extends Error {
  constructor(
    readonly opType: string,
    readonly nodeName: string,
    detail?: string,
  ) {
    super(`autodiff: no gradient for ${opType} node '${nodeName}'${detail ? `: ${detail}` : ''}`);
    this.name = 'UnsupportedOpError';
  }
}
