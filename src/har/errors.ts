/** A HAR document that cannot be imported; the message starts with the JSON path at fault. */
export class HarFormatError extends Error {
  constructor(
    readonly path: string,
    detail: string,
  ) {
    super(path ? `${path}: ${detail}` : detail);
    this.name = 'HarFormatError';
  }
}
