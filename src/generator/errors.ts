/** A generator option or transform that cannot work: the message names the field. */
export class GeneratorConfigError extends Error {
  constructor(
    readonly field: string,
    /** What is wrong, without the field. */
    readonly detail: string,
  ) {
    super(`${field}: ${detail}`);
    this.name = 'GeneratorConfigError';
  }
}
