/** Errors the store raises besides SnapshotNotFoundError (which lives with the interface). */

export class InvalidSnapshotIdError extends Error {
  constructor(readonly snapshotId: string) {
    super(
      `invalid snapshot id ${JSON.stringify(snapshotId)}: use 1-128 characters from A-Z a-z 0-9 . _ -, ` +
        `starting with a letter or digit and without ".."`,
    );
    this.name = 'InvalidSnapshotIdError';
  }
}

export class SnapshotExistsError extends Error {
  constructor(readonly snapshotId: string) {
    super(`snapshot "${snapshotId}" already exists; snapshots are immutable, choose another id`);
    this.name = 'SnapshotExistsError';
  }
}

/** A sealed snapshot whose files cannot be read as written (edited, damaged, wrong version). */
export class CorruptSnapshotError extends Error {
  constructor(
    readonly snapshotId: string,
    detail: string,
  ) {
    super(`snapshot "${snapshotId}": ${detail}`);
    this.name = 'CorruptSnapshotError';
  }
}
