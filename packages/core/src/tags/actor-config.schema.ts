import { z } from 'zod';
import type { TagLimits } from './sqlcommenter.js';

/**
 * The `actor` section of the configuration (see config.schema.ts): how the sqlcommenter tags of a
 * statement (`/*user='alice',traceparent='00-...'*\/` at its end) are read into the entry's actor.
 * docs/configuration.md documents each.
 */
export const actorConfigSchema = z
  .object({
    /**
     * Tags whose value becomes the actor's app user (`actor.app.user`) when the transaction's
     * withAuditContext named none; the first of them the statement carries wins. Empty: tags never
     * name the user.
     */
    appUserFromTags: z.array(z.string().min(1)).default([]),
    /** Most tags one statement's comment may hold; a comment with more gives no tags at all. */
    tagsMaxCount: z.number().int().min(1).max(256).default(32),
    /**
     * Longest tag comment read, in characters; a longer one gives no tags. At most 4096: for a
     * statement longer than that, the trigger records only its first and last 4096 characters.
     */
    tagsMaxLength: z.number().int().min(16).max(4096).default(2048),
  })
  .strict()
  .prefault({});

export type ActorConfig = z.output<typeof actorConfigSchema>;

/** What the decoder needs of the section. */
export interface ActorTagOptions {
  limits: TagLimits;
  appUserFromTags: readonly string[];
}

export const DEFAULT_ACTOR_TAG_OPTIONS: ActorTagOptions = { limits: { maxCount: 32, maxLength: 2048 }, appUserFromTags: [] };

export function actorTagOptions(config: ActorConfig): ActorTagOptions {
  return { limits: { maxCount: config.tagsMaxCount, maxLength: config.tagsMaxLength }, appUserFromTags: config.appUserFromTags };
}
