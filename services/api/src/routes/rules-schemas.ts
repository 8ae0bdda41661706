import { auditRuleSchema, RULE_CHANGE_ACTIONS, API_ROLES } from '@walaudit/core';
import { z } from 'zod';

/** The answers of the rules and retention routes (their OpenAPI and their serialization). */

const ruleChange = z.object({
  id: z.string().describe('Change id; the `change` member of its walaudit.action entry'),
  action: z.enum(RULE_CHANGE_ACTIONS as [string, ...string[]]),
  table: z.string().describe('schema.table'),
  days: z.number().int().optional().describe('retention-set: days kept, 0 forever'),
  by: z.string(),
  role: z.enum(API_ROLES as [string, ...string[]]),
  at: z.string().describe('ISO 8601 UTC'),
  entryId: z.string().optional().describe('The entry the table was named through'),
});

const tableOverride = z.object({
  table: z.string(),
  mode: z.enum(['exclude', 'watch']).optional(),
  retentionDays: z.number().int().optional(),
});

export const rulesList = z.object({
  configRules: z.array(auditRuleSchema).describe('From the config file, first match wins'),
  overrides: z.array(tableOverride).describe('Run-time changes in effect: each is ahead of the config rules for its table'),
  history: z.array(ruleChange.extend({ pending: z.boolean().describe('Recorded, and the pipeline has not reached it yet') })).describe('Every change, oldest first'),
});

export const changeAnswer = z.object({
  change: ruleChange,
  overrides: z.array(tableOverride),
});

export const retentionList = z.object({
  defaultDays: z.number().int(),
  tables: z.array(
    z.object({
      table: z.string(),
      days: z.number().int().nullable().describe('Days the next entries are kept (0 forever); null: not audited'),
      from: z.enum(['override', 'rule', 'default']),
      rule: z.object({ index: z.number().int(), tables: z.array(z.string()) }).optional().describe('The config rule, when it decides'),
    }),
  ),
});
