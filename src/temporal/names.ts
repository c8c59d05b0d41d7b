/**
 * Names shared by workflows, workers and clients: the task queue and the search attributes
 * that make runs findable in the Temporal UI. Workflow-safe (no Node APIs): workflows import it.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** Every Reprise workflow and orchestrator activity runs on this task queue. */
export const TASK_QUEUE = 'reprise';

export const RepriseService = defineSearchAttributeKey('RepriseService', SearchAttributeType.KEYWORD);
export const RepriseSnapshotId = defineSearchAttributeKey('RepriseSnapshotId', SearchAttributeType.KEYWORD);
export const RepriseVerdict = defineSearchAttributeKey('RepriseVerdict', SearchAttributeType.KEYWORD);
/** `capture`, `replay` or `regression`. */
export const RepriseKind = defineSearchAttributeKey('RepriseKind', SearchAttributeType.KEYWORD);

export const SEARCH_ATTRIBUTES = [RepriseService, RepriseSnapshotId, RepriseVerdict, RepriseKind] as const;
