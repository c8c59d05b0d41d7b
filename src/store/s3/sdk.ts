/**
 * The AWS SDK, loaded on first use: its modules cost a process about 0.3 s of start-up, which
 * every process on the filesystem store (the default) would otherwise pay for nothing.
 */
export interface S3Sdk {
  s3: typeof import('@aws-sdk/client-s3');
  storage: typeof import('@aws-sdk/lib-storage');
}

let loading: Promise<S3Sdk> | undefined;

export function loadS3Sdk(): Promise<S3Sdk> {
  loading ??= Promise.all([import('@aws-sdk/client-s3'), import('@aws-sdk/lib-storage')]).then(
    ([s3, storage]) => ({ s3, storage }),
  );
  return loading;
}
