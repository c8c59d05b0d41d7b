import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
/** The package version, read from package.json next to dist/ and the sources alike. */
export const version: string = (() => {
  for (const candidate of ['../../package.json', '../package.json']) {
    try {
      return (require(candidate) as { version: string }).version;
    } catch {
      // try the next layout
    }
  }
  return '0.0.0';
})();
